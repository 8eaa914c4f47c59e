/**
 * `mmapipc stat --prometheus`: reads each ring, prints (or writes to --output) the exposition,
 * and with --watch does it again every --interval until interrupted.
 *
 * A ring that cannot be read costs only its own figures: the others are still in the
 * exposition, the failing one has `mmapipc_up{path=...} 0`, its error goes to stderr, and a
 * single run exits with that error's code. --output is written atomically for node_exporter's
 * textfile collector: a temporary file in the same directory (named so that the collector, which
 * reads only *.prom, never sees it), then rename(2) over the target, so a scrape never reads half
 * a file.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MmapipcError } from '../../errors.js';
import { RingObserver } from '../../ring-file/observe.js';
import type { CliContext } from '../context.js';
import { note, write } from '../output.js';
import { prometheusText, type PrometheusRing } from './stat-prometheus.js';
import { VERSION } from '../version.js';


export interface ExportOptions {
  readonly output?: string;
  readonly watch: boolean;
  readonly intervalMs: number;
}

/** A ring being exported: its observer while it can be read. */
interface Source {
  readonly path: string;
  observer?: RingObserver;
  /** The last error line printed for it, so a watch repeats none. */
  lastError?: string;
}

function read(source: Source): PrometheusRing {
  try {
    if (source.observer === undefined) {
      const observer = RingObserver.open(source.path);
      try {
        observer.validate();
      } catch (error) {
        observer.close();
        throw error;
      }
      source.observer = observer;
    }
    const snapshot = source.observer.snapshot();
    if (!snapshot.linked) {
      source.observer.close();
      source.observer = undefined;
      throw new MmapipcError('was removed while being read', { subject: source.path });
    }
    source.lastError = undefined;
    return { path: source.path, snapshot };
  } catch (error) {
    source.observer?.close();
    source.observer = undefined;
    return { path: source.path, error: error instanceof Error ? error : new Error(String(error)) };
  }
}

/** Writes `text` to `path` through a temporary file in the same directory and a rename. */
export function writeAtomically(path: string, text: string): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, text, { mode: 0o644 });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new MmapipcError(`cannot write the exposition there (${reason}); pass --output a path in a directory you can write`, { subject: path, cause: error });
  }
}

const lineOf = (error: Error): string => (error instanceof MmapipcError ? error.line : error.message);

export async function exportPrometheus(paths: readonly string[], options: ExportOptions, context: CliContext): Promise<void> {
  const sources: Source[] = paths.map((path) => ({ path }));
  try {
    for (;;) {
      const rings = sources.map(read);
      const text = prometheusText(rings, VERSION);
      if (options.output === undefined) write(context.output.out, text);
      else writeAtomically(options.output, text);
      const failures = rings.flatMap((ring, i) => ('error' in ring ? [{ error: ring.error, source: sources[i]! }] : []));
      if (!options.watch) {
        // Every failure on stderr; the last one by the entry point, which exits with its code.
        for (const { error } of failures.slice(0, -1)) note(context.output, `mmapipc: ${lineOf(error)}`);
        if (failures.length > 0) throw failures.at(-1)!.error;
        return;
      }
      for (const { error, source } of failures) {
        const line = lineOf(error);
        if (line !== source.lastError) note(context.output, `mmapipc: ${line}`);
        source.lastError = line;
      }
      try {
        await sleep(options.intervalMs, undefined, { signal: context.signal });
      } catch {
        return; // interrupted: main() exits 130 for SIGINT
      }
    }
  } finally {
    for (const source of sources) source.observer?.close();
  }
}
