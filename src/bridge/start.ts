/**
 * Running one bridge: take its lock, then start the direction (export-start.ts,
 * import-start.ts: the engine is checked before the ring is touched) and run its loop until
 * SIGTERM, SIGINT or, with --once, until what was there has crossed. Loaded on demand by the
 * `bridge` command, so that no other command loads the engine clients.
 */
import { closeSync, existsSync } from 'node:fs';
import { dryRun } from './dry-run.js';
import { startExport } from './export-start.js';
import { lockBridge } from './bridge-lock.js';
import { forgetBridge, resetBridgeState } from './files.js';
import { startImport } from './import-start.js';
import type { BridgeSettings } from './options.js';
import type { BridgeEnd, BridgeIo } from './io.js';
import { BridgeRuntime } from './runtime.js';

export type { BridgeEnd, BridgeIo } from './io.js';

export async function runBridge(ringPath: string, settings: BridgeSettings, io: BridgeIo): Promise<BridgeEnd> {
  if (settings.dryRun) return dryRun(ringPath, settings, io);
  const lock = lockBridge(ringPath, settings.name, settings.creation);
  if (settings.resetState) resetBridgeState(ringPath, settings.name);
  const runtime = new BridgeRuntime({
    name: settings.name,
    direction: settings.direction,
    engine: settings.target.engine,
    url: settings.display,
    stream: settings.stream,
    ringPath,
    json: settings.json,
    verbose: settings.verbose,
    log: io.log,
    writeStatus: true,
  });
  let end: BridgeEnd = 'drained';
  let failed = false;
  try {
    runtime.start();
    end = settings.direction === 'export' ? await startExport(ringPath, settings, runtime, io) : await startImport(ringPath, settings, runtime, io);
    return end;
  } catch (error) {
    // The CLI reports it in one line; the status file keeps it for `bridge stat`.
    failed = true;
    runtime.noteError(error, { log: false });
    throw error;
  } finally {
    runtime.stop(end, { log: !failed });
    // A start that failed before there was a ring leaves no bridge directory behind either.
    if (!existsSync(ringPath)) forgetBridge(ringPath, settings.name);
    closeSync(lock);
  }
}
