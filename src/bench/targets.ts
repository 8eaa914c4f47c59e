/**
 * The project's benchmark targets (issues 5 and 12; the fan-out ones from issue 10), checked
 * against one run's figures. They are read by people: a missed target is reported, never an
 * error. A target that compares two rows compares rows measured alike: same size, pause and
 * placement.
 */
import {
  LARGE_SIZE,
  MIXED,
  MMAPIPC_TRANSPORTS,
  SIZE_MMAPIPC_TRANSPORTS,
  ZERO_COPY_SIZE,
  sizeRowName,
  TRANSPORT_NAMES,
  conditions,
  latencyName,
  type FanOutResult,
  type LatencyMode,
  type LatencyResult,
  type ThroughputResult,
  type Transport,
} from './protocol.js';
import type { BenchReport } from './run.js';
import type { SizeDistribution } from './sizes.js';

export const TARGETS = {
  /** 1 sender -> 1 receiver, 64 B, messages per second, batch API. */
  oneToOneRate: 10e6,
  /** The same, one message per call. */
  oneToOnePerMessageRate: 4e6,
  oneToOneOverIpc: 50,
  oneToOneOverSocket: 20,
  /** 4 senders -> 1 receiver, 64 B, messages per second in total. */
  fourToOneRate: 4e6,
  spinP50Us: 2,
  /** Sleeping ping-pong (blocking receive()), pause TARGET_PAUSE_US, p50. */
  sleepP50Us: 30,
  /** The same over the Unix socket's p50 in the same run, same pause. */
  sleepOverSocket: 0.6,
  /** receiveAsync() ping-pong over the Unix socket's p50, same pause. */
  asyncOverSocket: 1,
  pipelineLinesPerSecond: 1e6,
  /** `mmapipc --version` over `node -e 0` (issue 19). */
  startupRatio: 1.05,
  /** `mmapipc send --file R x` into an existing ring over `node -e 0` (issue 19). */
  sendStartupRatio: 1.3,
  memoryGrowthMB: 5,
  /** The sender's CPU per message with 3 groups over its CPU per message with 1 (fan-out rows). */
  fanOutSenderCpu: 1.15,
  /** A group member's CPU per message (3 groups, the costliest member) over a work-queue receiver's (batch, 64 B 1->1). */
  memberOverWorkQueueCpu: 1.2,
  /** Issue 18: zero-copy (claim/commit, view/release) over copying (trySendBatch, tryReceiveBatch), 4 KiB, msg/s. */
  zeroCopyOverCopying: 1.5,
  /** Mixed sizes (log-normal, median 200 B, max 64 KiB), GB/s of payload, the best mmapipc row. */
  mixedGigabytesPerSecond: 1,
  /** The same over a Unix socket carrying the same stream (length-framed). */
  mixedOverSocket: 20,
  /** 1 MiB messages, GB/s of payload, the best mmapipc row. */
  largeGigabytesPerSecond: 5,
} as const;

/** The fan-out rows the CPU targets compare: the sender with this many groups against one group. */
export const FAN_OUT_TARGET_GROUPS = 3;

export { TARGET_MESSAGE_SIZE } from './protocol.js';
import { TARGET_MESSAGE_SIZE } from './protocol.js';
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

export function throughputOf(report: BenchReport, transport: Transport, size: number | SizeDistribution, senders: number): ThroughputResult | undefined {
  return report.throughput.find((r) => r.transport === transport && r.size === size && r.senders === senders && r.verified);
}

/** The verified row of "messages of any size" for a transport and a size or distribution. */
export function sizeRowOf(report: BenchReport, transport: Transport, size: number | SizeDistribution): ThroughputResult | undefined {
  return report.sizes.find((r) => r.transport === transport && r.size === size && r.verified);
}

/** The verified mmapipc size row (copying or zero-copy) with the most payload bytes per second. */
export function bestSizeRow(report: BenchReport, size: number | SizeDistribution): ThroughputResult | undefined {
  let best: ThroughputResult | undefined;
  for (const transport of SIZE_MMAPIPC_TRANSPORTS) {
    const result = sizeRowOf(report, transport, size);
    if (result && (!best || result.gigabytesPerSecond > best.gigabytesPerSecond)) best = result;
  }
  return best;
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

/** The verified fan-out row with `groups` groups. */
export function fanOutOf(report: BenchReport, groups: number): FanOutResult | undefined {
  return report.fanOut.find((r) => r.groups === groups && r.verified);
}

const BEST = { best: true };
const ALIKE = { alike: true };

export function checkTargets(report: BenchReport): TargetCheck[] {
  const size = TARGET_MESSAGE_SIZE;
  const batchRow = throughputOf(report, 'mmapipc-batch', size, 1);
  const perMessage = throughputOf(report, 'mmapipc', size, 1)?.messagesPerSecond;
  const oneRow = bestLibraryRow(report, size, 1);
  const fourRow = bestLibraryRow(report, size, 4);
  const one = oneRow?.messagesPerSecond;
  const four = fourRow?.messagesPerSecond;
  const oneName = oneRow && TRANSPORT_NAMES[oneRow.transport];
  const fourName = fourRow && TRANSPORT_NAMES[fourRow.transport];
  const { fanOutSender, memberOverReceiver } = fanOutRatios(report);
  const ipc = throughputOf(report, 'ipc', size, 1)?.messagesPerSecond;
  const socket = throughputOf(report, 'socket', size, 1)?.messagesPerSecond;
  const { pipeline, startup, memory } = report.cli;
  const spin = latencyOf(report, 'mmapipc', 'spin', size, 0);
  const sleep = latencyOf(report, 'mmapipc', 'sleep', size, TARGET_PAUSE_US);
  const wait = latencyOf(report, 'mmapipc', 'async', size, TARGET_PAUSE_US);
  const socketRow = latencyOf(report, 'socket', 'event-loop', size, TARGET_PAUSE_US);
  const over = (row: LatencyResult | undefined) => (row && socketRow ? row.p50Us / socketRow.p50Us : undefined);
  const alike = socketRow && conditions(socketRow);
  const zeroCopy = sizeRowOf(report, 'mmapipc-zero-copy', ZERO_COPY_SIZE);
  const copying = sizeRowOf(report, 'mmapipc-copy', ZERO_COPY_SIZE);
  const mixed = bestSizeRow(report, MIXED);
  const mixedSocket = sizeRowOf(report, 'socket', MIXED);
  const large = bestSizeRow(report, LARGE_SIZE);
  const rowName = (row: ThroughputResult | undefined) => row && sizeRowName({ transport: row.transport, size: 0, distribution: MIXED });
  return [
    ...check('mmapipc 64 B 1->1, batch API', batchRow?.messagesPerSecond, TARGETS.oneToOneRate, 'msg/s', 'min', TRANSPORT_NAMES['mmapipc-batch']),
    ...check('mmapipc 64 B 1->1, one message per call', perMessage, TARGETS.oneToOnePerMessageRate, 'msg/s', 'min', TRANSPORT_NAMES.mmapipc),
    ...check('mmapipc 64 B 1->1 vs child_process IPC', one !== undefined && ipc ? one / ipc : undefined, TARGETS.oneToOneOverIpc, 'x', 'min', oneName, BEST),
    ...check('mmapipc 64 B 1->1 vs Unix socket', one !== undefined && socket ? one / socket : undefined, TARGETS.oneToOneOverSocket, 'x', 'min', oneName, BEST),
    ...check('mmapipc 64 B 4->1', four, TARGETS.fourToOneRate, 'msg/s', 'min', fourName, BEST),
    ...check('ping-pong p50, both spinning', spin?.p50Us, TARGETS.spinP50Us, 'us', 'max', spin && latencyName(spin)),
    ...check('ping-pong p50, sleeping', sleep?.p50Us, TARGETS.sleepP50Us, 'us', 'max', sleep && latencyName(sleep)),
    ...check('ping-pong p50, sleeping vs Unix socket', over(sleep), TARGETS.sleepOverSocket, 'x', 'max', alike, ALIKE),
    ...check('ping-pong p50, receiveAsync() vs Unix socket', over(wait), TARGETS.asyncOverSocket, 'x', 'max', alike, ALIKE),
    ...check('CLI pipeline', pipeline?.verified ? pipeline.linesPerSecond : undefined, TARGETS.pipelineLinesPerSecond, 'lines/s', 'min', 'default 100-slot ring'),
    ...check('start-up: mmapipc --version vs node -e 0', startup?.ratio, TARGETS.startupRatio, 'x', 'max'),
    ...check('start-up: mmapipc send --file R x vs node -e 0', report.cli.sendStartup?.ratio, TARGETS.sendStartupRatio, 'x', 'max', 'an existing ring'),
    ...check(
      'receive --follow RSS growth',
      memory?.verified ? (memory.peakKiB - memory.startKiB) / KIB_PER_MB : undefined,
      TARGETS.memoryGrowthMB,
      'MB',
      'max',
    ),
    ...check(
      `fan-out: sender CPU/message, ${FAN_OUT_TARGET_GROUPS} groups vs 1`,
      fanOutSender?.value,
      TARGETS.fanOutSenderCpu,
      'x',
      'max',
      fanOutSender?.row,
    ),
    ...check(
      'fan-out: group member CPU/message vs work-queue receiver',
      memberOverReceiver?.value,
      TARGETS.memberOverWorkQueueCpu,
      'x',
      'max',
      memberOverReceiver?.row,
    ),
    ...check(
      'zero-copy vs copying, 4 KiB',
      zeroCopy && copying ? zeroCopy.messagesPerSecond / copying.messagesPerSecond : undefined,
      TARGETS.zeroCopyOverCopying,
      'x',
      'min',
      'mmapipc zero-copy vs mmapipc copying, 4 KiB 1->1',
    ),
    ...check('mixed sizes (log-normal), GB/s', mixed?.gigabytesPerSecond, TARGETS.mixedGigabytesPerSecond, 'GB/s', 'min', rowName(mixed), BEST),
    ...check(
      'mixed sizes (log-normal) vs Unix socket',
      mixed && mixedSocket ? mixed.gigabytesPerSecond / mixedSocket.gigabytesPerSecond : undefined,
      TARGETS.mixedOverSocket,
      'x',
      'min',
      rowName(mixed),
      BEST,
    ),
    ...check('1 MiB messages, GB/s', large?.gigabytesPerSecond, TARGETS.largeGigabytesPerSecond, 'GB/s', 'min', large && sizeRowName({ transport: large.transport, size: LARGE_SIZE }), BEST),
  ];
}

function ns(value: number): string {
  return `${value.toFixed(0)} ns`;
}

/**
 * The fan-out CPU ratios: the sender's CPU per message with FAN_OUT_TARGET_GROUPS groups over
 * its CPU per message with one group; and the costliest member of the FAN_OUT_TARGET_GROUPS row
 * over the receiver of the work-queue batch row (64 B 1->1, the default group).
 */
export function fanOutRatios(report: BenchReport): {
  fanOutSender?: { value: number; row: string };
  memberOverReceiver?: { value: number; row: string };
} {
  const one = fanOutOf(report, 1);
  const many = fanOutOf(report, FAN_OUT_TARGET_GROUPS);
  const queue = throughputOf(report, 'mmapipc-batch', TARGET_MESSAGE_SIZE, 1)?.cpuNsPerMessage;
  const result: ReturnType<typeof fanOutRatios> = {};
  if (one && many) {
    const [a, b] = [many.cpuNsPerMessage.sender, one.cpuNsPerMessage.sender];
    result.fanOutSender = { value: a / b, row: `fan-out batch 64 B, sender ${ns(a)} with ${many.groups} groups vs ${ns(b)} with 1` };
  }
  if (many && queue) {
    const member = Math.max(...many.cpuNsPerMessage.members);
    const group = many.perGroup[many.cpuNsPerMessage.members.indexOf(member)]?.group ?? '?';
    result.memberOverReceiver = {
      value: member / queue.receiver,
      row: `member of ${group} (costliest of ${many.groups} groups) ${ns(member)} vs mmapipc batch 64 B 1->1 receiver ${ns(queue.receiver)}`,
    };
  }
  return result;
}
