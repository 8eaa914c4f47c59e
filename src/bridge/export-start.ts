/**
 * Starting an export, in the order that keeps a failed start from changing the ring:
 *   1. look at the ring (its slot size and origin), taking no part in it;
 *   2. the engine: reachable, the credentials accepted, the stream or key usable, the ring's
 *      messages within its size limits, and what it already holds of this ring (a chained
 *      stream with another writer is refused here);
 *   3. only then join the ring as the export's group; `default` is replaced (settleDefault)
 *      only once the engine has answered the loop's first question. A start that fails after
 *      step 3 removes the group it created, and only that.
 */
import { basename } from 'node:path';
import { DEFAULT_SLOT_SIZE } from '../layout/ring-layout.js';
import { runExport, type ExportSink } from './export-loop.js';
import { bridgeFault } from './fault.js';
import type { BridgeSettings } from './options.js';
import { attachExport, detachFailedExport, exportGroup, lookAtRing, provisionalOrigin, ringOrigin, settleDefault, type RingOrigin } from './ring-attach.js';
import { RetryableError, type BridgeRuntime } from './runtime.js';
import type { BridgeEnd, BridgeIo } from './io.js';

/** The engine side, checked and ready: a sink for the ring's real origin once it is attached. */
interface ExportEngine {
  readonly plan: Record<string, unknown>;
  sinkFor(origin: RingOrigin): ExportSink;
  close(): Promise<void>;
}

export async function startExport(ringPath: string, settings: BridgeSettings, runtime: BridgeRuntime, io: BridgeIo): Promise<BridgeEnd> {
  const sight = lookAtRing(ringPath);
  if (sight) runtime.bindRing(sight.header.id);
  const origin = sight ? ringOrigin(sight) : provisionalOrigin(ringPath);
  const slotSize = sight?.header.slotSize ?? settings.creation.slotSize ?? DEFAULT_SLOT_SIZE;
  const engine = await openExportEngine(ringPath, settings, origin, slotSize, runtime);
  let connected = false;
  try {
    // The engine may already hold messages of this ring: a refusal (another writer) ends the start here.
    await probeResync(engine.sinkFor(origin));
    const attachment = attachExport(ringPath, settings.name, settings.creation);
    const { ring } = attachment;
    try {
      runtime.bindRing(ring.header.id);
      // What a previous export died holding is handed over by recovery, before anything newer.
      ring.recover();
      bridgeFault('export-attached');
      runtime.event('started', { direction: 'export', ring: ring.path, url: settings.display, ...engine.plan });
      const own = exportGroup(settings.name);
      return await runExport(ring, engine.sinkFor(ringOrigin(ring)), runtime, {
        batch: settings.batch,
        maxInflight: settings.maxInflight,
        lingerMs: settings.lingerMs,
        once: settings.once,
        drainTimeoutMs: settings.drainTimeoutMs,
        verbose: settings.verbose,
        target: { engine: settings.target.engine, stream: settings.stream },
        signal: io.signal,
        onConnected: () => {
          connected = true;
          const outcome = settleDefault(attachment, own);
          if (outcome.kind === 'kept') io.log.line(keptDefaultNote(ringPath, own, outcome.members, outcome.waiting));
        },
      });
    } finally {
      if (!connected) detachFailedExport(attachment, settings.name);
      ring.close();
    }
  } finally {
    await engine.close();
  }
}

function keptDefaultNote(ringPath: string, own: string, members: number, waiting: number): string {
  const why = members > 0 ? `it has ${members} member(s)` : `${waiting} message(s) wait for it and no receiver takes them`;
  const advice = members > 0 ? '' : `; senders wait for it once the ring is full: receive them, or run mmapipc group rm default --file ${ringPath}`;
  return `mmapipc: ${ringPath}: note: kept group 'default' (${why}); the export reads as its own group '${own}'${advice}`;
}

/** One question to the engine before the ring is touched; a lost connection is left to the loop's retries. */
async function probeResync(sink: ExportSink): Promise<void> {
  try {
    await sink.resync();
  } catch (error) {
    if (!(error instanceof RetryableError)) throw error;
  }
}

/** Only the engine in use is loaded (ioredis alone takes ~130 ms to load). */
async function openExportEngine(ringPath: string, settings: BridgeSettings, origin: RingOrigin, slotSize: number, runtime: BridgeRuntime): Promise<ExportEngine> {
  if (settings.target.engine === 'nats') {
    const { connectNats } = await import('./nats-connect.js');
    const { prepareNatsExport, NatsExportSink } = await import('./nats-export.js');
    const session = await connectNats(settings.target.nats, settings.name, runtime);
    try {
      const plan = await prepareNatsExport(session, origin, natsExportOptions(ringPath, slotSize, settings));
      return {
        plan: { ...plan },
        sinkFor: (real) => new NatsExportSink(session, real, plan, settings.batch, runtime),
        close: () => session.nc.close().catch(() => {}),
      };
    } catch (error) {
      await session.nc.close().catch(() => {});
      throw error;
    }
  }
  const { connectRedis } = await import('./redis-connect.js');
  const { prepareRedisExport, RedisExportSink } = await import('./redis-export.js');
  const client = await connectRedis(settings.target.redis, settings.name, runtime);
  try {
    const plan = await prepareRedisExport(client, settings.stream, settings.createStream, settings.display);
    return {
      plan: { ...plan },
      sinkFor: (real) => new RedisExportSink(client, real, plan, { batch: settings.batch, maxlen: settings.maxlen, subject: settings.display }, runtime),
      close: async () => client.disconnect(),
    };
  } catch (error) {
    client.disconnect();
    throw error;
  }
}

export function natsExportOptions(ringPath: string, slotSize: number, settings: BridgeSettings) {
  return {
    stream: settings.stream,
    subject: settings.subject,
    defaultSubject: `mmapipc.${basename(ringPath).replace(/[^A-Za-z0-9_-]/g, '_') || 'ring'}`,
    createStream: settings.createStream,
    shared: settings.shared,
    batch: settings.batch,
    slotSize,
    dryRun: settings.dryRun,
  };
}
