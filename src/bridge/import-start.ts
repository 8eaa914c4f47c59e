/**
 * Starting an import: look at the ring (its id and slot size) without taking part, check the
 * cursor belongs to this very ring, check the engine (reachable, credentials, the stream or key,
 * the cursor within it), and only then open the ring, creating it if missing. A start that fails
 * leaves the ring as it was (and a ring that was not there is not created).
 */
import { BridgeStateError } from '../errors.js';
import { DEFAULT_SLOT_SIZE } from '../layout/ring-layout.js';
import { readCursor, type Cursor } from './files.js';
import { runImport, type ImportSource } from './import-loop.js';
import type { BridgeSettings } from './options.js';
import { lookAtRing, openForImport, ringOrigin } from './ring-attach.js';
import type { BridgeRuntime } from './runtime.js';
import type { BridgeEnd, BridgeIo } from './io.js';

interface ImportEngine {
  readonly plan: Record<string, unknown>;
  readonly source: ImportSource;
  /** The engine position to start after when there is no cursor. */
  readonly position: string;
  readonly ordinal: number | undefined;
}

export async function startImport(ringPath: string, settings: BridgeSettings, runtime: BridgeRuntime, io: BridgeIo): Promise<BridgeEnd> {
  const sight = lookAtRing(ringPath);
  if (sight) runtime.bindRing(sight.header.id);
  const stored = readCursor(ringPath, settings.name, settings.target.engine, settings.stream, sight?.header.id);
  const slotSize = sight?.header.slotSize ?? settings.creation.slotSize ?? DEFAULT_SLOT_SIZE;
  const engine = await openImportEngine(settings, stored, slotSize, runtime);
  try {
    const ring = openForImport(ringPath, settings.creation);
    try {
      if (sight !== undefined && ring.header.id !== sight.header.id) {
        throw new BridgeStateError(`was removed and created again while the import started; start it again`, { subject: ringPath });
      }
      runtime.bindRing(ring.header.id);
      runtime.event('started', { direction: 'import', ring: ring.path, url: settings.display, ...engine.plan, ...startNote(stored, settings) });
      const cursor: Cursor = stored ?? {
        version: 2,
        ringId: ring.header.id,
        name: settings.name,
        engine: settings.target.engine,
        stream: settings.stream,
        position: engine.position,
        ordinal: engine.ordinal,
        lost: 0,
        updatedAt: new Date().toISOString(),
      };
      return await runImport(ring, engine.source, cursor, runtime, {
        name: settings.name,
        ringPath,
        engine: settings.target.engine,
        stream: settings.stream,
        batch: settings.batch,
        once: settings.once,
        origin: settings.origin,
        sync: settings.sync,
        drainTimeoutMs: settings.drainTimeoutMs,
        ringIdentity: ringOrigin(ring).identity,
        signal: io.signal,
      });
    } finally {
      ring.close();
    }
  } finally {
    await engine.source.close();
  }
}

/** With a cursor, the start options do not apply: a restarted bridge resumes. */
function startNote(stored: Cursor | undefined, settings: BridgeSettings): Record<string, unknown> {
  return stored === undefined ? {} : { resumed: stored.position, ...(settings.start.kind !== 'from-start' ? { note: 'start option ignored: resuming from the cursor' } : {}) };
}

/** Only the engine in use is loaded (ioredis alone takes ~130 ms to load). */
async function openImportEngine(settings: BridgeSettings, stored: Cursor | undefined, slotSize: number, runtime: BridgeRuntime): Promise<ImportEngine> {
  if (settings.target.engine === 'nats') {
    const { connectNats } = await import('./nats-connect.js');
    const { prepareNatsImport, NatsImportSource } = await import('./nats-import.js');
    const session = await connectNats(settings.target.nats, settings.name, runtime);
    try {
      const start = settings.start.kind === 'id' ? { kind: 'from-start' as const } : settings.start;
      const plan = await prepareNatsImport(session, settings.stream, stored, start, slotSize);
      return { plan: { ...plan }, source: new NatsImportSource(session, plan), position: String(plan.position), ordinal: undefined };
    } catch (error) {
      await session.nc.close().catch(() => {});
      throw error;
    }
  }
  const { connectRedis } = await import('./redis-connect.js');
  const { prepareRedisImport, RedisImportSource } = await import('./redis-import.js');
  const client = await connectRedis(settings.target.redis, settings.name, runtime);
  try {
    const start = settings.start.kind === 'seq' ? { kind: 'from-start' as const } : settings.start;
    const plan = await prepareRedisImport(client, settings.stream, stored, start, settings.display);
    return { plan: { ...plan }, source: new RedisImportSource(client, plan, settings.display), position: plan.position, ordinal: plan.ordinal };
  } catch (error) {
    client.disconnect();
    throw error;
  }
}
