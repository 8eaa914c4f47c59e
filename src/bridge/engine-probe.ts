/**
 * Which engine answers at an address, found before the engine's own client connects, so that a
 * URL with the wrong port gets an error of our own wording at once instead of the client's
 * parser complaint or a 5-second timeout. The probe connects, sends `PING\r\n` and reads the
 * first bytes: a NATS server speaks first, with `INFO {`; a Redis server answers the PING in
 * RESP (`+PONG`, or `-NOAUTH ...`: its first byte is one of RESP's type markers).
 */
import { connect, type Socket } from 'node:net';
import { EngineUnavailableError } from '../errors.js';
import type { Engine } from './origin.js';

/** A TCP address or a Unix socket. */
export type ProbeAddress = { readonly host: string; readonly port: number } | { readonly path: string };

export type ProbeAnswer =
  | { readonly kind: 'nats' }
  | { readonly kind: 'redis' }
  /** Something else answered: its first bytes, printable. */
  | { readonly kind: 'other'; readonly excerpt: string }
  /** Connected, but nothing came back within the time allowed (or the peer closed without a word). */
  | { readonly kind: 'silent'; readonly closed: boolean };

/** RESP2 and RESP3 type markers: the first byte of any Redis reply. */
const RESP_MARKERS = new Set('+-$*:%_,#(!=|~>'.split(''));
const NATS_GREETING = 'INFO ';

/** Sorts the first bytes a server sent (after our PING). */
export function classifyGreeting(bytes: Buffer): ProbeAnswer {
  const text = bytes.toString('latin1');
  if (text.startsWith(NATS_GREETING)) return { kind: 'nats' };
  if (text.length > 0 && RESP_MARKERS.has(text[0]!)) return { kind: 'redis' };
  const line = text.split(/\r?\n/)[0]!.replace(/[^\x20-\x7e]/g, '.');
  return { kind: 'other', excerpt: line.length > 40 ? `${line.slice(0, 40)}...` : line };
}

/**
 * Connects to `address` and sorts its first answer. A connection that fails throws
 * EngineUnavailableError (`cannot connect: ...`, with the system's reason).
 */
export function probeEngine(address: ProbeAddress, display: string, timeoutMs: number): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = 'path' in address ? connect({ path: address.path }) : connect({ host: address.host, port: address.port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (answer: ProbeAnswer | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (answer instanceof Error) reject(answer);
      else resolve(answer);
    };
    const timer = setTimeout(() => finish(received.length > 0 ? classifyGreeting(received) : { kind: 'silent', closed: false }), timeoutMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // Five bytes tell NATS's "INFO " from anything else; one is enough for RESP.
      if (received.length >= NATS_GREETING.length || RESP_MARKERS.has(String.fromCharCode(received[0]!))) finish(classifyGreeting(received));
    });
    socket.once('end', () => finish(received.length > 0 ? classifyGreeting(received) : { kind: 'silent', closed: true }));
    socket.once('error', (error) => {
      if (received.length > 0) finish(classifyGreeting(received));
      else finish(new EngineUnavailableError(`cannot connect: ${error.message}`, { subject: display, cause: error }));
    });
  });
}

const ENGINE_NAME: Record<Engine, string> = { nats: 'NATS', redis: 'Redis' };

/**
 * Throws our own one-line error unless `expected` answered: "not a NATS server (it answered
 * like Redis)", and so on (exit 8, as for any server that cannot be used as the engine).
 */
export async function expectEngine(expected: Engine, address: ProbeAddress, display: string, timeoutMs: number): Promise<void> {
  const answer = await probeEngine(address, display, timeoutMs);
  if (answer.kind === expected) return;
  const option = `--${expected}`;
  const what = `not a ${ENGINE_NAME[expected]} server`;
  if (answer.kind === 'nats' || answer.kind === 'redis') {
    throw new EngineUnavailableError(`${what} (it answered like ${ENGINE_NAME[answer.kind]}); check the address given to ${option}`, { subject: display });
  }
  if (answer.kind === 'other') {
    throw new EngineUnavailableError(`${what} (it answered ${JSON.stringify(answer.excerpt)}); check the address given to ${option}`, { subject: display });
  }
  const silence = answer.closed ? 'it closed the connection without a word' : `it sent nothing within ${timeoutMs / 1000} s`;
  throw new EngineUnavailableError(`cannot connect: ${silence}; is this the ${ENGINE_NAME[expected]} port?`, { subject: display });
}
