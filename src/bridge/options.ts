/**
 * `mmapipc bridge export|import` options, as commander hands them over, checked and resolved
 * into one settings object per run. No engine client is loaded here: the CLI registers the
 * command with this file alone.
 */
import { UsageError } from '../errors.js';
import { DEFAULT_SLOT_SIZE, slotCountForSize } from '../layout/ring-layout.js';
import { checkBridgeName, defaultBridgeName } from './files.js';
import { credentialWarnings, engineUrl, parseNatsTarget, parseRedisTarget, redactUrl, type NatsTarget, type RedisTarget } from './engine-url.js';
import type { Engine } from './origin.js';

export interface BridgeCliOptions {
  file?: string;
  nats?: string | true;
  redis?: string | true;
  creds?: string;
  stream?: string;
  key?: string;
  subject?: string;
  createStream?: boolean;
  shared?: boolean;
  maxlen?: number;
  fromStart?: boolean;
  new?: boolean;
  startSeq?: number;
  startId?: string;
  origin?: boolean;
  name?: string;
  batch?: number;
  linger?: number;
  maxInflight?: number;
  once?: boolean;
  json?: boolean;
  verbose?: boolean;
  dryRun?: boolean;
  drainTimeout?: number;
  sync?: boolean;
  slots?: number;
  slotSize?: number;
  size?: number;
  mode?: number;
  resetState?: boolean;
  fileGroup?: number;
}

export const DEFAULT_BATCH = 500;
export const DEFAULT_MAX_INFLIGHT = 4;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

export type EngineTarget = { readonly engine: 'nats'; readonly nats: NatsTarget } | { readonly engine: 'redis'; readonly redis: RedisTarget };

export interface BridgeSettings {
  readonly direction: 'export' | 'import';
  readonly target: EngineTarget;
  /** The NATS stream or the Redis key. */
  readonly stream: string;
  readonly display: string;
  readonly name: string;
  readonly batch: number;
  readonly lingerMs: number;
  readonly maxInflight: number;
  readonly once: boolean;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly dryRun: boolean;
  readonly drainTimeoutMs: number;
  readonly sync: boolean;
  readonly origin: boolean;
  readonly subject: string | undefined;
  readonly createStream: boolean;
  readonly shared: boolean;
  readonly maxlen: number | undefined;
  readonly start: { readonly kind: 'from-start' } | { readonly kind: 'new' } | { readonly kind: 'seq'; readonly seq: number } | { readonly kind: 'id'; readonly id: string };
  readonly creation: { readonly slots?: number; readonly slotSize?: number; readonly mode?: number; readonly fileGroup?: number };
  /** Discard this bridge's stored state (cursor, status) before starting: --reset-state. */
  readonly resetState: boolean;
  /** Lines for stderr before the bridge starts (credentials given unsafely). */
  readonly warnings: readonly string[];
}

/** Options that only make sense for one engine or one direction. */
const ONLY: ReadonlyArray<{ option: keyof BridgeCliOptions; flag: string; engine?: Engine; direction?: 'export' | 'import' }> = [
  { option: 'stream', flag: '--stream', engine: 'nats' },
  { option: 'subject', flag: '--subject', engine: 'nats', direction: 'export' },
  { option: 'shared', flag: '--shared', engine: 'nats', direction: 'export' },
  { option: 'startSeq', flag: '--start-seq', engine: 'nats', direction: 'import' },
  { option: 'key', flag: '--key', engine: 'redis' },
  { option: 'maxlen', flag: '--maxlen', engine: 'redis', direction: 'export' },
  { option: 'startId', flag: '--start-id', engine: 'redis', direction: 'import' },
  { option: 'createStream', flag: '--create-stream', direction: 'export' },
  { option: 'maxInflight', flag: '--max-inflight', direction: 'export' },
  { option: 'linger', flag: '--linger', direction: 'export' },
  { option: 'fromStart', flag: '--from-start', direction: 'import' },
  { option: 'new', flag: '--new', direction: 'import' },
  { option: 'sync', flag: '--sync', direction: 'import' },
];

export function resolveSettings(direction: 'export' | 'import', options: BridgeCliOptions, env: NodeJS.ProcessEnv): BridgeSettings {
  if ((options.nats === undefined) === (options.redis === undefined)) {
    throw new UsageError(`bridge ${direction} needs exactly one engine: --nats URL (with --stream) or --redis URL (with --key)`);
  }
  const engine: Engine = options.nats !== undefined ? 'nats' : 'redis';
  for (const rule of ONLY) {
    if (options[rule.option] === undefined || options[rule.option] === false) continue;
    if (rule.engine && rule.engine !== engine) throw new UsageError(`option '${rule.flag}' is for --${rule.engine}, not --${engine}`);
    if (rule.direction && rule.direction !== direction) throw new UsageError(`option '${rule.flag}' is for bridge ${rule.direction}, not bridge ${direction}`);
  }
  if (options.origin === false && direction === 'export') throw new UsageError(`option '--no-origin' is for bridge import`);
  const stream = engine === 'nats' ? options.stream : options.key;
  if (stream === undefined || stream === '') {
    throw new UsageError(engine === 'nats' ? `bridge ${direction} --nats needs --stream NAME` : `bridge ${direction} --redis needs --key KEY`);
  }
  if (engine === 'nats' && !/^[^\s.*>]+$/.test(stream)) throw new UsageError(`option '--stream' expected a stream name without spaces, '.', '*' or '>', got '${stream}'`);
  const starts = [options.fromStart, options.new, options.startSeq !== undefined, options.startId !== undefined].filter(Boolean).length;
  if (starts > 1) throw new UsageError('give at most one of --from-start, --new, --start-seq, --start-id');
  const url = engineUrl(engine, (engine === 'nats' ? options.nats : options.redis)!, env);
  const target: EngineTarget = engine === 'nats' ? { engine, nats: parseNatsTarget(url, options.creds) } : { engine, redis: parseRedisTarget(url, options.creds) };
  const warnings = credentialWarnings(engine, (engine === 'nats' ? options.nats : options.redis)!, options.creds);
  const display = engine === 'nats' ? (target as { nats: NatsTarget }).nats.display : (target as { redis: RedisTarget }).redis.display;
  if (options.startId !== undefined && !/^[0-9]+(-[0-9]+)?$/.test(options.startId)) {
    throw new UsageError(`option '--start-id' expected a stream entry ID such as 1700000000000-0, got '${options.startId}'`);
  }
  return {
    direction,
    target,
    stream,
    display: redactUrl(display),
    name: checkBridgeName(options.name ?? defaultBridgeName(direction, engine, stream)),
    batch: options.batch ?? DEFAULT_BATCH,
    lingerMs: options.linger ?? 0,
    maxInflight: options.maxInflight ?? DEFAULT_MAX_INFLIGHT,
    once: options.once ?? false,
    json: options.json ?? false,
    verbose: options.verbose ?? false,
    dryRun: options.dryRun ?? false,
    drainTimeoutMs: options.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT_MS,
    sync: options.sync ?? false,
    origin: options.origin ?? true,
    subject: options.subject,
    createStream: options.createStream ?? false,
    shared: options.shared ?? false,
    maxlen: options.maxlen,
    start: options.new
      ? { kind: 'new' }
      : options.startSeq !== undefined
        ? { kind: 'seq', seq: options.startSeq }
        : options.startId !== undefined
          ? { kind: 'id', id: options.startId }
          : { kind: 'from-start' },
    creation: {
      slots: options.size !== undefined ? slotCountForSize(options.size, options.slotSize ?? DEFAULT_SLOT_SIZE) : options.slots,
      slotSize: options.slotSize,
      mode: options.mode,
      fileGroup: options.fileGroup,
    },
    resetState: options.resetState ?? false,
    warnings,
  };
}
