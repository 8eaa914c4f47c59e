/**
 * `mmapipc bench`: the same workload over mmapipc, child_process IPC, a Unix socket and a named
 * pipe, fan-out to consumer groups, plus the CLI's own figures, each printed beside its target.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MmapipcError } from '../../errors.js';
import { TRANSPORTS, type Transport } from '../../bench/protocol.js';
import type { CliContext } from '../context.js';
import { note, write } from '../output.js';
import { offerValues } from '../completion-values.js';

export interface BenchOptions {
  quick?: boolean;
  json?: boolean;
  chart?: string;
  transports?: Transport[];
  cli?: boolean;
  bridge?: boolean;
  requestReply?: boolean;
}

function parseTransports(value: string): Transport[] {
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(TRANSPORTS as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new InvalidArgumentError(`expected a comma-separated list of ${TRANSPORTS.join(', ')}, got '${value}'`);
  }
  return names as Transport[];
}

/** How long the full run takes; the README and docs/performance.md quote it (test/e2e/docs-drift.test.ts checks). */
export const FULL_RUN_TIME = 'about 4-5 minutes on 2 cores';

export function registerBench(program: Command, context: CliContext): void {
  program
    .command('bench')
    .description('measure mmapipc against child_process IPC, a Unix socket and a named pipe')
    .option('--quick', 'a short run that checks every transport works (figures are rough)')
    .option('--json', 'print the results as JSON')
    .option('--chart <file>', 'also write an SVG chart of the results to <file>')
    .addOption(offerValues(new Option('--transports <list>', `only these transports (default: ${TRANSPORTS.join(',')})`).argParser(parseTransports), TRANSPORTS))
    .option('--no-cli', 'skip the CLI figures (pipeline, start-up, memory)')
    .option('--bridge', 'instead: msg/s through mmapipc bridge each way, with a local nats-server and redis-server (not in the default run)')
    .option('--request-reply', 'instead: request/reply over mmapipc, a Unix socket and child_process IPC: p50/p99 with and without a 200 µs pause, requests/s with 8 in flight')
    .addHelpText(
      'after',
      `
Every sender and receiver is a process of its own; every message is counted and checked.
The targets printed beside the figures are the project's benchmark targets, not pass/fail
tests: a missed target does not change the exit code; a lost or damaged message exits 1.

Examples:
  mmapipc bench                        the full run (${FULL_RUN_TIME})
  mmapipc bench --quick --json         a short run, as JSON
  mmapipc bench --chart perf.svg       also draw the chart
  mmapipc bench --transports mmapipc --no-cli
  mmapipc bench --bridge               the bridge to NATS JetStream and Redis Streams, each way
  mmapipc bench --request-reply --json request/reply rows ({"pattern":"request-reply",...})`,
    )
    .action((options: BenchOptions) => bench(options, context));
}

/** Refuses a chart path whose directory cannot take the file, before minutes of measuring. */
function checkChartPath(path: string): void {
  try {
    accessSync(dirname(resolve(path)), constants.W_OK);
  } catch (error) {
    throw new MmapipcError(`cannot write the chart there: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} on its directory`, {
      subject: path,
      cause: error,
    });
  }
}

export async function bench(options: BenchOptions, context: CliContext): Promise<void> {
  if (options.bridge) return benchBridge(options, context);
  if (options.requestReply) return benchRequestReply(options, context);
  if (options.chart) checkChartPath(options.chart);
  // Loaded here, not at the top: every other command's start-up stays free of the bench's modules.
  const [{ runBench }, { formatReport }, { chartSvg }, { checkTargets }] = await Promise.all([
    import('../../bench/run.js'),
    import('../../bench/report.js'),
    import('../../bench/svg.js'),
    import('../../bench/targets.js'),
  ]);
  const { output } = context;
  const progress = output.err.isTTY ? (line: string) => note(output, output.err.color.dim(`running: ${line}`)) : undefined;
  const report = await runBench({
    quick: options.quick ?? false,
    transports: options.transports ?? TRANSPORTS,
    binPath: context.binPath,
    cli: options.cli,
    progress,
    signal: context.signal,
  });
  if (context.signal.aborted) return;
  if (options.chart) {
    try {
      writeFileSync(options.chart, chartSvg(report));
    } catch (error) {
      throw new MmapipcError(`cannot write the chart: ${(error as Error).message}`, { subject: options.chart, cause: error });
    }
  }
  if (options.json) write(output.out, `${JSON.stringify({ ...report, targets: checkTargets(report) }, null, 2)}\n`);
  else write(output.out, formatReport(report, output.out.color));
  if (report.failures.length > 0) {
    throw new MmapipcError(`${report.failures.length} measurement(s) failed; first: ${report.failures[0]}`, { subject: 'bench' });
  }
}

/** `bench --bridge`: the bridge's figures alone (loaded on demand, like the engine clients it uses). */
async function benchBridge(options: BenchOptions, context: CliContext): Promise<void> {
  const { runBridgeBench, formatBridgeFigures } = await import('../../bench/bridge.js');
  const { output } = context;
  const figures = await runBridgeBench({
    binPath: context.binPath,
    messages: options.quick ? 20_000 : 200_000,
    progress: output.err.isTTY ? (line) => note(output, output.err.color.dim(`running: ${line}`)) : undefined,
  });
  if (options.json) write(output.out, `${JSON.stringify({ bridge: figures }, null, 2)}\n`);
  else write(output.out, formatBridgeFigures(figures));
  const failed = figures.filter((figure) => !figure.verified);
  if (failed.length > 0) throw new MmapipcError(`${failed.length} bridge measurement(s) failed; first: ${failed[0]!.problem}`, { subject: 'bench' });
}

/** `bench --request-reply`: the request/reply rows alone. */
async function benchRequestReply(options: BenchOptions, context: CliContext): Promise<void> {
  const { runRequestReplyBench, checkRequestReplyTargets, formatRequestReply } = await import('../../bench/request-reply.js');
  const { output } = context;
  const rows = await runRequestReplyBench({
    quick: options.quick ?? false,
    progress: output.err.isTTY ? (line) => note(output, output.err.color.dim(`running: ${line}`)) : undefined,
  });
  const targets = checkRequestReplyTargets(rows);
  if (options.json) write(output.out, `${JSON.stringify({ requestReply: rows, targets }, null, 2)}\n`);
  else write(output.out, formatRequestReply(rows, targets));
  const failed = rows.filter((row) => row.error !== undefined);
  if (failed.length > 0) throw new MmapipcError(`${failed.length} request/reply measurement(s) failed; first: ${failed[0]!.error}`, { subject: 'bench' });
}
