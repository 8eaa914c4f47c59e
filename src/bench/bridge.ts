/**
 * `mmapipc bench --bridge`: messages per second through the bridge, each way, with a local
 * nats-server (JetStream, file storage) and redis-server (Unix socket, no persistence) started
 * for the run in a temporary directory. A ring is filled with N 64-byte messages, `bridge
 * export --once` carries them into the engine, and `bridge import --once` carries them back into
 * a second ring; each figure is N over the time between the bridge's "connected" and "stopped"
 * log lines (start-up and connection excluded), and each run is verified: the engine holds N
 * messages ending at ring sequence N-1, the second ring holds N messages whose first and last
 * carry their origin and the exact bytes. Targets (issue 11): export >= 100,000 msg/s to
 * JetStream and >= 200,000 to Redis; import >= 100,000 from each.
 *
 * Then the same with messages of mixed sizes (the bench's log-normal stream: median 200 B, up to
 * 64 KiB, under NATS's 1 MiB max_payload) through rings of 64-byte slots, each message taking the
 * slots it needs; every message of the second ring is checked for its origin and length, the
 * first and last for their bytes. No target: these rows show what size costs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RingFile } from '../ring-file/ring-file.js';
import { DEFAULT_SLOT_SIZE, EXTENSION_RESERVE, SLOT_HEADER_LENGTH, SLOT_ALIGNMENT } from '../layout/ring-layout.js';
import { template, writeMessage } from './payload.js';
import { LOG_NORMAL, MessageSizes, type SizeDistribution } from './sizes.js';

export interface BridgeFigure {
  readonly engine: 'nats' | 'redis';
  readonly direction: 'export' | 'import';
  /** Bytes per message, or the distribution the sizes were drawn from. */
  readonly size: number | SizeDistribution;
  readonly messages: number;
  /** Payload bytes moved. */
  readonly bytes: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Messages per second to reach (64 B rows only). */
  readonly target?: number;
  readonly verified: boolean;
  readonly problem?: string;
}

const SIZE = 64;
const TARGETS = { 'nats-export': 100_000, 'redis-export': 200_000, 'nats-import': 100_000, 'redis-import': 100_000 } as const;

function findBinary(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin']) if (existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

function payload(index: number): Buffer {
  const bytes = Buffer.alloc(SIZE, 0x61 + (index % 26));
  bytes.writeUInt32LE(index, 0);
  return bytes;
}

/** One stream of messages through the bridge: what each message is, and the engine names and rings it uses. */
interface Workload {
  readonly size: number | SizeDistribution;
  readonly payload: (index: number) => Buffer;
  readonly stream: string;
  readonly key: string;
  /** Slots and slot size of a ring that holds all n messages without wrapping, each with `extra` bytes. */
  readonly ring: (n: number, extra: number) => { slots: number; slotSize: number };
}

const FIXED: Workload = { size: SIZE, payload, stream: 'BENCH', key: 'bench', ring: (n, extra) => ({ slots: n, slotSize: SIZE + extra }) };

function mixed(): Workload {
  const sizes = new MessageSizes(LOG_NORMAL.maxBytes, 'log-normal');
  const source = template(sizes.largest, 0);
  const stride = Math.ceil((SLOT_HEADER_LENGTH + DEFAULT_SLOT_SIZE) / SLOT_ALIGNMENT) * SLOT_ALIGNMENT;
  return {
    size: 'log-normal',
    payload: (index) => {
      const length = sizes.at(0, index);
      const bytes = Buffer.allocUnsafe(length);
      writeMessage(bytes, 0, source, length, index);
      return bytes;
    },
    stream: 'BENCHMIX',
    key: 'benchmix',
    ring: (n, extra) => {
      let slots = 0;
      for (let i = 0; i < n; i++) slots += Math.ceil((SLOT_HEADER_LENGTH + sizes.at(0, i) + extra) / stride);
      return { slots, slotSize: DEFAULT_SLOT_SIZE };
    },
  };
}
/** The bytes an imported message's origin adds beside its payload (its extension, docs/format.md §9b). */
const ORIGIN_ROOM = EXTENSION_RESERVE;

async function waitFor(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`bench: timed out waiting until ${what}`);
    await sleep(10);
  }
}

/** Runs `mmapipc bridge ...  --once --json`; returns the seconds between "connected" and "stopped". */
async function runBridge(binPath: string, args: string[]): Promise<{ seconds: number; messages: number }> {
  const child = spawn(process.execPath, [binPath, 'bridge', ...args, '--once', '--json', '--batch', '1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`bridge ${args[0]} exited ${code}: ${err.trim()}`);
  const events = out.trim().split('\n').map((line) => JSON.parse(line) as { event: string; state?: string; time: string; messages?: number });
  const connected = events.find((event) => event.event === 'state' && event.state === 'connected');
  const stopped = events.find((event) => event.event === 'stopped');
  if (!connected || !stopped) throw new Error(`bridge ${args[0]} logged no connected/stopped lines`);
  return { seconds: (Date.parse(stopped.time) - Date.parse(connected.time)) / 1000, messages: stopped.messages ?? 0 };
}

export async function runBridgeBench(options: { binPath: string; messages: number; progress?: (line: string) => void }): Promise<BridgeFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mmapipc-bench-bridge-'));
  const servers: Array<ReturnType<typeof spawn>> = [];
  const figures: BridgeFigure[] = [];
  const n = options.messages;
  try {
    for (const engine of ['nats', 'redis'] as const) {
      const binary = findBinary(engine === 'nats' ? 'nats-server' : 'redis-server');
      if (!binary) {
        options.progress?.(`${engine}: server not installed, skipped (apt-get install -y nats-server redis-server)`);
        continue;
      }
      const home = join(dir, engine);
      let url: string;
      if (engine === 'nats') {
        const server = spawn(binary, ['-js', '-sd', join(home, 'js'), '-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', dir], { stdio: 'ignore' });
        servers.push(server);
        let ports: string | undefined;
        await waitFor(() => (ports = readdirSync(dir).find((file) => file.startsWith(`nats-server_${server.pid}`))) !== undefined, 'nats-server is up');
        let parsed: { nats: string[] } | undefined;
        await waitFor(() => {
          try {
            parsed = JSON.parse(readFileSync(join(dir, ports!), 'utf8')) as { nats: string[] };
            return true;
          } catch {
            return false;
          }
        }, 'nats-server wrote its ports');
        url = parsed!.nats[0]!;
      } else {
        const socket = join(dir, 'redis.sock');
        const server = spawn(binary, ['--port', '0', '--unixsocket', socket, '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
        servers.push(server);
        await waitFor(() => existsSync(socket), 'redis-server is up');
        url = `unix://${socket}`;
      }
      for (const work of [FIXED, mixed()]) {
        const name = engine === 'nats' ? work.stream : work.key;
        const target = engine === 'nats' ? ['--nats', url, '--stream', name] : ['--redis', url, '--key', name];
        const source = join(dir, `${engine}-${name}-out.ring`);
        const sink = join(dir, `${engine}-${name}-in.ring`);
        const out = RingFile.open(source, { role: 'sender', ...work.ring(n, 0) });
        // The ring feeds the export alone: its group holds the messages, not an idle `default`.
        out.createGroup(`bridge-export-${engine}-${name}`, { from: 'earliest' });
        out.removeGroup('default');
        let bytes = 0;
        for (let sent = 0; sent < n; ) {
          const batch: Buffer[] = [];
          for (let k = 0; k < 1024 && sent + k < n; k++) batch.push(work.payload(sent + k));
          for (const message of batch) bytes += message.length;
          sent += out.sendBatch(batch);
        }
        out.close();
        const what = `${n} messages of ${typeof work.size === 'number' ? `${work.size} B` : `${work.size} sizes`}`;
        options.progress?.(`${engine}: export of ${what}`);
        const exported = await runBridge(options.binPath, ['export', '--file', source, ...target, '--create-stream']);
        figures.push(await verified(engine, 'export', work, n, bytes, exported, async () => verifyEngine(engine, url, name, work, n)));
        options.progress?.(`${engine}: import of ${what}`);
        const inRing = RingFile.open(sink, { role: 'observer', ...work.ring(n, ORIGIN_ROOM) });
        inRing.close();
        const imported = await runBridge(options.binPath, ['import', '--file', sink, ...target]);
        figures.push(await verified(engine, 'import', work, n, bytes, imported, async () => verifyRing(sink, engine, work, n)));
      }
    }
  } finally {
    for (const server of servers) server.kill('SIGTERM');
    await Promise.all(servers.map((server) => (server.exitCode === null ? new Promise((resolve) => server.once('exit', resolve)) : undefined)));
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

async function verified(
  engine: 'nats' | 'redis',
  direction: 'export' | 'import',
  work: Workload,
  n: number,
  bytes: number,
  run: { seconds: number; messages: number },
  check: () => Promise<string | undefined>,
): Promise<BridgeFigure> {
  const problem = run.messages !== n ? `the bridge moved ${run.messages} of ${n}` : await check();
  return {
    engine,
    direction,
    size: work.size,
    messages: n,
    bytes,
    seconds: run.seconds,
    perSecond: Math.round(n / run.seconds),
    ...(work === FIXED ? { target: TARGETS[`${engine}-${direction}`] } : {}),
    verified: problem === undefined,
    ...(problem ? { problem } : {}),
  };
}

/** The engine holds n messages and the last one is ring sequence n-1 with its exact bytes. */
async function verifyEngine(engine: 'nats' | 'redis', url: string, name: string, work: Workload, n: number): Promise<string | undefined> {
  if (engine === 'nats') {
    const { connect } = await import('@nats-io/transport-node');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const nc = await connect({ servers: url });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(name);
      if (info.state.messages !== n) return `the stream holds ${info.state.messages} messages, expected ${n}`;
      const last = await jsm.streams.getMessage(name, { seq: info.state.last_seq });
      if (!last || !Buffer.from(last.data).equals(work.payload(n - 1))) return 'the last message is not the last one sent';
      // One slot per 64-byte message: the last one is ring sequence n-1.
      if (work === FIXED && last.header.get('Mmapipc-Seq') !== String(n - 1)) return 'the last message is not ring sequence n-1';
      return undefined;
    } finally {
      await nc.close();
    }
  }
  const { Redis } = await import('ioredis');
  const redis = new Redis({ path: url.slice('unix://'.length) });
  try {
    const length = await redis.xlen(name);
    if (length !== n) return `the key holds ${length} entries, expected ${n}`;
    const [[, fields]] = (await redis.xrevrangeBuffer(name, '+', '-', 'COUNT', 1)) as Array<[Buffer, Buffer[]]>;
    if (!fields![1]!.equals(work.payload(n - 1))) return 'the last entry is not the last message sent';
    if (work === FIXED && fields![3]!.toString().split(' ')[2] !== String(n - 1)) return 'the last entry is not ring sequence n-1';
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/** The ring holds n messages, each with its origin and its length; the first and last with their exact bytes. */
async function verifyRing(path: string, engine: 'nats' | 'redis', work: Workload, n: number): Promise<string | undefined> {
  const ring = RingFile.open(path, { role: 'receiver', create: false });
  try {
    const messages = ring.ring.tryReceiveBatch(n);
    if (messages.length !== n || ring.ring.tryReceive() !== null) return `the ring holds ${messages.length} messages or more, expected ${n}`;
    for (let index = 0; index < n; index++) {
      const { origin, data } = messages[index]!;
      const expected = index === 0 || index === n - 1 ? work.payload(index) : undefined;
      if (!origin || origin.engine !== engine) return `message ${index} lost its origin`;
      if (expected ? !data.equals(expected) : data.length !== work.payload(index).length) return `message ${index} lost its bytes`;
    }
    return undefined;
  } finally {
    ring.close();
  }
}

export function formatBridgeFigures(figures: readonly BridgeFigure[]): string {
  const lines = [
    'bridge throughput, local servers (connection and start-up excluded);',
    `64 B messages, and mixed sizes (log-normal: median ${LOG_NORMAL.medianBytes} B, up to ${LOG_NORMAL.maxBytes / 1024} KiB):`,
  ];
  for (const figure of figures) {
    const verdict = figure.verified ? 'verified' : `FAILED: ${figure.problem}`;
    const size = typeof figure.size === 'number' ? `${figure.size} B` : figure.size;
    const met = figure.target === undefined ? '' : `; target ${figure.target.toLocaleString('en-US')}: ${figure.perSecond >= figure.target ? 'target met' : 'target missed'}`;
    const megabytes = (figure.bytes / figure.seconds / 1e6).toFixed(1);
    lines.push(
      `  ${figure.direction.padEnd(6)} ${figure.engine === 'nats' ? 'NATS JetStream' : 'Redis Streams '}  ${size.padStart(10)}  ${figure.perSecond.toLocaleString('en-US').padStart(9)} msg/s ${megabytes.padStart(7)} MB/s  (${figure.messages.toLocaleString('en-US')} in ${figure.seconds.toFixed(2)} s${met}; ${verdict})`,
    );
  }
  return `${lines.join('\n')}\n`;
}
