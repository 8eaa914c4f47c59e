/**
 * Running one bridge: take its lock, open the ring, connect, check the stream (or key), print
 * the plan (--dry-run stops there), then run the direction's loop until SIGTERM, SIGINT or,
 * with --once, until what was there has crossed. Loaded on demand by the `bridge` command, so
 * that no other command loads the engine clients.
 */
import { closeSync } from 'node:fs';
import { MmapipcError } from '../errors.js';
import { basename } from 'node:path';
import type { RingFile } from '../ring-file/ring-file.js';
import { runExport, type ExportSink } from './export-loop.js';
import { lockBridge, readCursor, type Cursor } from './files.js';
import { runImport, type ImportSource } from './import-loop.js';
import type { BridgeSettings } from './options.js';
import { FRAME_FIXED_LENGTH } from './origin.js';
import { openForExport, openForImport, openToInspect, rescueBeforeExport, ringOrigin } from './ring-attach.js';
import { BridgeRuntime, type LogSink } from './runtime.js';

export interface BridgeIo {
  readonly log: LogSink;
  /** The plan of a dry run (stdout). */
  readonly print: (text: string) => void;
  readonly signal: AbortSignal;
}

/** How the run ended: 'once' (all moved), 'drained' (stopped by a signal, in-flight work done), 'drain-timeout'. */
export type BridgeEnd = 'once' | 'drained' | 'drain-timeout' | 'dry-run';

/** Only the engine in use is loaded (ioredis alone takes ~130 ms to load). */
const nats = async () => ({ ...(await import('./nats-connect.js')), ...(await import('./nats-export.js')), ...(await import('./nats-import.js')) });
const redis = async () => ({ ...(await import('./redis-connect.js')), ...(await import('./redis-export.js')), ...(await import('./redis-import.js')) });

export async function runBridge(ringPath: string, settings: BridgeSettings, io: BridgeIo): Promise<BridgeEnd> {
  if (settings.dryRun) return dryRun(ringPath, settings, io);
  const lock = lockBridge(ringPath, settings.name);
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
  let ring: RingFile | undefined;
  let end: BridgeEnd = 'drained';
  let failed = false;
  try {
    ring = settings.direction === 'export' ? openForExport(ringPath, settings.name, settings.creation) : openForImport(ringPath, settings.creation);
    runtime.start();
    end = settings.direction === 'export' ? await exportFrom(ring, settings, runtime, io) : await importInto(ring, ringPath, settings, runtime, io);
    return end;
  } catch (error) {
    // The CLI reports it in one line; the status file keeps it for `bridge stat`.
    failed = true;
    runtime.noteError(error, { log: false });
    throw error;
  } finally {
    runtime.stop(end, { log: !failed });
    ring?.close();
    closeSync(lock);
  }
}

async function exportFrom(ring: RingFile, settings: BridgeSettings, runtime: BridgeRuntime, io: BridgeIo): Promise<BridgeEnd> {
  const origin = ringOrigin(ring);
  const stillHeld = await rescueBeforeExport(ring, io.signal, (held) =>
    runtime.event('note', { message: `waiting for ${held} message(s) a dead receiver held to be handed over (recovery hands it over once its holder is proven dead)` }),
  );
  if (stillHeld > 0 && !io.signal.aborted) {
    throw new MmapipcError(`${stillHeld} message(s) are still held by another receiver; an export must be the ring's only receiver`, { subject: ring.path });
  }
  let sink: ExportSink;
  if (settings.target.engine === 'nats') {
    const { connectNats, prepareNatsExport, NatsExportSink } = await nats();
    const session = await connectNats(settings.target.nats, settings.name, runtime);
    try {
      const plan = await prepareNatsExport(session, origin, natsExportOptions(ring, settings));
      runtime.event('started', { direction: 'export', ring: ring.path, url: settings.display, ...plan });
      sink = new NatsExportSink(session, origin, plan, settings.batch, runtime);
    } catch (error) {
      await session.nc.close().catch(() => {});
      throw error;
    }
  } else {
    const { connectRedis, prepareRedisExport, RedisExportSink } = await redis();
    const client = await connectRedis(settings.target.redis, settings.name, runtime);
    try {
      const plan = await prepareRedisExport(client, settings.stream, settings.createStream, settings.display);
      runtime.event('started', { direction: 'export', ring: ring.path, url: settings.display, ...plan });
      sink = new RedisExportSink(client, origin, plan, { batch: settings.batch, maxlen: settings.maxlen, subject: settings.display }, runtime);
    } catch (error) {
      client.disconnect();
      throw error;
    }
  }
  try {
    return await runExport(ring, sink, runtime, {
      batch: settings.batch,
      maxInflight: settings.maxInflight,
      lingerMs: settings.lingerMs,
      once: settings.once,
      drainTimeoutMs: settings.drainTimeoutMs,
      verbose: settings.verbose,
      target: { engine: settings.target.engine, stream: settings.stream },
      signal: io.signal,
    });
  } finally {
    await sink.close();
  }
}

function natsExportOptions(ring: RingFile, settings: BridgeSettings) {
  return {
    stream: settings.stream,
    subject: settings.subject,
    defaultSubject: `mmapipc.${basename(ring.path).replace(/[^A-Za-z0-9_-]/g, '_') || 'ring'}`,
    createStream: settings.createStream,
    shared: settings.shared,
    batch: settings.batch,
    slotSize: ring.maxMessageLength,
    dryRun: settings.dryRun,
  };
}

async function importInto(ring: RingFile, ringPath: string, settings: BridgeSettings, runtime: BridgeRuntime, io: BridgeIo): Promise<BridgeEnd> {
  const engine = settings.target.engine;
  const stored = readCursor(ringPath, settings.name, engine, settings.stream);
  const origin = ringOrigin(ring);
  let source: ImportSource;
  let cursor: Cursor;
  if (settings.target.engine === 'nats') {
    const { connectNats, prepareNatsImport, NatsImportSource } = await nats();
    const session = await connectNats(settings.target.nats, settings.name, runtime);
    try {
      const start = settings.start.kind === 'id' ? { kind: 'from-start' as const } : settings.start;
      const plan = await prepareNatsImport(session, settings.stream, stored, start, ring.maxMessageLength);
      runtime.event('started', { direction: 'import', ring: ring.path, url: settings.display, ...plan, ...startNote(stored, settings) });
      source = new NatsImportSource(session, plan);
      cursor = stored ?? newCursor(settings, String(plan.position), undefined);
    } catch (error) {
      await session.nc.close().catch(() => {});
      throw error;
    }
  } else {
    const { connectRedis, prepareRedisImport, RedisImportSource } = await redis();
    const client = await connectRedis(settings.target.redis, settings.name, runtime);
    try {
      const start = settings.start.kind === 'seq' ? { kind: 'from-start' as const } : settings.start;
      const plan = await prepareRedisImport(client, settings.stream, stored, start, settings.display);
      runtime.event('started', { direction: 'import', ring: ring.path, url: settings.display, ...plan, ...startNote(stored, settings) });
      source = new RedisImportSource(client, plan, settings.display);
      cursor = stored ?? newCursor(settings, plan.position, plan.ordinal);
    } catch (error) {
      client.disconnect();
      throw error;
    }
  }
  try {
    return await runImport(ring, source, cursor, runtime, {
      name: settings.name,
      ringPath,
      engine,
      stream: settings.stream,
      batch: settings.batch,
      once: settings.once,
      origin: settings.origin,
      sync: settings.sync,
      drainTimeoutMs: settings.drainTimeoutMs,
      ringIdentity: origin.identity,
      signal: io.signal,
    });
  } finally {
    await source.close();
  }
}

function newCursor(settings: BridgeSettings, position: string, ordinal: number | undefined): Cursor {
  return { version: 1, name: settings.name, engine: settings.target.engine, stream: settings.stream, position, ordinal, lost: 0, updatedAt: new Date().toISOString() };
}

/** With a cursor, the start options do not apply: a restarted bridge resumes. */
function startNote(stored: Cursor | undefined, settings: BridgeSettings): Record<string, unknown> {
  return stored === undefined ? {} : { resumed: stored.position, ...(settings.start.kind !== 'from-start' ? { note: 'start option ignored: resuming from the cursor' } : {}) };
}

/** --dry-run: connect, check, print the plan; touch neither the ring's messages nor its files. */
async function dryRun(ringPath: string, settings: BridgeSettings, io: Pick<BridgeIo, 'print'>): Promise<BridgeEnd> {
  const ring = openToInspect(ringPath);
  try {
    const slotSize = ring?.maxMessageLength ?? settings.creation.slotSize ?? 64;
    const ringPlan = ring
      ? { ring: ringPath, slots: ring.capacity, slotSize, waiting: ring.occupancy }
      : { ring: ringPath, missing: true, wouldCreate: { slots: settings.creation.slots ?? 100, slotSize } };
    let plan: Record<string, unknown>;
    if (settings.target.engine === 'nats') {
      const { connectNats, prepareNatsExport, prepareNatsImport } = await nats();
      const session = await connectNats(settings.target.nats, settings.name, undefined);
      try {
        if (settings.direction === 'export') {
          const origin = ring ? ringOrigin(ring) : { identity: ringPath, incarnation: '0-0' };
          const fake = { path: ringPath, maxMessageLength: slotSize } as RingFile;
          plan = { ...(await prepareNatsExport(session, origin, natsExportOptions(fake, settings))) };
        } else {
          const stored = readCursor(ringPath, settings.name, 'nats', settings.stream);
          const start = settings.start.kind === 'id' ? { kind: 'from-start' as const } : settings.start;
          plan = { ...(await prepareNatsImport(session, settings.stream, stored, start, slotSize)), originFrameBytes: settings.origin ? FRAME_FIXED_LENGTH + settings.stream.length : 0 };
        }
      } finally {
        await session.nc.close().catch(() => {});
      }
    } else {
      const { connectRedis, prepareRedisExport, prepareRedisImport } = await redis();
      const client = await connectRedis(settings.target.redis, settings.name, undefined);
      try {
        if (settings.direction === 'export') {
          plan = { ...(await prepareRedisExport(client, settings.stream, settings.createStream, settings.display)) };
        } else {
          const stored = readCursor(ringPath, settings.name, 'redis', settings.stream);
          const start = settings.start.kind === 'seq' ? { kind: 'from-start' as const } : settings.start;
          plan = { ...(await prepareRedisImport(client, settings.stream, stored, start, settings.display)) };
        }
      } finally {
        client.disconnect();
      }
    }
    const full = { dryRun: true, direction: settings.direction, name: settings.name, engine: settings.target.engine, url: settings.display, ...ringPlan, ...plan };
    if (settings.json) io.print(`${JSON.stringify(full)}\n`);
    else io.print(`${Object.entries(full).map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`).join('\n')}\n`);
    return 'dry-run';
  } finally {
    ring?.close();
  }
}
