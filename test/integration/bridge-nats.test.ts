/**
 * `mmapipc bridge` against a real nats-server (JetStream, random loopback port, temporary
 * directory): a 50,000-message round trip ring -> stream -> ring, a server restart under each
 * direction, a full stream that fills the ring and makes senders wait, and the loop guard.
 */
import { runCli } from '../helpers/cli.js';
import {
  bridgeStatus,
  committed,
  EVENT_DEADLINE_MS,
  events,
  finished,
  killStragglers,
  lastRingSequence,
  peerReport,
  startBridge,
  startPeer,
  type ExportCheck,
  type ImportReport,
  untilAsync,
} from '../helpers/bridge.js';
import { until } from '../helpers/proc.js';
import { describeWith, NatsServer } from '../helpers/servers.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('mmapipc-bridge-nats-');
let nats: NatsServer;

async function createRing(path: string, slots: number, slotSize = 256): Promise<void> {
  const result = await runCli(['create', '--file', path, '--slots', String(slots), '--slot-size', String(slotSize)]);
  expect(result.stderr).toBe('');
}

async function natsStream(operation: 'add' | 'update', config: Record<string, unknown>): Promise<void> {
  expect(await finished(startPeer(['nats-stream', nats.url, operation, JSON.stringify(config)]), 'nats-stream')).toBe('ok');
}

/** SIGTERM, then the exit: a bridge drains and exits 0. */
async function stop(bridge: ReturnType<typeof startBridge>, what: string): Promise<void> {
  bridge.kill('SIGTERM');
  await finished(bridge, what);
}

describeWith('nats-server', 'bridge with NATS JetStream', () => {
  beforeAll(async () => {
    nats = await NatsServer.start();
  });
  afterEach(killStragglers);
  afterAll(async () => {
    await nats?.dispose();
    dir.remove();
  });

  const N = 50_000;

  test('a round trip ring -> stream -> ring carries 50,000 mixed messages exactly, in order, each marked with its origin', async () => {
    const a = dir.file('rt-a.ring');
    const b = dir.file('rt-b.ring');
    await createRing(a, 4096);
    await createRing(b, 1024);
    const exporter = startBridge(['export', '--file', a, '--nats', nats.url, '--stream', 'RT', '--create-stream']);
    await exporter.waitForLine(/"state":"connected"/, EVENT_DEADLINE_MS, 'export ready');
    const sender = startPeer(['send', a, '0', String(N)]);
    await exporter.waitUntil(() => lastRingSequence(exporter) === N - 1, EVENT_DEADLINE_MS, 'export of 50,000 messages');
    await finished(sender, 'sender');
    await stop(exporter, 'export');
    const check = await peerReport<ExportCheck>(['check-nats', nats.url, 'RT', 'gen']);
    expect(check).toMatchObject({ count: N, firstRingSeq: 0, lastRingSeq: N - 1, gaps: 0, repeats: 0, mismatches: 0 });

    // 50,000 messages into 1,024 slots with no receiver yet: the import waits for room, it never drops.
    const importer = startBridge(['import', '--file', b, '--nats', nats.url, '--stream', 'RT', '--once']);
    await importer.waitUntil(() => events(importer, 'state').some((event) => event.state === 'blocked-ring-full'), EVENT_DEADLINE_MS, 'a full ring');
    const receiver = startPeer(['receive-ring', b, '0'], 'pipe');
    await finished(importer, 'import');
    receiver.tell(`expect ${N}`);
    const report = JSON.parse(await finished(receiver, 'receiver')) as ImportReport;
    expect(report).toMatchObject({ received: N, distinct: N, duplicates: 0, unframed: 0, outOfOrder: 0, mismatches: 0 });
  });

  test('export rides out a nats-server restart (same port and directory): every message once, in ring order', async () => {
    const ring = dir.file('restart-export.ring');
    await createRing(ring, 512);
    const count = 10_000;
    const exporter = startBridge(['export', '--file', ring, '--nats', nats.url, '--stream', 'RESTART_EXPORT', '--create-stream']);
    await exporter.waitForLine(/"state":"connected"/, EVENT_DEADLINE_MS, 'export ready');
    const sender = startPeer(['send', ring, '0', String(count)]);
    await exporter.waitUntil(() => committed(exporter) >= 1000, EVENT_DEADLINE_MS, 'export before the restart');
    await nats.restart();
    await exporter.waitUntil(() => lastRingSequence(exporter) === count - 1, EVENT_DEADLINE_MS, 'export after the restart');
    await finished(sender, 'sender');
    await stop(exporter, 'export');
    expect(events(exporter, 'state').some((event) => event.state === 'reconnecting')).toBe(true);
    const check = await peerReport<ExportCheck>(['check-nats', nats.url, 'RESTART_EXPORT', 'gen']);
    expect(check).toMatchObject({ count, firstRingSeq: 0, lastRingSeq: count - 1, gaps: 0, repeats: 0, mismatches: 0 });
  });

  test('import rides out a nats-server restart: every message arrives, none twice', async () => {
    const ring = dir.file('restart-import.ring');
    await createRing(ring, 512);
    const count = 10_000;
    await natsStream('add', { name: 'RESTART_IMPORT', subjects: ['restart.import'] });
    await finished(startPeer(['publish-nats', nats.url, 'RESTART_IMPORT', 'restart.import', '0', String(count)]), 'publisher');
    const receiver = startPeer(['receive-ring', ring, '0'], 'pipe');
    const importer = startBridge(['import', '--file', ring, '--nats', nats.url, '--stream', 'RESTART_IMPORT', '--batch', '200']);
    await importer.waitUntil(() => committed(importer) >= 1000, EVENT_DEADLINE_MS, 'import before the restart');
    await nats.restart();
    receiver.tell(`expect ${count}`);
    const report = JSON.parse(await finished(receiver, 'receiver')) as ImportReport;
    await stop(importer, 'import');
    expect(report).toMatchObject({ received: count, distinct: count, duplicates: 0, unframed: 0, outOfOrder: 0, mismatches: 0 });
  });

  test('a full stream (discard new) fills the ring and makes senders wait; room in the stream lets everything through', async () => {
    const ring = dir.file('full.ring');
    await createRing(ring, 100);
    await natsStream('add', { name: 'FULL', subjects: ['full'], max_msgs: 300, discard: 'new' });
    const exporter = startBridge(['export', '--file', ring, '--nats', nats.url, '--stream', 'FULL', '--batch', '50']);
    await exporter.waitForLine(/"state":"connected"/, EVENT_DEADLINE_MS, 'export ready');
    const sender = startPeer(['send', ring, '0', '1000']);
    await exporter.waitUntil(() => events(exporter, 'state').some((event) => event.state === 'blocked-stream-full'), EVENT_DEADLINE_MS, 'a full stream');
    // Every one of the 100 slots after the last batch the stream took is taken (held by the
    // export, which cannot free them, or waiting): the sender waits.
    const full = () => lastRingSequence(exporter) + 1 + 100;
    let stat: { sent?: number } = {};
    await untilAsync(async () => (stat = JSON.parse((await runCli(['stat', '--json', '--file', ring])).stdout)).sent === full(), 'the ring filled').catch(
      (error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify(stat)}`);
      },
    );
    expect(sender.exit).toBeUndefined();
    await natsStream('update', { name: 'FULL', subjects: ['full'], max_msgs: 5000, discard: 'new' });
    await finished(sender, 'sender');
    await exporter.waitUntil(() => lastRingSequence(exporter) === 999, EVENT_DEADLINE_MS, 'export after room appeared');
    await stop(exporter, 'export');
    const check = await peerReport<ExportCheck>(['check-nats', nats.url, 'FULL', 'gen']);
    expect(check).toMatchObject({ count: 1000, firstRingSeq: 0, lastRingSeq: 999, gaps: 0, repeats: 0, mismatches: 0 });
  });

  test('export and import of one ring and one stream do not loop', async () => {
    const ring = dir.file('loop.ring');
    await createRing(ring, 256);
    const exporter = startBridge(['export', '--file', ring, '--nats', nats.url, '--stream', 'LOOP', '--create-stream', '--subject', 'loop']);
    await exporter.waitForLine(/"state":"connected"/, EVENT_DEADLINE_MS, 'export ready');
    const importer = startBridge(['import', '--file', ring, '--nats', nats.url, '--stream', 'LOOP']);
    await finished(startPeer(['send', ring, '0', '100']), 'sender');
    await exporter.waitUntil(() => committed(exporter) >= 100, EVENT_DEADLINE_MS, 'export of the ring');
    // Messages from elsewhere come in, reach the export, and are not sent back to their stream.
    await finished(startPeer(['publish-nats', nats.url, 'LOOP', 'loop', '100', '50']), 'publisher');
    await importer.waitUntil(() => committed(importer) >= 50, EVENT_DEADLINE_MS, 'import of the outside messages');
    await until(() => bridgeStatus(ring, 'export-nats-LOOP')?.loopSkipped === 50, 'the export skipped what the import brought');
    await stop(exporter, 'export');
    await stop(importer, 'import');
    expect(events(importer, 'stopped')[0]).toMatchObject({ loopSkipped: 100, messages: 50 });
    expect(events(exporter, 'stopped')[0]).toMatchObject({ loopSkipped: 50, messages: 100 });
    const streamCount = await peerReport<ExportCheck>(['check-nats', nats.url, 'LOOP', 'gen']);
    expect(streamCount.count).toBe(150);
  });
});
