/**
 * Issue 18: an imported message fits any ring its source message fitted. Its origin travels in
 * the message's extension (kind 3, docs/format.md §9b), in the 40 bytes every ring keeps back
 * from its largest message (docs/format.md §2), so a message of exactly the source ring's
 * largest size goes ring -> engine -> ring of the same geometry, byte for byte, with its origin.
 * Real nats-server and redis-server, started for the test.
 */
import { createHash } from 'node:crypto';
import { runCli } from '../helpers/cli.js';
import { describeWith, NatsServer, RedisServer } from '../helpers/servers.js';
import { killStragglers } from '../helpers/bridge.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('mmapipc-bridge-fit-');

// docs/format.md §2: 4 slots of 64 bytes, stride align8(32 + 64) = 96; the largest message is
// N × stride − 32 − 40 = 4 × 96 − 72 = 312 bytes.
const SLOTS = '4';
const SLOT_SIZE = '64';
const LARGEST = 312;

/** 312 bytes that are not text: NUL, 0xFF, CR, LF and every other byte value. */
function largest(): Buffer {
  const bytes = Buffer.alloc(LARGEST);
  for (let i = 0; i < LARGEST; i++) bytes[i] = (i * 7 + 3) & 0xff;
  return bytes;
}

async function create(path: string): Promise<void> {
  expect(await runCli(['create', '--file', path, '--slots', SLOTS, '--slot-size', SLOT_SIZE])).toMatchObject({ code: 0, stderr: '' });
}

/** Sends `payload` whole into a new ring of the test's geometry; one byte more is refused (exit 5), nothing sent. */
async function sourceRing(name: string, payload: Buffer): Promise<string> {
  const path = dir.file(name);
  await create(path);
  expect(await runCli(['send', '--file', path, '--whole'], { input: payload })).toMatchObject({ code: 0, stderr: '' });
  const refused = await runCli(['send', '--file', path, '--whole'], { input: Buffer.alloc(LARGEST + 1, 0x62) });
  expect(refused.code).toBe(5);
  expect(refused.stderr).toMatch(new RegExp(`\\(${LARGEST} bytes\\)`));
  return path;
}

/** Receives the one message of `ring` twice over (two groups from the oldest): raw bytes, and the --json record. */
async function receivedTwice(ring: string): Promise<{ raw: Buffer; record: Record<string, unknown> }> {
  const raw = await runCli(['receive', '--file', ring, '--group', 'raw', '--from', 'earliest', '--count', '1', '--framing', 'length', '--timeout', '5']);
  expect(raw).toMatchObject({ code: 0, stderr: '' });
  const json = await runCli(['receive', '--file', ring, '--group', 'json', '--from', 'earliest', '--count', '1', '--json', '--timeout', '5']);
  expect(json).toMatchObject({ code: 0, stderr: '' });
  expect(raw.stdoutBytes.readUInt32LE(0)).toBe(LARGEST);
  return { raw: raw.stdoutBytes.subarray(4), record: JSON.parse(json.stdout) as Record<string, unknown> };
}

afterEach(killStragglers);
afterAll(() => dir.remove());

test('a plain ring states its largest message as docs/format.md §2 says, and takes exactly that much', async () => {
  const path = await sourceRing('plain.ring', largest());
  const stat = JSON.parse((await runCli(['stat', '--json', '--file', path])).stdout);
  expect(stat).toMatchObject({ slots: 4, slotSize: 64, maxMessageBytes: LARGEST });
  const received = await runCli(['receive', '--file', path, '--count', '1', '--json']);
  const record = JSON.parse(received.stdout);
  expect(Buffer.from(record.base64, 'base64').equals(largest())).toBe(true);
  expect(record.origin).toBeUndefined(); // a plain message has none
});

describeWith('nats-server', 'an imported message fits like its source (NATS)', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await NatsServer.start();
  });
  afterAll(async () => {
    await nats?.dispose();
  });

  test('a message of the source ring\'s largest size is exported, imported into a ring of the same geometry and received byte for byte with its origin', async () => {
    const source = await sourceRing('nats-source.ring', largest());
    const exported = await runCli(['bridge', 'export', '--file', source, '--nats', nats.url, '--stream', 'FIT', '--create-stream', '--once']);
    expect(exported.code).toBe(0);
    const sink = dir.file('nats-sink.ring');
    await create(sink);
    const imported = await runCli(['bridge', 'import', '--file', sink, '--nats', nats.url, '--stream', 'FIT', '--once']);
    expect(imported).toMatchObject({ code: 0 });
    const { raw, record } = await receivedTwice(sink);
    expect(raw.equals(largest())).toBe(true);
    expect(record).toMatchObject({ bytes: LARGEST, origin: { engine: 'nats', stream: 'FIT', seq: 1 } });
    expect(Buffer.from(record.base64 as string, 'base64').equals(largest())).toBe(true);
  });
});

describeWith('redis-server', 'an imported message fits like its source (Redis)', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  test('a message of the source ring\'s largest size is exported, imported into a ring of the same geometry and received byte for byte with its origin', async () => {
    const source = await sourceRing('redis-source.ring', largest());
    expect((await runCli(['bridge', 'export', '--file', source, '--redis', redis.url, '--key', 'fit', '--create-stream', '--once'])).code).toBe(0);
    const sink = dir.file('redis-sink.ring');
    await create(sink);
    expect((await runCli(['bridge', 'import', '--file', sink, '--redis', redis.url, '--key', 'fit', '--once'])).code).toBe(0);
    const { raw, record } = await receivedTwice(sink);
    expect(raw.equals(largest())).toBe(true);
    expect(record).toMatchObject({ bytes: LARGEST, origin: { engine: 'redis', key: 'fit', id: expect.stringMatching(/^\d+-0$/) } });
  });

  test('a key longer than 22 bytes shows as its first 14 bytes, ~ and 16 hex digits of its SHA-256 (docs/format.md §9b)', async () => {
    const key = 'orders:europe:west:priority'; // 27 bytes
    const source = await sourceRing('long-source.ring', Buffer.from('hello'));
    expect((await runCli(['bridge', 'export', '--file', source, '--redis', redis.url, '--key', key, '--create-stream', '--once'])).code).toBe(0);
    const sink = dir.file('long-sink.ring');
    await create(sink);
    expect((await runCli(['bridge', 'import', '--file', sink, '--redis', redis.url, '--key', key, '--once'])).code).toBe(0);
    const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
    const json = await runCli(['receive', '--file', sink, '--count', '1', '--json', '--timeout', '5']);
    expect(JSON.parse(json.stdout)).toMatchObject({ message: 'hello', origin: { engine: 'redis', key: `orders:europe:~${hash}` } });
  });
});
