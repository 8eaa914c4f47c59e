/**
 * The bench orchestrator: runs every measurement in worker processes of its own, one after
 * the other, and gathers the results. Nothing here sends a message itself.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { memory, pipeline, sendStartup, startup, type MemoryFigure, type PipelineFigure, type StartupFigure } from './cli-figures.js';
import {
  FAN_OUT_SIZE,
  GRID_TRANSPORTS,
  MESSAGE_SIZES,
  PAUSES_US,
  SENDER_COUNTS,
  SIZE_ROWS,
  TRANSPORTS,
  TRANSPORT_NAMES,
  latencyModes,
  latencyName,
  scenarioName,
  sizeRowName,
  type FanOutResult,
  type LatencyConfig,
  type LatencyResult,
  type Placement,
  type ThroughputConfig,
  type ThroughputResult,
  type Transport,
} from './protocol.js';
import { twoCpus } from './placement.js';
import { FULL, QUICK, SIZE_ROW_MIN_MESSAGES, runWorker, sizedRun, type Sizing } from './sizing.js';
import { meanSize } from './sizes.js';
import { TARGET_MESSAGE_SIZE } from './protocol.js';

/** Same CPU for both processes, then one CPU each. */
function pinnings([first, second]: readonly [number, number]): Array<[Placement, readonly [number, number]]> {
  return [
    ['same-cpu', [first, first]],
    ['cross-cpu', [first, second]],
  ];
}


export interface BenchOptions {
  readonly quick: boolean;
  readonly transports: readonly Transport[];
  /** bin/mmapipc.js, for the CLI figures. */
  readonly binPath: string;
  /** Measure the CLI figures too (default true). */
  readonly cli?: boolean;
  /** Extra node flags for every worker (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  readonly progress?: (line: string) => void;
  /** Stops between measurements when aborted (the report then holds what was measured). */
  readonly signal?: AbortSignal;
}

export interface Machine {
  readonly cores: number;
  readonly cpu: string;
  readonly node: string;
  readonly platform: string;
}

export interface CliFigures {
  readonly pipeline?: PipelineFigure;
  /** `mmapipc --version` against `node -e 0`. */
  readonly startup?: StartupFigure;
  /** `mmapipc send --file R x` into an existing ring against `node -e 0`. */
  readonly sendStartup?: StartupFigure;
  readonly memory?: MemoryFigure;
}

export interface BenchReport {
  readonly machine: Machine;
  /** The 1-minute load average before and after the run: other work on the machine skews every figure. */
  readonly load: { before: number; after: number };
  readonly quick: boolean;
  readonly throughput: ThroughputResult[];
  /**
   * Messages of any size (format v3): zero-copy against copying at 4 KiB, a mixed-size stream
   * against a Unix socket, 1 MiB messages; one sender to one receiver, rings sized in bytes.
   */
  readonly sizes: ThroughputResult[];
  /** One sender to 1, 2, 3 consumer groups of one member each (mmapipc batch, 64 B). */
  readonly fanOut: FanOutResult[];
  readonly latency: LatencyResult[];
  readonly cli: CliFigures;
  /** One line per fault: a worker that failed, or messages lost or damaged. Empty when all is well. */
  readonly failures: string[];
}


export function machine(): Machine {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux: keep what os.cpus() said
  }
  return { cores: cpus().length, cpu, node: process.version, platform: `${process.platform} ${process.arch}` };
}

function scratchRoot(): string {
  // tmpfs when there is one: ring files, sockets and FIFOs never touch a disk.
  return mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'mmapipc-bench-'));
}


export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const sizing = options.quick ? QUICK : FULL;
  const nodeArgs = options.nodeArgs ?? [];
  const progress = options.progress ?? (() => {});
  const root = scratchRoot();
  const load = { before: loadavg()[0]!, after: NaN };
  const report: BenchReport = { machine: machine(), load, quick: options.quick, throughput: [], sizes: [], fanOut: [], latency: [], cli: {}, failures: [] };
  const failures = report.failures;
  const scratch = () => mkdtempSync(join(root, 'run-'));
  try {
    for (const size of MESSAGE_SIZES) {
      for (const senders of SENDER_COUNTS) {
        for (const transport of options.transports.filter((t) => GRID_TRANSPORTS.includes(t))) {
          if (options.signal?.aborted) return report;
          const name = scenarioName(transport, size, senders);
          progress(`throughput: ${name}`);
          const config = (total: number): ThroughputConfig => ({
            kind: 'throughput',
            transport,
            size,
            senders,
            perSender: Math.ceil(total / senders),
            dir: scratch(),
            nodeArgs,
          });
          try {
            const result = await sizedRun<ThroughputResult>(sizing, options.quick, transport, config);
            report.throughput.push(result);
            if (!result.verified) failures.push(`${name}: ${result.error}`);
          } catch (error) {
            failures.push(`${name}: ${(error as Error).message}`);
          }
        }
      }
    }
    // Fan-out: one sender (batch API) to 1, 2, 3 consumer groups of one member each, every
    // process its own; each member checks every message of its group.
    for (const groups of options.transports.includes('mmapipc-batch') ? sizing.fanOutGroups : []) {
      if (options.signal?.aborted) return report;
      const name = `fan-out mmapipc batch ${FAN_OUT_SIZE} B 1->${groups} group${groups === 1 ? '' : 's'}`;
      progress(name);
      const config = (total: number): ThroughputConfig => ({
        kind: 'throughput',
        transport: 'mmapipc-batch',
        size: FAN_OUT_SIZE,
        senders: 1,
        perSender: total,
        groups,
        dir: scratch(),
        nodeArgs,
      });
      try {
        const result = await sizedRun<FanOutResult>(sizing, options.quick, 'mmapipc-batch', config);
        report.fanOut.push(result);
        if (!result.verified) failures.push(`${name}: ${result.error}`);
      } catch (error) {
        failures.push(`${name}: ${(error as Error).message}`);
      }
    }
    // Messages of any size: one sender, one receiver, counts by bytes (a 1 MiB row moves
    // 1/4096 as many messages as a 256-byte one in the same time).
    for (const row of SIZE_ROWS.filter((r) => options.transports.includes(r.transport))) {
      if (options.signal?.aborted) return report;
      const name = sizeRowName(row);
      progress(`throughput: ${name}`);
      const mean = row.distribution ? meanSize(row.distribution) : row.size;
      const byBytes = Math.max(SIZE_ROW_MIN_MESSAGES, Math.round(sizing.sizeRowBytes / mean));
      const first = options.quick ? byBytes : Math.min(sizing.calibrationMessages, byBytes);
      const config = (total: number): ThroughputConfig => ({
        kind: 'throughput',
        transport: row.transport,
        size: row.size,
        ...(row.distribution ? { distribution: row.distribution } : {}),
        senders: 1,
        perSender: total,
        dir: scratch(),
        nodeArgs,
      });
      try {
        const result = await sizedRun<ThroughputResult>(sizing, options.quick, row.transport, config, { first, min: first });
        report.sizes.push(result);
        if (!result.verified) failures.push(`${name}: ${result.error}`);
      } catch (error) {
        failures.push(`${name}: ${(error as Error).message}`);
      }
    }
    const pingPong = async (config: Omit<LatencyConfig, 'kind' | 'warmup' | 'dir' | 'nodeArgs'>) => {
      const name = `ping-pong ${latencyName(config)}`;
      progress(name);
      try {
        const result = await runWorker<LatencyResult>({ kind: 'latency', ...config, warmup: sizing.warmup, dir: scratch(), nodeArgs });
        report.latency.push(result);
        if (!result.verified) failures.push(`${name}: ${result.error}`);
      } catch (error) {
        failures.push(`${name}: ${(error as Error).message}`);
      }
    };
    // Every pause for every row, the rows of one size and pause one after the other, so that rows
    // compared by the targets are measured alike and close together in time.
    for (const size of MESSAGE_SIZES) {
      for (const pauseUs of PAUSES_US) {
        for (const transport of options.transports) {
          for (const mode of latencyModes(transport)) {
            if (options.signal?.aborted) return report;
            await pingPong({ transport, mode, size, pauseUs, placement: 'any', rounds: sizing.rounds(transport, mode, pauseUs) });
          }
        }
      }
    }
    // Pinned rows (full runs, where taskset can pin): the target size, every waiting mode (two
    // spinners on one CPU would only measure time slices).
    const cpus = sizing.pinnedRounds > 0 ? twoCpus() : undefined;
    for (const [placement, pinned] of cpus ? pinnings(cpus) : []) {
      for (const pauseUs of PAUSES_US) {
        for (const transport of options.transports) {
          for (const mode of latencyModes(transport).filter((m) => m !== 'spin')) {
            if (options.signal?.aborted) return report;
            await pingPong({ transport, mode, size: TARGET_MESSAGE_SIZE, pauseUs, placement, cpus: pinned, rounds: sizing.pinnedRounds });
          }
        }
      }
    }
    if ((options.cli ?? true) && !options.signal?.aborted) await runCliFigures(report, sizing, options.binPath, scratch, nodeArgs, progress);
  } finally {
    load.after = loadavg()[0]!;
    rmSync(root, { recursive: true, force: true });
  }
  return report;
}

async function runCliFigures(
  report: BenchReport,
  sizing: Sizing,
  binPath: string,
  scratch: () => string,
  nodeArgs: readonly string[],
  progress: (line: string) => void,
): Promise<void> {
  const cli = report.cli as { -readonly [K in keyof CliFigures]: CliFigures[K] };
  const attempt = async (name: string, work: () => Promise<void>) => {
    progress(name);
    try {
      await work();
    } catch (error) {
      report.failures.push(`${name}: ${(error as Error).message}`);
    }
  };
  await attempt('CLI pipeline', async () => {
    cli.pipeline = await pipeline(binPath, scratch(), sizing.pipelineLines);
    if (!cli.pipeline.verified) report.failures.push(`CLI pipeline: ${cli.pipeline.error}`);
  });
  await attempt('start-up', async () => {
    cli.startup = startup(binPath, sizing.startupRuns);
  });
  await attempt('send start-up', async () => {
    cli.sendStartup = sendStartup(binPath, scratch(), sizing.startupRuns);
  });
  await attempt('receive --follow memory', async () => {
    cli.memory = await memory(binPath, scratch(), sizing.memoryWarmup, sizing.memoryMessages, nodeArgs);
    if (!cli.memory.verified) report.failures.push(`receive --follow memory: ${cli.memory.error}`);
  });
}

export { MESSAGE_SIZES, SENDER_COUNTS, TRANSPORTS, TRANSPORT_NAMES };
