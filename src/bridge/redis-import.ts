/**
 * Redis Streams -> ring. Reads entries after the cursor's ID with XRANGE (exclusive start) in
 * the same MULTI as XINFO STREAM, so each batch comes with the stream's `entries-added` at
 * that instant. No consumer group, no acknowledgement: the position is the bridge's cursor.
 *
 * Counting what retention removed: the cursor also keeps `ordinal`, how many entries the
 * stream had ever been given up to its position. Whenever the bridge has caught up with the
 * stream, ordinal must equal entries-added; what is missing was removed (MAXLEN, XTRIM, XDEL)
 * before it was read, and is reported as lost. (Redis before 7.0 has no entries-added: nothing
 * is counted then.) Each entry's `data` field is the message.
 */
import type { Redis } from 'ioredis';
import { EngineConfigError } from '../errors.js';
import type { Cursor } from './files.js';
import type { ImportSource, Incoming, IncomingBatch } from './import-loop.js';
import { ENTRY_ID, compareIds, keyType, redisFailure, replyObject } from './redis-connect.js';

export type RedisStartAt = { readonly kind: 'from-start' } | { readonly kind: 'new' } | { readonly kind: 'id'; readonly id: string };

export interface RedisImportPlan {
  readonly key: string;
  readonly position: string;
  readonly ordinal: number | undefined;
  readonly from: 'cursor' | RedisStartAt['kind'];
  readonly lastId: string;
  readonly length: number;
}

const NO_ENTRY = '0-0';

interface StreamState {
  readonly lastId: string;
  readonly length: number;
  readonly entriesAdded: number | undefined;
}

async function streamState(redis: Redis, key: string, subject: string): Promise<StreamState> {
  let info: Record<string, unknown>;
  try {
    info = replyObject(await redis.xinfo('STREAM', key));
  } catch (error) {
    throw redisFailure(error, subject);
  }
  return stateOf(info);
}

function stateOf(info: Record<string, unknown>): StreamState {
  const added = info['entries-added'];
  return { lastId: String(info['last-generated-id']), length: Number(info.length), entriesAdded: added === undefined ? undefined : Number(added) };
}

export async function prepareRedisImport(redis: Redis, key: string, cursor: Cursor | undefined, start: RedisStartAt, subject: string): Promise<RedisImportPlan> {
  let type: string;
  try {
    type = await keyType(redis, key);
  } catch (error) {
    throw redisFailure(error, subject);
  }
  if (type === 'none') throw new EngineConfigError(`key '${key}' does not exist`, { subject });
  if (type !== 'stream') throw new EngineConfigError(`key '${key}' holds a ${type}, not a stream`, { subject });
  const state = await streamState(redis, key, subject);
  let position: string;
  let ordinal: number | undefined;
  if (cursor !== undefined) {
    if (!ENTRY_ID.test(cursor.position)) throw new EngineConfigError(`the cursor's position '${cursor.position}' is not a stream entry ID`);
    if (compareIds(cursor.position, state.lastId) > 0) {
      throw new EngineConfigError(
        `the cursor is at entry ${cursor.position} but key '${key}' ends at ${state.lastId}: the stream was re-created; remove the cursor file to start over`,
        { subject },
      );
    }
    position = cursor.position;
    ordinal = cursor.ordinal;
  } else if (start.kind === 'from-start') {
    position = NO_ENTRY;
    ordinal = 0;
  } else if (start.kind === 'new') {
    position = state.lastId;
    ordinal = state.entriesAdded;
  } else {
    position = start.id;
    ordinal = undefined; // learnt the first time the bridge catches up
  }
  return { key, position, ordinal, from: cursor !== undefined ? 'cursor' : start.kind, lastId: state.lastId, length: state.length };
}

export class RedisImportSource implements ImportSource {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #subject: string;
  #position: string;
  #ordinal: number | undefined;
  /** For --once: the last entry ID when the bridge started. */
  readonly #target: string;
  #caughtUp = false;

  constructor(redis: Redis, plan: RedisImportPlan, subject: string) {
    this.#redis = redis;
    this.#key = plan.key;
    this.#subject = subject;
    this.#position = plan.position;
    this.#ordinal = plan.ordinal;
    this.#target = plan.lastId;
  }

  caughtUp(): boolean {
    return this.#caughtUp || compareIds(this.#position, this.#target) >= 0;
  }

  async next(max: number, waitMs: number): Promise<IncomingBatch> {
    let replies: Array<[Error | null, unknown]> | null;
    try {
      replies = await this.#redis.multi().xrangeBuffer(this.#key, `(${this.#position}`, '+', 'COUNT', max).xinfo('STREAM', this.#key).exec();
    } catch (error) {
      throw redisFailure(error, this.#subject);
    }
    if (replies === null) throw redisFailure(new Error('the transaction was aborted'), this.#subject);
    for (const [error] of replies) if (error) throw redisFailure(error, this.#subject);
    const entries = replies[0]![1] as Array<[Buffer, Buffer[]]>;
    const state = stateOf(replyObject(replies[1]![1]));
    const messages: Incoming[] = [];
    for (const [id, fields] of entries) {
      const position = id.toString('latin1');
      const data = fieldOf(fields, 'data');
      if (data === undefined) {
        throw new EngineConfigError(
          `key '${this.#key}' entry ${position} has no 'data' field (the bridge imports each entry's 'data'); the cursor stays before it`,
          { subject: this.#subject },
        );
      }
      const origin = fieldOf(fields, 'mmapipc')?.toString('latin1');
      messages.push({
        position,
        data,
        fromRing: origin ? origin.slice(0, origin.indexOf(' ') >>> 0) : undefined,
        ordinal: this.#ordinal === undefined ? undefined : this.#ordinal + messages.length + 1,
      });
    }
    const last = messages.length > 0 ? messages[messages.length - 1]!.position : this.#position;
    let lost = 0;
    // Caught up: the batch reaches the stream's last ID, or there is nothing after the position.
    if (messages.length === 0 || compareIds(last, state.lastId) >= 0) {
      this.#caughtUp = true;
      if (state.entriesAdded !== undefined) {
        if (this.#ordinal !== undefined) lost = Math.max(0, state.entriesAdded - this.#ordinal - messages.length);
        this.#ordinal = state.entriesAdded;
      }
      if (messages.length === 0 && compareIds(state.lastId, this.#position) > 0) this.#position = state.lastId;
    } else if (this.#ordinal !== undefined) {
      this.#ordinal += messages.length;
    }
    if (messages.length > 0) this.#position = last;
    const batch: IncomingBatch = {
      messages,
      lost,
      position: this.#position,
      ordinal: this.#ordinal,
      lag: state.entriesAdded !== undefined && this.#ordinal !== undefined ? Math.max(0, state.entriesAdded - this.#ordinal) : null,
    };
    if (messages.length === 0 && lost === 0) await this.#waitForMore(waitMs);
    return batch;
  }

  /** Sleeps in the server until an entry after the position arrives (or `waitMs` passes). */
  async #waitForMore(waitMs: number): Promise<void> {
    try {
      await this.#redis.xread('COUNT', 1, 'BLOCK', Math.max(1, Math.round(waitMs)), 'STREAMS', this.#key, this.#position);
    } catch (error) {
      throw redisFailure(error, this.#subject);
    }
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

function fieldOf(fields: Buffer[], name: string): Buffer | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i]!.toString('latin1') === name) return fields[i + 1];
  return undefined;
}
