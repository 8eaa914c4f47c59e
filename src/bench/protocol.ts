/** What the bench orchestrator tells its worker processes, and what they answer. */
import type { SizeDistribution } from './sizes.js';

export const TRANSPORTS = ['mmapipc', 'mmapipc-batch', 'ipc', 'socket', 'fifo', 'mmapipc-copy', 'mmapipc-zero-copy'] as const;
export type Transport = (typeof TRANSPORTS)[number];
/** The transports of the 64 B and 1 KiB grid (throughput and ping-pong). */
export const GRID_TRANSPORTS: readonly Transport[] = ['mmapipc', 'mmapipc-batch', 'ipc', 'socket', 'fifo'];

/** The rows that measure mmapipc's library API: one message per call, and batches (runs of slots per claim). */
export const MMAPIPC_TRANSPORTS: readonly Transport[] = ['mmapipc', 'mmapipc-batch'];
/**
 * The library's two ways of moving messages of any size, in batches, over a ring sized in bytes
 * (format v3): copying (trySendBatch, tryReceiveBatch) and zero-copy (tryClaimBatch and commit,
 * tryView and release).
 */
export const SIZE_MMAPIPC_TRANSPORTS: readonly Transport[] = ['mmapipc-copy', 'mmapipc-zero-copy'];

export const TRANSPORT_NAMES: Record<Transport, string> = {
  mmapipc: 'mmapipc',
  'mmapipc-batch': 'mmapipc batch',
  ipc: 'child_process IPC',
  socket: 'Unix socket',
  fifo: 'named pipe',
  'mmapipc-copy': 'mmapipc copying',
  'mmapipc-zero-copy': 'mmapipc zero-copy',
};

export const MESSAGE_SIZES = [64, 1024] as const;
export const SENDER_COUNTS = [1, 4] as const;
/** Fan-out rows: consumer groups of one member each behind one sender (the quick run: FAN_OUT_QUICK). */
export const FAN_OUT_GROUPS = [1, 2, 3] as const;
export const FAN_OUT_QUICK = [1, 3] as const;
/** The message size of the fan-out rows. */
export const FAN_OUT_SIZE = 64;
/** The name of fan-out group i (0-based). */
export const fanOutGroup = (index: number): string => `g${index + 1}`;

export function sizeName(size: number | SizeDistribution): string {
  if (typeof size === 'string') return size;
  if (size >= 1024 * 1024 && size % (1024 * 1024) === 0) return `${size / (1024 * 1024)} MiB`;
  return size >= 1024 && size % 1024 === 0 ? `${size / 1024} KiB` : `${size} B`;
}

export function scenarioName(transport: Transport, size: number | SizeDistribution, senders: number): string {
  return `${TRANSPORT_NAMES[transport]} ${sizeName(size)} ${senders}->1`;
}

/**
 * How both sides of a ping-pong wait for the next message:
 * - spin: both poll tryReceive() (mmapipc only);
 * - sleep: both call blocking receive(), which sleeps in the kernel after a brief spin (mmapipc);
 * - async: both await receiveAsync(), the waiting path of the CLI and the batch API (mmapipc);
 * - event-loop: the transport's own event-loop reads (socket, named pipe, child_process IPC).
 */
export type LatencyMode = 'spin' | 'sleep' | 'async' | 'event-loop';

/**
 * Ping-pong modes measured for a transport. A round trip is one message each way, so batches
 * have none: the per-message mmapipc rows are the library's latency.
 */
export function latencyModes(transport: Transport): LatencyMode[] {
  if (!GRID_TRANSPORTS.includes(transport) || transport === 'mmapipc-batch') return [];
  return transport === 'mmapipc' ? ['spin', 'sleep', 'async'] : ['event-loop'];
}

/**
 * Pauses between two rounds, the same for every transport and mode. With none, a ping follows
 * the last pong at once and a waiting side may still be on its way to sleep; 200 µs is far past
 * every spin, so each ping finds its ponger asleep (in the kernel or in epoll), the state of a
 * service that idles between requests.
 */
export const PAUSES_US = [0, 200] as const;

/**
 * Where the two processes of a ping-pong run: wherever the scheduler puts them ('any'), or
 * pinned with taskset to one CPU ('same-cpu') or to two different CPUs ('cross-cpu').
 */
export type Placement = 'any' | 'same-cpu' | 'cross-cpu';

const MODE_NAMES: Record<LatencyMode, string> = {
  spin: 'both spinning',
  sleep: 'sleeping in receive()',
  async: 'receiveAsync()',
  'event-loop': 'event loop',
};

export const PLACEMENT_NAMES: Record<Placement, string> = {
  any: 'any CPU',
  'same-cpu': 'same CPU',
  'cross-cpu': 'two CPUs',
};

/** "mmapipc, sleeping in receive()", "Unix socket": the transport and, for mmapipc, how it waits. */
export function modeName(row: { transport: Transport; mode: LatencyMode }): string {
  const name = TRANSPORT_NAMES[row.transport];
  return row.mode === 'event-loop' ? name : `${name}, ${MODE_NAMES[row.mode]}`;
}

/** The conditions of a ping-pong row: "64 B, pause 200 µs, same CPU". */
export function conditions(row: { size: number; pauseUs: number; placement: Placement }): string {
  return `${sizeName(row.size)}, pause ${row.pauseUs} µs, ${PLACEMENT_NAMES[row.placement]}`;
}

/** A ping-pong row in words: "mmapipc, receiveAsync() 64 B, pause 200 µs, same CPU". */
export function latencyName(row: { transport: Transport; mode: LatencyMode; size: number; pauseUs: number; placement: Placement }): string {
  return `${modeName(row)} ${conditions(row)}`;
}

export interface ThroughputConfig {
  readonly kind: 'throughput';
  readonly transport: Transport;
  /** Bytes per message (with a distribution: the largest message). */
  readonly size: number;
  /** Message sizes drawn from this distribution (./sizes.ts) instead. */
  readonly distribution?: SizeDistribution;
  /**
   * The size rows' rings (mmapipc-copy, mmapipc-zero-copy): this many bytes of slots of the
   * default slot size (as `mmapipc create --size`), whatever the message sizes. Default RING_BYTES.
   */
  readonly ringBytes?: number;
  /** The size rows' slot size (default DEFAULT_SLOT_SIZE); set by bench/one.mjs to compare. */
  readonly slotSize?: number;
  readonly senders: number;
  readonly perSender: number;
  /** The first sequence number senders send (default 0; the memory run sends message 0 itself). */
  readonly firstSequence?: number;
  /** Slots of an mmapipc ring (default THROUGHPUT_SLOTS); set by bench/one.mjs to compare ring sizes. */
  readonly slots?: number;
  /**
   * Fan-out (mmapipc-batch only): the ring has this many consumer groups (g1, g2, ...; no
   * "default"), each with one member process of its own, and every group receives every message.
   * Unset: a work queue, the receiver taking every message in the default group.
   */
  readonly groups?: number;
  /** A private directory for the ring, socket or FIFO. */
  readonly dir: string;
  /** Extra node flags for every worker process (e.g. --cpu-prof). */
  readonly nodeArgs: readonly string[];
}

export interface LatencyConfig {
  readonly kind: 'latency';
  readonly transport: Transport;
  readonly mode: LatencyMode;
  readonly size: number;
  /** Measured round trips, after `warmup` unmeasured ones. */
  readonly rounds: number;
  readonly warmup: number;
  /** The pinger sleeps this long before each ping (outside the measured time). */
  readonly pauseUs: number;
  readonly placement: Placement;
  /** The CPUs of the pinger and the ponger, when pinned (taskset -c). */
  readonly cpus?: readonly [number, number];
  readonly dir: string;
  readonly nodeArgs: readonly string[];
}

export type WorkerConfig = ThroughputConfig | LatencyConfig;

/**
 * CPU time (user + system, process.cpuUsage() of the whole process: every thread) per message,
 * in nanoseconds, over the measured time. `sender`: all senders' CPU time over all messages.
 */
export interface WorkQueueCpu {
  readonly sender: number;
  readonly receiver: number;
}

export interface ThroughputResult {
  readonly transport: Transport;
  /** Bytes per message, or the name of the distribution the sizes were drawn from. */
  readonly size: number | SizeDistribution;
  readonly senders: number;
  /** mmapipc rows: the consumer groups of the ring (1: the default group, a work queue). */
  readonly groups?: number;
  readonly delivered: number;
  readonly expected: number;
  readonly verified: boolean;
  readonly error?: string;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly megabytesPerSecond: number;
  /** Payload bytes delivered (and checked). */
  readonly bytes: number;
  /** Payload bytes per second / 10^9. */
  readonly gigabytesPerSecond: number;
  /** The size rows' ring: its bytes of slots, and its slot size. */
  readonly ring?: { readonly bytes: number; readonly slotSize: number };
  readonly cpuNsPerMessage?: WorkQueueCpu;
}

/** One group of a fan-out row, as its member process measured it. */
export interface GroupFigure {
  readonly group: string;
  readonly delivered: number;
  readonly expected: number;
  readonly verified: boolean;
  readonly error?: string;
  /** From the member's "go" to its last message checked. */
  readonly seconds: number;
  readonly messagesPerSecond: number;
  /** The member's CPU time per message it took, in ns. */
  readonly cpuNsPerMessage: number;
}

/**
 * A fan-out row: one sender (batch API) to `groups` consumer groups of one member each, every
 * member a process of its own. `delivered` and `expected` count messages per group (the
 * smallest delivered); `messagesPerSecond` is per group: messages per group over the time until
 * the last group had them all.
 */
export interface FanOutResult {
  readonly transport: 'mmapipc-batch';
  readonly size: number;
  readonly senders: 1;
  readonly groups: number;
  readonly membersPerGroup: 1;
  readonly delivered: number;
  readonly expected: number;
  readonly verified: boolean;
  readonly error?: string;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly perGroup: GroupFigure[];
  /** ns of CPU per message: the sender's (per message sent), each member's (per message it took), in group order. */
  readonly cpuNsPerMessage: { readonly sender: number; readonly members: number[] };
}

export interface LatencyResult {
  readonly transport: Transport;
  readonly mode: LatencyMode;
  readonly pauseUs: number;
  readonly placement: Placement;
  readonly size: number;
  readonly delivered: number;
  readonly expected: number;
  readonly verified: boolean;
  readonly error?: string;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
}

/**
 * What a peer reports when its part is over: its CPU time (µs, user + system) and wall time from
 * "go" to the end of its work; a fan-out member also its verdict.
 */
export interface PeerReport {
  readonly type: 'done';
  readonly cpuUs: number;
  readonly seconds: number;
  readonly verdict?: { delivered: number; expected: number; verified: boolean; error?: string };
}

/** Control messages between a host worker and its peers (over the fork IPC channel). */
export type Control = { readonly type: 'ready' } | { readonly type: 'go' } | PeerReport;

export function isControl(value: unknown, type: Control['type']): boolean {
  return typeof value === 'object' && value !== null && (value as Control).type === type;
}

/** How long a receiver waits for one message before declaring the run stalled. */
export const STALL_MS = 20_000;

/** The message size of the rows the targets are judged on (targets.ts, run.ts, svg.ts). */
export const TARGET_MESSAGE_SIZE = 64;

/** The size of the rows that compare zero-copy with copying (issue 18). */
export const ZERO_COPY_SIZE = 4096;
/** The size of the large-message rows. */
export const LARGE_SIZE = 1024 * 1024;
/** The distribution of the mixed-size rows. */
export const MIXED: SizeDistribution = 'log-normal';
/** The size rows' rings: bytes of slots of the default slot size (`mmapipc create --size 64MiB`). */
export const RING_BYTES = 64 * 1024 * 1024;

/** One row of "messages of any size": a transport, a size or distribution, one sender to one receiver. */
export interface SizeRow {
  readonly transport: Transport;
  /** Bytes per message (with a distribution: the largest). */
  readonly size: number;
  readonly distribution?: SizeDistribution;
}

/**
 * The rows of "messages of any size" (format v3), in the order they run: zero-copy against
 * copying at 4 KiB; the mixed stream through both APIs and a Unix socket; 1 MiB messages.
 */
export const SIZE_ROWS: readonly SizeRow[] = [
  { transport: 'mmapipc-copy', size: ZERO_COPY_SIZE },
  { transport: 'mmapipc-zero-copy', size: ZERO_COPY_SIZE },
  { transport: 'mmapipc-copy', size: 64 * 1024, distribution: MIXED },
  { transport: 'mmapipc-zero-copy', size: 64 * 1024, distribution: MIXED },
  { transport: 'socket', size: 64 * 1024, distribution: MIXED },
  { transport: 'mmapipc-copy', size: LARGE_SIZE },
  { transport: 'mmapipc-zero-copy', size: LARGE_SIZE },
];

/** "mmapipc zero-copy 4 KiB 1->1", "Unix socket log-normal 1->1". */
export function sizeRowName(row: SizeRow): string {
  return scenarioName(row.transport, row.distribution ?? row.size, 1);
}
