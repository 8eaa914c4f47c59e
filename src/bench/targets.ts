/**
 * The project's benchmark targets (issue 5; the ping-pong ones from issue 12), checked against
 * one run's figures. They are read by people: a missed target is reported, never an error.
 * A target that compares two rows compares rows measured alike: same size, pause and placement.
 */
import { MMAPIPC_TRANSPORTS, TRANSPORT_NAMES, conditions, latencyName, type LatencyMode, type LatencyResult, type ThroughputResult, type Transport } from './protocol.js';
import type { BenchReport } from './run.js';

export const TARGETS = {
  /** 1 sender -> 1 receiver, 64 B, messages per second. */
  oneToOneRate: 10e6,
  oneToOneOverIpc: 50,
  oneToOneOverSocket: 20,
  /** 4 senders -> 1 receiver, 64 B, messages per second in total. */
  fourToOneRate: 3e6,
  spinP50Us: 2,
  /** Sleeping ping-pong (blocking receive()), pause TARGET_PAUSE_US, p50. */
  sleepP50Us: 30,
  /** The same over the Unix socket's p50 in the same run, same pause. */
  sleepOverSocket: 0.6,
  /** receiveAsync() ping-pong over the Unix socket's p50, same pause. */
  asyncOverSocket: 1,
  pipelineLinesPerSecond: 1e6,
  startupRatio: 1.5,
  memoryGrowthMB: 5,
} as const;

export const TARGET_MESSAGE_SIZE = 64;
/** The pause of the rows the waking targets use: each ping finds its ponger asleep. */
export const TARGET_PAUSE_US = 200;
const KIB_PER_MB = 1024;

export interface TargetCheck {
  readonly name: string;
  readonly measured: number;
  readonly target: number;
  readonly unit: string;
  /** 'min': the figure must reach the target; 'max': it must stay below it. */
  readonly kind: 'min' | 'max';
  readonly met: boolean;
  /** measured / target. */
  readonly ratio: number;
  /** The table row the figure comes from ("A vs B" for a ratio of two rows). */
  readonly row?: string;
  /** True when `row` was picked as the best of several library-API rows. */
  readonly best?: boolean;
  /** True for a ratio of two rows measured alike: `row` then names their common conditions. */
  readonly alike?: boolean;
}

function check(
  name: string,
  measured: number | undefined,
  target: number,
  unit: string,
  kind: 'min' | 'max',
  row?: string,
  how: { best?: boolean; alike?: boolean } = {},
): TargetCheck[] {
  if (measured === undefined || !Number.isFinite(measured)) return [];
  const met = kind === 'min' ? measured >= target : measured <= target;
  return [{ name, measured, target, unit, kind, met, ratio: measured / target, ...(row ? { row } : {}), ...how }];
}

export function throughputOf(report: BenchReport, transport: Transport, size: number, senders: number): ThroughputResult | undefined {
  return report.throughput.find((r) => r.transport === transport && r.size === size && r.senders === senders && r.verified);
}

/**
 * The fastest verified mmapipc library-API row (per message or batch) for a size and sender
 * count: the throughput targets are about the library API, whichever calls reach them.
 */
export function bestLibraryRow(report: BenchReport, size: number, senders: number): ThroughputResult | undefined {
  let best: ThroughputResult | undefined;
  for (const transport of MMAPIPC_TRANSPORTS) {
    const result = throughputOf(report, transport, size, senders);
    if (result && (!best || result.messagesPerSecond > best.messagesPerSecond)) best = result;
  }
  return best;
}

/** The verified row of a ping-pong measured unpinned ('any' CPU), for a transport, mode, size and pause. */
export function latencyOf(report: BenchReport, transport: Transport, mode: LatencyMode, size: number, pauseUs: number): LatencyResult | undefined {
  return report.latency.find(
    (r) => r.transport === transport && r.mode === mode && r.size === size && r.pauseUs === pauseUs && r.placement === 'any' && r.verified,
  );
}

const BEST = { best: true };
const ALIKE = { alike: true };

export function checkTargets(report: BenchReport): TargetCheck[] {
  const size = TARGET_MESSAGE_SIZE;
  const oneRow = bestLibraryRow(report, size, 1);
  const fourRow = bestLibraryRow(report, size, 4);
  const one = oneRow?.messagesPerSecond;
  const four = fourRow?.messagesPerSecond;
  const oneName = oneRow && TRANSPORT_NAMES[oneRow.transport];
  const fourName = fourRow && TRANSPORT_NAMES[fourRow.transport];
  const ipc = throughputOf(report, 'ipc', size, 1)?.messagesPerSecond;
  const socket = throughputOf(report, 'socket', size, 1)?.messagesPerSecond;
  const { pipeline, startup, memory } = report.cli;
  const spin = latencyOf(report, 'mmapipc', 'spin', size, 0);
  const sleep = latencyOf(report, 'mmapipc', 'sleep', size, TARGET_PAUSE_US);
  const wait = latencyOf(report, 'mmapipc', 'async', size, TARGET_PAUSE_US);
  const socketRow = latencyOf(report, 'socket', 'event-loop', size, TARGET_PAUSE_US);
  const over = (row: LatencyResult | undefined) => (row && socketRow ? row.p50Us / socketRow.p50Us : undefined);
  const alike = socketRow && conditions(socketRow);
  return [
    ...check('mmapipc 64 B 1->1', one, TARGETS.oneToOneRate, 'msg/s', 'min', oneName, BEST),
    ...check('mmapipc 64 B 1->1 vs child_process IPC', one !== undefined && ipc ? one / ipc : undefined, TARGETS.oneToOneOverIpc, 'x', 'min', oneName, BEST),
    ...check('mmapipc 64 B 1->1 vs Unix socket', one !== undefined && socket ? one / socket : undefined, TARGETS.oneToOneOverSocket, 'x', 'min', oneName, BEST),
    ...check('mmapipc 64 B 4->1', four, TARGETS.fourToOneRate, 'msg/s', 'min', fourName, BEST),
    ...check('ping-pong p50, both spinning', spin?.p50Us, TARGETS.spinP50Us, 'us', 'max', spin && latencyName(spin)),
    ...check('ping-pong p50, sleeping', sleep?.p50Us, TARGETS.sleepP50Us, 'us', 'max', sleep && latencyName(sleep)),
    ...check('ping-pong p50, sleeping vs Unix socket', over(sleep), TARGETS.sleepOverSocket, 'x', 'max', alike, ALIKE),
    ...check('ping-pong p50, receiveAsync() vs Unix socket', over(wait), TARGETS.asyncOverSocket, 'x', 'max', alike, ALIKE),
    ...check('CLI pipeline', pipeline?.verified ? pipeline.linesPerSecond : undefined, TARGETS.pipelineLinesPerSecond, 'lines/s', 'min'),
    ...check('start-up vs node -e 0', startup?.ratio, TARGETS.startupRatio, 'x', 'max'),
    ...check(
      'receive --follow RSS growth',
      memory?.verified ? (memory.peakKiB - memory.startKiB) / KIB_PER_MB : undefined,
      TARGETS.memoryGrowthMB,
      'MB',
      'max',
    ),
  ];
}
