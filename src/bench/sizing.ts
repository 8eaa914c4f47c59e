/**
 * How much each bench measurement runs, and running one: a worker process per measurement,
 * sized by calibration in full runs (./run.ts orchestrates).
 */
import { spawn } from 'node:child_process';
import { FAN_OUT_GROUPS, FAN_OUT_QUICK, MMAPIPC_TRANSPORTS, type LatencyConfig, type LatencyMode, type ThroughputConfig, type Transport } from './protocol.js';
import { TASKSET } from './placement.js';
import { WORKER_PATH } from './worker-path.js';

/** How much work each measurement gets: quick runs check that everything works, full runs measure. */
export interface Sizing {
  /** Full runs: first a calibration run of this many messages, then a run sized to `seconds`. */
  readonly calibrationMessages: number;
  readonly throughputSeconds: number;
  /** Quick runs: fixed message counts per transport (mmapipc rows, others). */
  readonly fixedMessages: (transport: Transport) => number;
  /**
   * The size rows, by the mean message size: quick runs send this many bytes' worth (at least
   * SIZE_ROW_MIN_MESSAGES); full runs calibrate with this many bytes' worth, at most
   * calibrationMessages.
   */
  readonly sizeRowBytes: number;
  readonly rounds: (transport: Transport, mode: LatencyMode, pauseUs: number) => number;
  /** Measured rounds of each pinned ping-pong row (0: no pinned rows). */
  readonly pinnedRounds: number;
  readonly warmup: number;
  readonly pipelineLines: number;
  readonly startupRuns: number;
  /** The fan-out rows' group counts. */
  readonly fanOutGroups: readonly number[];
  readonly memoryMessages: number;
  /** Messages through `receive --follow` before its start RSS is taken. */
  readonly memoryWarmup: number;
}

export const FULL: Sizing = {
  calibrationMessages: 40_000,
  throughputSeconds: 1.5,
  fixedMessages: () => 0,
  sizeRowBytes: 256 * 1024 * 1024,
  rounds: (transport, mode, pauseUs) => (transport === 'mmapipc' && mode === 'spin' && pauseUs === 0 ? 50_000 : 10_000),
  pinnedRounds: 5_000,
  warmup: 2_000,
  pipelineLines: 1_000_000,
  startupRuns: 21,
  fanOutGroups: FAN_OUT_GROUPS,
  memoryMessages: 10_000_000,
  memoryWarmup: 100_000,
};

export const QUICK: Sizing = {
  calibrationMessages: 0,
  throughputSeconds: 0,
  fixedMessages: (transport) => (MMAPIPC_TRANSPORTS.includes(transport) ? 20_000 : 4_000),
  sizeRowBytes: 4 * 1024 * 1024,
  rounds: () => 300,
  pinnedRounds: 0,
  warmup: 100,
  pipelineLines: 20_000,
  startupRuns: 3,
  fanOutGroups: FAN_OUT_QUICK,
  memoryMessages: 50_000,
  memoryWarmup: 5_000,
};

/** Calibrated counts stay within these bounds, so a stalled or a very fast machine still finishes sensibly. */
const MIN_MESSAGES = 20_000;
/** The fewest messages of a size row (1 MiB messages: 4 MiB in a quick run would be 4). */
export const SIZE_ROW_MIN_MESSAGES = 100;
const MAX_MESSAGES = 40_000_000;
/** Runs after the calibration run at most, to reach the intended duration. */
const MAX_SIZING_RUNS = 3;
/** A worker that runs longer than this has hung. */
const WORKER_TIMEOUT_MS = 180_000;

/**
 * Runs a throughput or fan-out measurement: quick runs once with the fixed count; full runs
 * calibrate, then size the next run from the last one until a run lasts at least half the
 * intended time (a short calibration run underrates a transport that warms up).
 */
export async function sizedRun<T extends { verified: boolean; seconds: number; messagesPerSecond: number; delivered: number }>(
  sizing: Sizing,
  quick: boolean,
  transport: Transport,
  config: (total: number) => ThroughputConfig,
  counts: { first: number; min: number } = { first: quick ? sizing.fixedMessages(transport) : sizing.calibrationMessages, min: MIN_MESSAGES },
): Promise<T> {
  let result = await runWorker<T>(config(counts.first));
  for (let sized = 0; !quick && result.verified && sized < MAX_SIZING_RUNS && result.seconds < sizing.throughputSeconds / 2; sized++) {
    const total = Math.round(Math.min(MAX_MESSAGES, Math.max(counts.min, result.messagesPerSecond * sizing.throughputSeconds)));
    if (total <= result.delivered) break;
    result = await runWorker<T>(config(total));
  }
  return result;
}

/** Runs one host worker (pinned to its CPU when the config says so) and returns its JSON result, or throws with what it printed on stderr. */
export function runWorker<T>(config: ThroughputConfig | LatencyConfig): Promise<T> {
  return new Promise((resolve, reject) => {
    const args = [...config.nodeArgs, WORKER_PATH, 'host', JSON.stringify(config)];
    const cpu = config.kind === 'latency' ? config.cpus?.[0] : undefined;
    const [command, argv] = cpu === undefined ? [process.execPath, args] : [TASKSET, ['-c', String(cpu), process.execPath, ...args]];
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop();
      if (code === 0 && line) return resolve(JSON.parse(line) as T);
      reject(new Error(`worker ended with ${signal ?? `exit code ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
  });
}
