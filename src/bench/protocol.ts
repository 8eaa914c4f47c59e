/** What the bench orchestrator tells its worker processes, and what they answer. */
export const TRANSPORTS = ['mmapipc', 'mmapipc-batch', 'ipc', 'socket', 'fifo'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** The rows that measure mmapipc's library API: one message per call, and batches (runs of slots per claim). */
export const MMAPIPC_TRANSPORTS: readonly Transport[] = ['mmapipc', 'mmapipc-batch'];

export const TRANSPORT_NAMES: Record<Transport, string> = {
  mmapipc: 'mmapipc',
  'mmapipc-batch': 'mmapipc batch',
  ipc: 'child_process IPC',
  socket: 'Unix socket',
  fifo: 'named pipe',
};

export const MESSAGE_SIZES = [64, 1024] as const;
export const SENDER_COUNTS = [1, 4] as const;

export function sizeName(size: number): string {
  return size >= 1024 && size % 1024 === 0 ? `${size / 1024} KiB` : `${size} B`;
}

export function scenarioName(transport: Transport, size: number, senders: number): string {
  return `${TRANSPORT_NAMES[transport]} ${sizeName(size)} ${senders}->1`;
}

/** spin: both sides poll (tryReceive); sleep: both sides block in the kernel (receive()); event: the event loop waits. */
export type LatencyMode = 'spin' | 'sleep' | 'event';

/**
 * Ping-pong modes measured for a transport: mmapipc both spinning and sleeping, the others
 * through their event loop. A round trip is one message each way, so batches have none: the
 * per-message mmapipc rows are the library's latency.
 */
export function latencyModes(transport: Transport): LatencyMode[] {
  if (transport === 'mmapipc-batch') return [];
  return transport === 'mmapipc' ? ['spin', 'sleep'] : ['event'];
}

export interface ThroughputConfig {
  readonly kind: 'throughput';
  readonly transport: Transport;
  /** Bytes per message. */
  readonly size: number;
  readonly senders: number;
  readonly perSender: number;
  /** The first sequence number senders send (default 0; the memory run sends message 0 itself). */
  readonly firstSequence?: number;
  /** Slots of an mmapipc ring (default THROUGHPUT_SLOTS); set by bench/one.mjs to compare ring sizes. */
  readonly slots?: number;
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
  readonly dir: string;
  readonly nodeArgs: readonly string[];
}

export type WorkerConfig = ThroughputConfig | LatencyConfig;

export interface ThroughputResult {
  readonly transport: Transport;
  readonly size: number;
  readonly senders: number;
  readonly delivered: number;
  readonly expected: number;
  readonly verified: boolean;
  readonly error?: string;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly megabytesPerSecond: number;
}

export interface LatencyResult {
  readonly transport: Transport;
  readonly mode: LatencyMode;
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

/** Control messages between a host worker and its peers (over the fork IPC channel). */
export type Control = { readonly type: 'ready' } | { readonly type: 'go' };

export function isControl(value: unknown, type: Control['type']): boolean {
  return typeof value === 'object' && value !== null && (value as Control).type === type;
}

/** How long a receiver waits for one message before declaring the run stalled. */
export const STALL_MS = 20_000;
