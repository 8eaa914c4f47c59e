/**
 * Ring -> Redis Streams. Each chunk of messages goes in with one Lua script that, atomically,
 * appends the messages the stream does not have yet (XADD) and records the last ring sequence
 * stored, with the ring's incarnation, in a companion hash (`<key>:mmapipc-export`, one field
 * per ring). A restarted bridge, or a script the client re-sends after a reconnect, skips what
 * is recorded there: nothing is stored twice, whatever the downtime. A chunk whose predecessor
 * is not stored is refused (MMAPIPC-GAP), so ring order survives a failure in the pipeline.
 * The script declares itself (`#!lua`) so that an out-of-memory server refuses it whole before
 * it runs: never half a chunk.
 *
 * Each entry: `data` (the message bytes), `mmapipc` ("<ring> <incarnation> <sequence> <pid>
 * <sentAt>"), and `via` for a message the ring had imported from elsewhere.
 */
import type { Redis } from 'ioredis';
import { EngineConfigError } from '../errors.js';
import type { ExportSink, Outgoing } from './export-loop.js';
import { keyType, redisFailure } from './redis-connect.js';
import type { RingOrigin } from './ring-attach.js';
import type { BridgeRuntime } from './runtime.js';

/** KEYS: stream, companion. ARGV: ring, incarnation, maxlen (''), previous sequence, then 4 per message. */
const EXPORT_SCRIPT = `#!lua
local stored = redis.call('HGET', KEYS[2], ARGV[1])
local last = -1
if stored then
  local incarnation, sequence = string.match(stored, '^(%S+) (%-?%d+)$')
  if incarnation == ARGV[2] then last = tonumber(sequence) end
end
if last < tonumber(ARGV[4]) then
  return redis.error_reply('MMAPIPC-GAP the stream holds ring sequence ' .. tostring(last) .. ', this chunk follows ' .. ARGV[4])
end
local lastText = nil
local lastId = ''
local added = 0
for base = 5, #ARGV, 4 do
  local sequence = tonumber(ARGV[base])
  if sequence > last then
    local fields = {'data', ARGV[base + 1], 'mmapipc', ARGV[base + 2]}
    if ARGV[base + 3] ~= '' then
      fields[5] = 'via'
      fields[6] = ARGV[base + 3]
    end
    if ARGV[3] == '' then
      lastId = redis.call('XADD', KEYS[1], '*', unpack(fields))
    else
      lastId = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', unpack(fields))
    end
    last = sequence
    lastText = ARGV[base]
    added = added + 1
  end
end
if lastText then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ' ' .. lastText) end
return {added, lastId}
`;

type ExportCommand = (stream: string, companion: string, ...args: Array<string | Buffer>) => Promise<[number, string]>;

export interface RedisExportPlan {
  readonly key: string;
  readonly companion: string;
  readonly keyExists: boolean;
  readonly length: number;
}

export function companionKey(key: string): string {
  return `${key}:mmapipc-export`;
}

export async function prepareRedisExport(redis: Redis, key: string, createStream: boolean, subject: string): Promise<RedisExportPlan> {
  let type: string;
  try {
    type = await keyType(redis, key);
  } catch (error) {
    throw redisFailure(error, subject);
  }
  if (type === 'none' && !createStream) {
    throw new EngineConfigError(`key '${key}' does not exist; create the stream, or pass --create-stream (the first message creates it)`, { subject });
  }
  if (type !== 'none' && type !== 'stream') throw new EngineConfigError(`key '${key}' holds a ${type}, not a stream`, { subject });
  return { key, companion: companionKey(key), keyExists: type === 'stream', length: type === 'stream' ? await redis.xlen(key) : 0 };
}

export class RedisExportSink implements ExportSink {
  readonly #redis: Redis;
  readonly #origin: RingOrigin;
  readonly #plan: RedisExportPlan;
  readonly #batch: number;
  readonly #maxlen: string;
  readonly #runtime: BridgeRuntime;
  readonly #subject: string;
  /** The last ring sequence the stream holds, as of the last resync or store (-1: none). */
  #stored = -1;

  constructor(redis: Redis, origin: RingOrigin, plan: RedisExportPlan, options: { batch: number; maxlen: number | undefined; subject: string }, runtime: BridgeRuntime) {
    this.#redis = redis;
    this.#origin = origin;
    this.#plan = plan;
    this.#batch = options.batch;
    this.#maxlen = options.maxlen === undefined ? '' : String(options.maxlen);
    this.#subject = options.subject;
    this.#runtime = runtime;
    redis.defineCommand('mmapipcExport', { numberOfKeys: 2, lua: EXPORT_SCRIPT });
  }

  async resync(): Promise<number> {
    let stored: string | null;
    try {
      stored = await this.#redis.hget(this.#plan.companion, this.#origin.identity);
    } catch (error) {
      throw redisFailure(error, this.#subject);
    }
    const match = stored === null ? null : /^(\S+) (-?\d+)$/.exec(stored);
    this.#stored = match && match[1] === this.#origin.incarnation ? Number(match[2]) : -1;
    return this.#stored;
  }

  async store(messages: readonly Outgoing[]): Promise<void> {
    const command = (this.#redis as unknown as { mmapipcExport: ExportCommand }).mmapipcExport.bind(this.#redis);
    const calls: Array<Promise<[number, string]>> = [];
    let previous = this.#stored;
    for (let start = 0; start < messages.length; start += this.#batch) {
      const chunk = messages.slice(start, start + this.#batch);
      const args: Array<string | Buffer> = [this.#origin.identity, this.#origin.incarnation, this.#maxlen, String(previous)];
      for (const message of chunk) {
        args.push(
          String(message.sequence),
          message.data,
          `${this.#origin.identity} ${this.#origin.incarnation} ${message.sequence} ${message.pid} ${message.sentAt}`,
          message.via ?? '',
        );
      }
      calls.push(command(this.#plan.key, this.#plan.companion, ...args));
      previous = chunk[chunk.length - 1]!.sequence;
    }
    const results = await Promise.allSettled(calls);
    let added = 0;
    for (const result of results) {
      if (result.status === 'rejected') throw redisFailure(result.reason, this.#subject);
      added += result.value[0];
      if (result.value[1] !== '') this.#runtime.counters.enginePosition = String(result.value[1]);
    }
    this.#runtime.counters.duplicatesSuppressed += messages.length - added;
    this.#stored = previous;
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}
