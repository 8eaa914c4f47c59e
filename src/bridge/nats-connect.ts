/**
 * Connecting to NATS and finding the stream, with one-line errors: a first connection that
 * fails is an error at once (exit 8); once connected, the client reconnects on its own for as
 * long as the bridge runs, and the bridge shows `reconnecting` meanwhile.
 */
import { AuthorizationError, connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError, jetstreamManager, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { EngineConfigError, EngineUnavailableError } from '../errors.js';
import type { NatsTarget } from './engine-url.js';
import { expectEngine } from './engine-probe.js';
import { RetryableError, type BridgeRuntime } from './runtime.js';

/** How long a first connection, and each JetStream request, may take. */
export const NATS_TIMEOUT_MS = 5000;
const NATS_DEFAULT_PORT = 4222;

export interface NatsSession {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly target: NatsTarget;
}

export async function connectNats(target: NatsTarget, name: string, runtime: BridgeRuntime | undefined): Promise<NatsSession> {
  // One server: make sure it is NATS before the client waits 5 s for a greeting that never comes.
  if (target.servers.length === 1) {
    const url = new URL(target.servers[0]!);
    await expectEngine('nats', { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? NATS_DEFAULT_PORT : Number(url.port) }, target.display, NATS_TIMEOUT_MS);
  }
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: target.servers,
      name: `mmapipc bridge ${name}`,
      user: target.user,
      pass: target.pass,
      token: target.token,
      authenticator: target.creds ? credsAuthenticator(target.creds) : undefined,
      timeout: NATS_TIMEOUT_MS,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 5000,
      maxPingOut: 2,
    });
  } catch (error) {
    throw connectionError(target, error);
  }
  if (runtime) watchStatus(nc, runtime);
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc, { timeout: NATS_TIMEOUT_MS });
  } catch (error) {
    await nc.close().catch(() => {});
    throw new EngineConfigError(`JetStream is not available: ${(error as Error).message} (start nats-server with -js)`, { subject: target.display, cause: error });
  }
  return { nc, jsm, target };
}

function connectionError(target: NatsTarget, error: unknown): EngineUnavailableError {
  const message = (error as Error).message ?? String(error);
  if (error instanceof AuthorizationError) {
    const given = target.user !== undefined || target.token !== undefined || target.creds !== undefined ? 'refused the credentials' : 'wants credentials and none were given';
    return new EngineUnavailableError(`the server ${given} (${oneLine(message)}); set them in NATS_URL (nats://USER:PASSWORD@host:port), or pass --creds FILE`, {
      subject: target.display,
      cause: error,
    });
  }
  return new EngineUnavailableError(`cannot connect: ${oneLine(message)}`, { subject: target.display, cause: error });
}

/** A server's message, whole, on one line. */
function oneLine(message: string): string {
  return message.replace(/\s*\r?\n\s*/g, ' ').trim();
}

/** Mirrors connection events into the bridge's state. */
function watchStatus(nc: NatsConnection, runtime: BridgeRuntime): void {
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        runtime.counters.reconnects++;
        runtime.setState('reconnecting');
      } else if (status.type === 'reconnect') {
        runtime.event('reconnected', { server: status.server });
      }
    }
  })().catch(() => {});
}

/** The stream's info, or an EngineConfigError when it does not exist. */
export async function streamInfo(session: NatsSession, stream: string): Promise<StreamInfo | undefined> {
  try {
    return await session.jsm.streams.info(stream);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === API_STREAM_NOT_FOUND) return undefined;
    throw retryableOrFatal(error, session.target.display);
  }
}

/** JetStream API error codes the bridge acts on. */
export const API_STREAM_NOT_FOUND = 10059;
export const API_WRONG_LAST_SEQUENCE = 10071;
export const API_NO_MESSAGE_FOUND = 10037;
const API_FULL = new Set([10077 /* maximum messages */, 10078 /* maximum bytes */, 10047 /* insufficient resources */, 10028 /* account resources exceeded */]);
const API_TOO_LARGE = 10054;

/**
 * Sorts a JetStream failure: a full stream and lost connections are ridden out (RetryableError),
 * a broken chain resynced, anything else ends the bridge with a one-line error.
 */
export function retryableOrFatal(error: unknown, subject: string): Error {
  if (error instanceof JetStreamApiError) {
    if (API_FULL.has(error.code)) return new RetryableError('full', `the stream is full (${error.message})`, { cause: error });
    if (error.code === API_WRONG_LAST_SEQUENCE) return new RetryableError('conflict', error.message, { cause: error });
    if (error.code === API_STREAM_NOT_FOUND) return new EngineConfigError(`the stream went away (${error.message})`, { subject, cause: error });
    if (error.code === API_TOO_LARGE) return new EngineConfigError(`the stream refused a message as too large (${error.message})`, { subject, cause: error });
    return new EngineConfigError(`JetStream refused: ${error.message} (code ${error.code})`, { subject, cause: error });
  }
  if (error instanceof AuthorizationError) return new EngineUnavailableError(`authorization: ${error.message}`, { subject, cause: error });
  return new RetryableError('disconnected', (error as Error).message ?? String(error), { cause: error });
}

/** Does the NATS subject `subject` fall under the stream subject `filter` (with * and >)? */
export function subjectMatches(filter: string, subject: string): boolean {
  const want = filter.split('.');
  const have = subject.split('.');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '>') return have.length > i;
    if (i >= have.length) return false;
    if (want[i] !== '*' && want[i] !== have[i]) return false;
  }
  return want.length === have.length;
}
