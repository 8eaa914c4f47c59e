/**
 * Connecting to Redis, with one-line errors: a first connection that fails is an error at once
 * (exit 8); once connected, the client reconnects on its own, re-sending what was in flight
 * (the bridge's scripts are written to be safe to run twice), and the bridge shows
 * `reconnecting` meanwhile.
 */
import { Redis } from 'ioredis';
import { EngineConfigError, EngineUnavailableError } from '../errors.js';
import type { RedisTarget } from './engine-url.js';
import { expectEngine } from './engine-probe.js';
import { RetryableError, type BridgeRuntime } from './runtime.js';

export const REDIS_TIMEOUT_MS = 5000;

export async function connectRedis(target: RedisTarget, name: string, runtime: BridgeRuntime | undefined): Promise<Redis> {
  // Make sure it is Redis before the client tries to parse another protocol (TLS: the handshake comes first; not probed).
  if (!target.tls) {
    const address = target.path !== undefined ? { path: target.path } : { host: target.host!, port: target.port! };
    await expectEngine('redis', address, target.display, REDIS_TIMEOUT_MS);
  }
  const redis = new Redis({
    host: target.host,
    port: target.port,
    path: target.path,
    username: target.username,
    password: target.password,
    db: target.db,
    tls: target.tls ? {} : undefined,
    connectionName: `mmapipc-bridge-${name}`,
    connectTimeout: REDIS_TIMEOUT_MS,
    lazyConnect: true,
    // No retry for the first connection: a bad address is reported, not retried forever.
    retryStrategy: () => null,
    maxRetriesPerRequest: null,
  });
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    const cause = lastError ?? (error as Error);
    const message = cause.message.replace(/\s*\r?\n\s*/g, ' ').trim();
    if (/^(WRONGPASS|NOAUTH|NOPERM)/.test(message)) {
      const given = target.password !== undefined ? 'refused the credentials' : 'wants a password and none was given';
      throw new EngineUnavailableError(`the server ${given} (${message}); set the password in REDIS_URL (redis://:PASSWORD@host:port), or pass --creds FILE`, {
        subject: target.display,
        cause,
      });
    }
    throw new EngineUnavailableError(`cannot connect: ${message}`, { subject: target.display, cause });
  }
  redis.options.retryStrategy = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000);
  if (runtime) {
    redis.on('reconnecting', () => {
      runtime.counters.reconnects++;
      runtime.setState('reconnecting');
    });
    redis.on('ready', () => runtime.event('reconnected', { server: target.display }));
  }
  const version = /redis_version:(\d+)\.(\d+)/.exec(await redis.info('server'));
  const [major, minor] = version ? [Number(version[1]), Number(version[2])] : [0, 0];
  if (major < 6 || (major === 6 && minor < 2)) {
    redis.disconnect();
    throw new EngineConfigError(`Redis ${major}.${minor} is too old: the bridge needs 6.2 or later (exclusive stream ranges)`, { subject: target.display });
  }
  return redis;
}

/** The key's type: 'none' when it does not exist. */
export async function keyType(redis: Redis, key: string): Promise<string> {
  return redis.type(key);
}

/** Sorts a Redis failure: out of memory and lost connections are ridden out, anything else ends the bridge. */
export function redisFailure(error: unknown, subject: string): Error {
  const message = (error as Error).message ?? String(error);
  if (/^OOM\b/.test(message)) return new RetryableError('full', `Redis is out of memory (${message})`, { cause: error });
  if (/^MMAPIPC-GAP\b/.test(message)) return new RetryableError('conflict', message, { cause: error });
  if (/^(ERR|WRONGTYPE|NOPERM|NOSCRIPT|BUSY|READONLY|MISCONF|NOAUTH|WRONGPASS|EXECABORT)\b/.test(message)) {
    if (/^(BUSY|READONLY|MISCONF|LOADING)\b/.test(message)) return new RetryableError('disconnected', message, { cause: error });
    return new EngineConfigError(`Redis refused: ${message}`, { subject, cause: error });
  }
  return new RetryableError('disconnected', message, { cause: error });
}

/** XINFO STREAM's reply as an object. */
export function replyObject(reply: unknown): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) object[String(reply[i])] = reply[i + 1];
  return object;
}

/** Compares two stream entry IDs (`ms-seq`). */
export function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = splitId(a);
  const [bMs, bSeq] = splitId(b);
  return aMs !== bMs ? Math.sign(aMs - bMs) : Math.sign(aSeq - bSeq);
}

function splitId(id: string): [number, number] {
  const dash = id.indexOf('-');
  return dash < 0 ? [Number(id), 0] : [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}

export const ENTRY_ID = /^[0-9]+(-[0-9]+)?$/;
