/**
 * `mmapipc bridge` against a real redis-server (Unix socket in a temporary directory, no TCP
 * port): a 50,000-message round trip ring -> key -> ring, a server restart under each
 * direction, an out-of-memory server that fills the ring, and entries removed by MAXLEN before
 * the import read them, counted as lost.
 */
import { runCli } from '../helpers/cli.js';
import {
  EVENT_DEADLINE_MS,
  events,
  finished,
  killStragglers,
  lastRingSequence,
  peerReport,
  startBridge,
  startPeer,
  untilAsync,
  type ExportCheck,
  type ImportReport,
} from '../helpers/bridge.js';
import { describeWith, RedisServer } from '../helpers/servers.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('mmapipc-bridge-redis-');
let redis: RedisServer;

async function createRing(path: string, slots: number, slotSize = 256): Promise<void> {
  expect((await runCli(['create', '--file', path, '--slots', String(slots), '--slot-size', String(slotSize)])).stderr).toBe('');
}

async function command(...args: string[]): Promise<unknown> {
  return JSON.parse(await finished(startPeer(['redis-command', redis.socket, ...args]), `redis ${args[0]}`));
}

async function stop(bridge: ReturnType<typeof startBridge>, what: string): Promise<void> {
  bridge.kill('SIGTERM');
  await finished(bridge, what);
}

describeWith('redis-server', 'bridge with Redis Streams', () => {
  beforeAll(async () => {
    redis = await RedisServer.start({ persistent: true });
  });
  afterEach(killStragglers);
  afterAll(async () => {
    await redis?.dispose();
    dir.remove();
  });

  const N = 50_000;

  test('a round trip ring -> key -> ring carries 50,000 mixed messages exactly, in order, each marked with its origin', async () => {
    const a = dir.file('rt-a.ring');
    const b = dir.file('rt-b.ring');
    await createRing(a, 4096);
    await createRing(b, 1024);
    const exporter = startBridge(['export', '--file', a, '--redis', redis.url, '--key', 'rt', '--create-stream']);
    await exporter.waitForLine(/"state":"connected"/, EVENT_DEADLINE_MS, 'export ready');
    const sender = startPeer(['send', a, '0', String(N)]);
    await exporter.waitUntil(() => lastRingSequence(exporter) === N - 1, EVENT_DEADLINE_MS, 'export of 50,000 messages');
    await finished(sender, 'sender');
    await stop(exporter, 'export');
    const check = await peerReport<ExportCheck>(['check-redis', redis.socket, 'rt', 'gen']);
    expect(check).toMatchObject({ count: N, firstRingSeq: 0, lastRingSeq: N - 1, gaps: 0, repeats: 0, mismatches: 0 });

    const importer = startBridge(['import', '--file', b, '--redis', redis.url, '--key', 'rt', '--once']);
    await importer.waitUntil(() => events(importer, 'state').some((event) => event.state === 'blocked-ring-full'), EVENT_DEADLINE_MS, 'a full ring');
    const receiver = startPeer(['receive-ring', b, '0'], 'pipe');
    await finished(importer, 'import');
    receiver.tell(`expect ${N}`);
    const report = JSON.parse(await finished(receiver, 'receiver')) as ImportReport;
    expect(report).toMatchObject({ received: N, distinct: N, duplicates: 0, unframed: 0, outOfOrder: 0, mismatches: 0 });
  });

  test('export rides out a redis-server restart: every message once, in ring order', async () => {
    const ring = dir.file('restart-export.ring');
    await createRing(ring, 512);
    const count = 10_000;
    const exporter = startBridge(['export', '--file', ring, '--redis', redis.url, '--key', 'restart-export', '--create-stream']);
    await exporter.waitForLine(/"state":"connected"/, EVENT_DEADLINE_MS, 'export ready');
    const sender = startPeer(['send', ring, '0', String(count)]);
    await exporter.waitUntil(() => lastRingSequence(exporter) >= 1000, EVENT_DEADLINE_MS, 'export before the restart');
    await redis.restart();
    await exporter.waitUntil(() => lastRingSequence(exporter) === count - 1, EVENT_DEADLINE_MS, 'export after the restart');
    await finished(sender, 'sender');
    await stop(exporter, 'export');
    expect(events(exporter, 'state').some((event) => event.state === 'reconnecting')).toBe(true);
    const check = await peerReport<ExportCheck>(['check-redis', redis.socket, 'restart-export', 'gen']);
    expect(check).toMatchObject({ count, firstRingSeq: 0, lastRingSeq: count - 1, gaps: 0, repeats: 0, mismatches: 0 });
  });

  test('import rides out a redis-server restart: every message arrives, none twice', async () => {
    const ring = dir.file('restart-import.ring');
    await createRing(ring, 512);
    const count = 10_000;
    await finished(startPeer(['publish-redis', redis.socket, 'restart-import', '0', String(count)]), 'publisher');
    const receiver = startPeer(['receive-ring', ring, '0'], 'pipe');
    const importer = startBridge(['import', '--file', ring, '--redis', redis.url, '--key', 'restart-import', '--batch', '200']);
    await importer.waitUntil(() => lastRingSequence(importer) >= 1000, EVENT_DEADLINE_MS, 'import before the restart');
    await redis.restart();
    receiver.tell(`expect ${count}`);
    const report = JSON.parse(await finished(receiver, 'receiver')) as ImportReport;
    await stop(importer, 'import');
    expect(report).toMatchObject({ received: count, distinct: count, duplicates: 0, unframed: 0, outOfOrder: 0, mismatches: 0 });
  });

  test('an out-of-memory server fills the ring and makes senders wait; memory again lets everything through', async () => {
    const ring = dir.file('oom.ring');
    await createRing(ring, 100);
    await command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    const exporter = startBridge(['export', '--file', ring, '--redis', redis.url, '--key', 'oom', '--create-stream', '--batch', '50']);
    await exporter.waitForLine(/"state":"connected"/, EVENT_DEADLINE_MS, 'export ready');
    await command('CONFIG', 'SET', 'maxmemory', '1');
    const sender = startPeer(['send', ring, '0', '1000']);
    await exporter.waitUntil(() => events(exporter, 'state').some((event) => event.state === 'blocked-stream-full'), EVENT_DEADLINE_MS, 'out of memory');
    const full = () => lastRingSequence(exporter) + 1 + 100;
    await untilAsync(async () => JSON.parse((await runCli(['stat', '--json', '--file', ring])).stdout).sent === full(), 'the ring filled');
    expect(sender.exit).toBeUndefined();
    await command('CONFIG', 'SET', 'maxmemory', '0');
    await finished(sender, 'sender');
    await exporter.waitUntil(() => lastRingSequence(exporter) === 999, EVENT_DEADLINE_MS, 'export after memory came back');
    await stop(exporter, 'export');
    const check = await peerReport<ExportCheck>(['check-redis', redis.socket, 'oom', 'gen']);
    expect(check).toMatchObject({ count: 1000, firstRingSeq: 0, lastRingSeq: 999, gaps: 0, repeats: 0, mismatches: 0 });
  });

  test('entries trimmed away before the import read them are counted and reported as lost', async () => {
    const ring = dir.file('trim.ring');
    await createRing(ring, 1024);
    await finished(startPeer(['publish-redis', redis.socket, 'trim', '0', '300']), 'publisher');
    const first = startBridge(['import', '--file', ring, '--redis', redis.url, '--key', 'trim', '--once']);
    await finished(first, 'first import');
    await finished(startPeer(['publish-redis', redis.socket, 'trim', '300', '500']), 'publisher');
    await command('XTRIM', 'trim', 'MAXLEN', '100'); // 400 of the 500 new ones go unread
    const second = startBridge(['import', '--file', ring, '--redis', redis.url, '--key', 'trim', '--once']);
    await finished(second, 'second import');
    expect(events(second, 'lost').reduce((sum, event) => sum + (event.count as number), 0)).toBe(400);
    expect(events(second, 'stopped')[0]).toMatchObject({ messages: 100, lostByRetention: 400 });
  });
});
