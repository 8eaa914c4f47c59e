/**
 * `mmapipc stat`: what a ring holds and who uses it, read from the file without taking part
 * (the observer takes no participant entry and keeps no lock). --watch redraws once a second;
 * --prometheus prints the figures for a scraper (stat-export.ts), or writes them atomically
 * with --output. --file may be repeated for several rings.
 */
import { Option, type Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { MmapipcError, UsageError } from '../../errors.js';
import { RingObserver } from '../../ring-file/observe.js';
import type { StatOptions } from '../command-options.js';
import type { CliContext } from '../context.js';
import { durationOption, ringPath } from '../options.js';
import { write } from '../output.js';
import { addLayoutOption } from '../classic/layout-option.js';
import { statLines, statRecord } from './stat-view.js';
import { exportPrometheus } from './stat-export.js';
import { repeatable } from '../completion-values.js';

export const WATCH_INTERVAL_MS = 1000;
/** ANSI: cursor up n lines, then clear to the end of the screen. */
const redrawFrom = (rows: number) => (rows > 0 ? `\x1b[${rows}A\x1b[J` : '');
const ANSI_SEQUENCE = /\x1b\[[0-9;]*[A-Za-z]/g;

/** Terminal rows the lines take: a line longer than the terminal wraps onto more rows. */
function rowsOf(lines: readonly string[], columns: number): number {
  return lines.reduce((rows, line) => rows + Math.max(1, Math.ceil(line.replace(ANSI_SEQUENCE, '').length / columns)), 0);
}

export function registerStat(program: Command, context: CliContext): void {
  const command = program.command('stat').description('show what a ring holds and who is using it');
  command.addOption(
    repeatable(
      new Option('-f, --file <path>', 'ring file; repeat for several rings (default: $MMAPIPC_FILE or /tmp/mmap_shared)').argParser(
        (path: string, previous: string[] | undefined) => [...(previous ?? []), path],
      ),
    ),
  );
  addLayoutOption(command);
  command
    .option('--json', 'print one JSON object (one line) with the fields listed below')
    .option('--prometheus', 'print the figures in the Prometheus text format, labelled with each ring\'s path')
    .option('-o, --output <file>', 'with --prometheus: write the exposition to this file atomically (temp file + rename), for node_exporter\'s textfile collector')
    .option('-w, --watch', `redraw every ${WATCH_INTERVAL_MS / 1000} s (or --interval) until interrupted (a new block or JSON line each time when piped; --prometheus: a new exposition)`)
    .addOption(durationOption('-i, --interval <duration>', `with --watch: time between rounds; bare numbers are seconds (default ${WATCH_INTERVAL_MS / 1000})`));
  command.addHelpText(
    'after',
    `
Shows the format version, slots × slot size, messages waiting (with a bar: green,
yellow when nearly full, red when full; colour only on a terminal), head and tail
positions, totals sent and received, attached senders and receivers with pid and
alive/dead, time since the last activity, recovery counters, and who created the ring.
stat only reads the file: it never shows up as a participant and never blocks anyone.

JSON fields (stable; see docs/stat.md):
  file, fileBytes, formatVersion, slots, slotSize, maxMessageBytes, waiting, free, full, head, tail,
  sent, received, delivered, senders {alive, dead}, receivers {alive, dead},
  participants [{pid, role, alive, state, group, attachedAt}],
  groups [{name, lossy, position, floor, lag, inFlight, redelivered, missed, gaps,
  delivered, createdAt, members}],
  claims [{kind, pid, state, group, from, count, ageMs}], blockedBy,
  lastActivity, idleMs, releasedSlots, redelivered, creatorPid, creatorAlive, createdAt, time

Examples:
  mmapipc stat                               the default ring, once
  mmapipc stat --watch --file ./q.ring       redraw every second; Ctrl-C to stop
  mmapipc stat --json | jq .waiting          the backlog, for scripts
  mmapipc stat --json --watch > stat.jsonl   one JSON line per second
  mmapipc stat --prometheus --file a.ring --file b.ring
                                             both rings' figures for a scraper
  mmapipc stat --prometheus --watch --interval 15 --file a.ring \
      --output /var/lib/node_exporter/textfile/mmapipc.prom
                                             keep node_exporter's textfile fresh

Prometheus counters (*_total) only ever grow: they count what happened (messages sent,
finished by members, released, redelivered); a group's counters start at 0 when it is
(re)created, as mmapipc_group_created_timestamp_seconds shows. Every ring gets
mmapipc_up (1, or 0 with its error on stderr: the other rings are still printed and
the run exits with that error's code) and mmapipc_info. See docs/stat.md.

Exit codes: 0 ok, 1 no such ring file, 2 usage, 3 not a ring file (or a corrupt one), 4 unsafe file, 130 Ctrl-C.`,
  );
  command.action((options: StatOptions) => stat(options, context));
}

/** The rings to read: one per --file, else $MMAPIPC_FILE or the default. */
function statPaths(files: readonly string[] | undefined, env: NodeJS.ProcessEnv): string[] {
  return files === undefined || files.length === 0 ? [ringPath(undefined, env)] : files.map((file) => ringPath(file, env));
}

/** Refuses options that cannot go together, naming them. */
function checkCombination(options: StatOptions, paths: readonly string[]): void {
  if (options.prometheus && options.json) throw new UsageError('--prometheus and --json are two formats of the same figures; pick one');
  if (options.output !== undefined && !options.prometheus) throw new UsageError('--output writes the Prometheus exposition; add --prometheus');
  if (options.interval !== undefined && !options.watch) throw new UsageError('--interval sets the time between --watch rounds; add --watch');
  if (options.interval !== undefined && options.interval <= 0) throw new UsageError('--interval: expected a duration above 0');
  if (options.layout === 'classic' && options.prometheus) throw new UsageError('--prometheus reads mmapipc ring files only; drop --layout classic');
  if (options.layout === 'classic' && paths.length > 1) throw new UsageError('--layout classic reads one file; pass --file once');
}

export async function stat(options: StatOptions, context: CliContext): Promise<void> {
  const paths = statPaths(options.file, context.env);
  checkCombination(options, paths);
  if (options.layout === 'classic') {
    return (await import('../classic/inspect.js')).statClassic(paths[0]!, options, context);
  }
  const intervalMs = options.interval ?? WATCH_INTERVAL_MS;
  if (options.prometheus) return exportPrometheus(paths, { output: options.output, watch: Boolean(options.watch), intervalMs }, context);
  const observers: RingObserver[] = [];
  try {
    for (const path of paths) {
      const observer = RingObserver.open(path);
      observers.push(observer);
      observer.validate(); // a slot no process of the ring could have written: exit 3, as openers refuse it
    }
    const out = context.output.out;
    const inPlace = Boolean(options.watch) && out.isTTY && !options.json;
    let drawn = 0;
    for (let first = true; ; first = false) {
      const snapshots = observers.map((observer) => observer.snapshot());
      if (options.json) {
        write(out, snapshots.map((snapshot) => `${JSON.stringify(statRecord(snapshot))}\n`).join(''));
      } else {
        const blocks = snapshots.map((snapshot) => {
          const lines = statLines(statRecord(snapshot), out.color);
          if (!snapshot.linked) lines.push(out.color.red('  (the file has been removed)'));
          return lines;
        });
        // Several rings: a blank line between their blocks, as between one ring's rounds.
        const lines = blocks.flatMap((block, i) => (i === 0 ? block : ['', ...block]));
        const separator = !first && !inPlace ? '\n' : '';
        write(out, `${inPlace ? redrawFrom(drawn) : separator}${lines.join('\n')}\n`);
        drawn = rowsOf(lines, out.columns);
      }
      const removed = snapshots.find((snapshot) => !snapshot.linked);
      if (removed && options.watch) {
        throw new MmapipcError('was removed while being watched; stopping', { subject: removed.path });
      }
      if (!options.watch || context.signal.aborted) return;
      try {
        await sleep(intervalMs, undefined, { signal: context.signal });
      } catch {
        return; // interrupted: main() exits 130 for SIGINT
      }
    }
  } finally {
    for (const observer of observers) observer.close();
  }
}
