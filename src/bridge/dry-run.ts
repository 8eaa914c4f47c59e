/** `bridge export|import --dry-run`: connect, check, print the plan; touch neither the ring nor its files. */
import { DEFAULT_SLOT_SIZE } from '../layout/ring-layout.js';
import { natsExportOptions } from './export-start.js';
import { readCursor } from './files.js';
import type { BridgeSettings } from './options.js';
import { lookAtRing, provisionalOrigin, ringOrigin } from './ring-attach.js';
import type { BridgeEnd, BridgeIo } from './io.js';

export async function dryRun(ringPath: string, settings: BridgeSettings, io: Pick<BridgeIo, 'print'>): Promise<BridgeEnd> {
  const sight = lookAtRing(ringPath);
  const slotSize = sight?.header.slotSize ?? settings.creation.slotSize ?? DEFAULT_SLOT_SIZE;
  const ringPlan = sight
    ? { ring: ringPath, slots: sight.header.slotCount, slotSize, waiting: sight.waiting }
    : { ring: ringPath, missing: true, wouldCreate: { slots: settings.creation.slots ?? 100, slotSize } };
  const stored = settings.direction === 'import' ? readCursor(ringPath, settings.name, settings.target.engine, settings.stream, sight?.header.id) : undefined;
  let plan: Record<string, unknown>;
  if (settings.target.engine === 'nats') {
    const { connectNats } = await import('./nats-connect.js');
    const { prepareNatsExport } = await import('./nats-export.js');
    const { prepareNatsImport } = await import('./nats-import.js');
    const session = await connectNats(settings.target.nats, settings.name, undefined);
    try {
      if (settings.direction === 'export') {
        const origin = sight ? ringOrigin(sight) : provisionalOrigin(ringPath);
        plan = { ...(await prepareNatsExport(session, origin, natsExportOptions(ringPath, slotSize, settings))) };
      } else {
        const start = settings.start.kind === 'id' ? { kind: 'from-start' as const } : settings.start;
        plan = { ...(await prepareNatsImport(session, settings.stream, stored, start, slotSize)) };
      }
    } finally {
      await session.nc.close().catch(() => {});
    }
  } else {
    const { connectRedis } = await import('./redis-connect.js');
    const { prepareRedisExport } = await import('./redis-export.js');
    const { prepareRedisImport } = await import('./redis-import.js');
    const client = await connectRedis(settings.target.redis, settings.name, undefined);
    try {
      if (settings.direction === 'export') {
        plan = { ...(await prepareRedisExport(client, settings.stream, settings.createStream, settings.display)) };
      } else {
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
}
