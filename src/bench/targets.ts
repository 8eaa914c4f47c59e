/**
 * The targets of issue 5, checked against one run's figures. They are benchmark targets, read
 * by people: a missed target is reported, never an error.
 */
import { MMAPIPC_TRANSPORTS, TRANSPORT_NAMES, type LatencyResult, type ThroughputResult, type Transport } from './protocol.js';
import type { BenchReport } from './run.js';

export const TARGETS = {
  /** 1 sender -> 1 receiver, 64 B, messages per second. */
  oneToOneRate: 10e6,
  oneToOneOverIpc: 50,
  oneToOneOverSocket: 20,
  /** 4 senders -> 1 receiver, 64 B, messages per second in total. */
  fourToOneRate: 3e6,
  spinP50Us: 2,
  sleepP50Us: 60,
  pipelineLinesPerSecond: 1e6,
  startupRatio: 1.5,
  memoryGrowthMB: 5,
} as const;

export const TARGET_MESSAGE_SIZE = 64;
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
  /** The table row the figure comes from, where several rows could stand for it. */
  readonly row?: string;
}

function check(name: string, measured: number | undefined, target: number, unit: string, kind: 'min' | 'max', row?: string): TargetCheck[] {
  if (measured === undefined || !Number.isFinite(measured)) return [];
  const met = kind === 'min' ? measured >= target : measured <= target;
  return [{ name, measured, target, unit, kind, met, ratio: measured / target, ...(row ? { row } : {}) }];
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

export function latencyOf(report: BenchReport, transport: Transport, mode: LatencyResult['mode'], size: number): LatencyResult | undefined {
  return report.latency.find((r) => r.transport === transport && r.mode === mode && r.size === size && r.verified);
}

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
  return [
    ...check('mmapipc 64 B 1->1', one, TARGETS.oneToOneRate, 'msg/s', 'min', oneName),
    ...check('mmapipc 64 B 1->1 vs child_process IPC', one !== undefined && ipc ? one / ipc : undefined, TARGETS.oneToOneOverIpc, 'x', 'min', oneName),
    ...check('mmapipc 64 B 1->1 vs Unix socket', one !== undefined && socket ? one / socket : undefined, TARGETS.oneToOneOverSocket, 'x', 'min', oneName),
    ...check('mmapipc 64 B 4->1', four, TARGETS.fourToOneRate, 'msg/s', 'min', fourName),
    ...check('ping-pong p50, both spinning', latencyOf(report, 'mmapipc', 'spin', size)?.p50Us, TARGETS.spinP50Us, 'us', 'max'),
    ...check('ping-pong p50, receiver sleeping', latencyOf(report, 'mmapipc', 'sleep', size)?.p50Us, TARGETS.sleepP50Us, 'us', 'max'),
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
