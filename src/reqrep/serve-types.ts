/** What a request server (./server.ts) is given, what it reports per request, and what a handler is. */
import type { Message } from '../ring/ring.js';
import type { ServedRequest } from './served-request.js';
import type { RequestHeader } from './wire.js';

export interface ServeOptions {
  /** The group to serve as (default "requests"); created if missing. */
  readonly group?: string;
  /** Requests handled at once (default 1): one member of the group each. */
  readonly concurrency?: number;
  /** Stops serving when it aborts: no new request is taken; unanswered ones go to another server. */
  readonly signal?: AbortSignal;
  /** Called once per request taken, when it is done with. */
  readonly onEvent?: (event: ServeEvent) => void;
}

/** What happened to one request. */
export interface ServeEvent {
  readonly sequence: number;
  readonly correlation: number;
  /** The client's pid. */
  readonly pid: number;
  readonly deliveries: number;
  /**
   * replied / error: a reply (or an error reply) was sent; expired: its deadline passed, nothing
   * sent; given-up: delivered twice before, answered "given up"; no-client: its client is gone;
   * dropped: the handler dropped it; not-a-request: a message of another kind, finished unread.
   */
  readonly outcome: 'replied' | 'error' | 'expired' | 'given-up' | 'no-client' | 'dropped' | 'not-a-request';
  /** Bytes of the request, and of the reply sent (0 when none). */
  readonly bytes: number;
  readonly replyBytes: number;
  /** ms from taking the request to being done with it. */
  readonly ms: number;
  /** The error reply's text (outcome error). */
  readonly error?: string;
}

export type RequestHandler = (request: ServedRequest) => Promise<Uint8Array | string | void> | Uint8Array | string | void;

/** The event of one request taken at `started` (performance.now()) and done with now. */
export function serveEvent(
  message: Message,
  header: RequestHeader | undefined,
  outcome: ServeEvent['outcome'],
  started: number,
  replyBytes: number,
  error?: string,
): ServeEvent {
  return {
    sequence: message.sequence,
    correlation: header?.correlation ?? 0,
    pid: message.pid,
    deliveries: message.deliveries,
    outcome,
    bytes: message.data.length,
    replyBytes: outcome === 'replied' || outcome === 'error' ? replyBytes : 0,
    ms: performance.now() - started,
    ...(error === undefined || outcome !== 'error' ? {} : { error }),
  };
}
