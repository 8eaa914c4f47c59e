/** Handler plumbing for a request server: a handler's return value (or throw) becomes the request's answer. */
import type { Server } from './server.js';
import type { RequestHandler } from './serve-types.js';
import type { ServedRequest } from './served-request.js';

/**
 * Runs `handler` on every request until the server stops: its return value is the reply, a
 * throw an error reply with the error's message. Up to the server's concurrency run at once.
 * Resolves once the server has stopped (rejects with what stopped it, if it failed).
 */
export function serveWith(server: Server, handler: RequestHandler): Promise<void> {
  const answer = (request: ServedRequest, reply: Uint8Array | string | void): void => {
    if (!request.answered) void request.respond(reply ?? Buffer.alloc(0)).catch(() => {});
  };
  const fail = (request: ServedRequest, error: unknown): void => {
    if (!request.answered) void request.fail(error instanceof Error ? error.message : String(error)).catch(() => {});
  };
  server.handleWith((request) => {
    let reply: ReturnType<RequestHandler>;
    try {
      reply = handler(request);
    } catch (error) {
      fail(request, error);
      return;
    }
    if (reply !== null && typeof reply === 'object' && typeof (reply as Promise<unknown>).then === 'function') {
      (reply as Promise<Uint8Array | string | void>).then(
        (value) => answer(request, value),
        (error: unknown) => fail(request, error),
      );
    } else answer(request, reply as Uint8Array | string | void);
  });
  return server.done;
}
