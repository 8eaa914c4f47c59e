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
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeOrigin } from '../bridge/origin.js';
import { RingFile } from '../ring-file/ring-file.js';

export interface BridgeFigure {
  readonly engine: 'nats' | 'redis';
  readonly direction: 'export' | 'import';
  readonly messages: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly target: number;
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
      const target = engine === 'nats' ? ['--nats', url, '--stream', 'BENCH'] : ['--redis', url, '--key', 'bench'];
      const source = join(dir, `${engine}-out.ring`);
      const sink = join(dir, `${engine}-in.ring`);
      const out = RingFile.open(source, { role: 'sender', slots: n, slotSize: SIZE });
      // The ring feeds the export alone: its group holds the messages, not an idle `default`.
      out.createGroup(`bridge-export-${engine}-${engine === 'nats' ? 'BENCH' : 'bench'}`, { from: 'earliest' });
      out.removeGroup('default');
      for (let sent = 0; sent < n; ) {
        const batch: Buffer[] = [];
        for (let k = 0; k < 1024 && sent + k < n; k++) batch.push(payload(sent + k));
        sent += out.sendBatch(batch);
      }
      out.close();
      options.progress?.(`${engine}: export of ${n} messages`);
      const exported = await runBridge(options.binPath, ['export', '--file', source, ...target, '--create-stream']);
      figures.push(await verified(engine, 'export', n, exported, async () => verifyEngine(engine, url, n)));
      options.progress?.(`${engine}: import of ${n} messages`);
      const inRing = RingFile.open(sink, { role: 'observer', slots: n, slotSize: SIZE + 64 });
      inRing.close();
      const imported = await runBridge(options.binPath, ['import', '--file', sink, ...target]);
      figures.push(await verified(engine, 'import', n, imported, async () => verifyRing(sink, engine, n)));
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
  n: number,
  run: { seconds: number; messages: number },
  check: () => Promise<string | undefined>,
): Promise<BridgeFigure> {
  const problem = run.messages !== n ? `the bridge moved ${run.messages} of ${n}` : await check();
  return {
    engine,
    direction,
    messages: n,
    seconds: run.seconds,
    perSecond: Math.round(n / run.seconds),
    target: TARGETS[`${engine}-${direction}`],
    verified: problem === undefined,
    ...(problem ? { problem } : {}),
  };
}

/** The engine holds n messages and the last one is ring sequence n-1 with its exact bytes. */
async function verifyEngine(engine: 'nats' | 'redis', url: string, n: number): Promise<string | undefined> {
  if (engine === 'nats') {
    const { connect } = await import('@nats-io/transport-node');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const nc = await connect({ servers: url });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info('BENCH');
      if (info.state.messages !== n) return `the stream holds ${info.state.messages} messages, expected ${n}`;
      const last = await jsm.streams.getMessage('BENCH', { seq: info.state.last_seq });
      if (!last || last.header.get('Mmapipc-Seq') !== String(n - 1) || !Buffer.from(last.data).equals(payload(n - 1))) return 'the last message is not ring sequence n-1';
      return undefined;
    } finally {
      await nc.close();
    }
  }
  const { Redis } = await import('ioredis');
  const redis = new Redis({ path: url.slice('unix://'.length) });
  try {
    const length = await redis.xlen('bench');
    if (length !== n) return `the key holds ${length} entries, expected ${n}`;
    const [[, fields]] = (await redis.xrevrangeBuffer('bench', '+', '-', 'COUNT', 1)) as Array<[Buffer, Buffer[]]>;
    if (!fields![1]!.equals(payload(n - 1)) || fields![3]!.toString().split(' ')[2] !== String(n - 1)) return 'the last entry is not ring sequence n-1';
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/** The ring holds n messages; the first and last carry their origin and the exact bytes. */
async function verifyRing(path: string, engine: 'nats' | 'redis', n: number): Promise<string | undefined> {
  const ring = RingFile.open(path, { role: 'receiver', create: false });
  try {
    if (ring.occupancy !== n) return `the ring holds ${ring.occupancy} messages, expected ${n}`;
    const messages = ring.ring.tryReceiveBatch(n);
    for (const index of [0, n - 1]) {
      const { origin, payload: data } = decodeOrigin(messages[index]!.data);
      if (!origin || origin.engine !== engine || !data.equals(payload(index))) return `message ${index} lost its origin or its bytes`;
    }
    return undefined;
  } finally {
    ring.close();
  }
}

export function formatBridgeFigures(figures: readonly BridgeFigure[]): string {
  const lines = ['bridge throughput, 64-byte messages, local servers (connection and start-up excluded):'];
  for (const figure of figures) {
    const verdict = figure.verified ? 'verified' : `FAILED: ${figure.problem}`;
    const met = figure.perSecond >= figure.target ? 'target met' : 'target missed';
    lines.push(
      `  ${figure.direction.padEnd(6)} ${figure.engine === 'nats' ? 'NATS JetStream' : 'Redis Streams '}  ${figure.perSecond.toLocaleString('en-US').padStart(9)} msg/s  (${figure.messages.toLocaleString('en-US')} in ${figure.seconds.toFixed(2)} s; target ${figure.target.toLocaleString('en-US')}: ${met}; ${verdict})`,
    );
  }
  return `${lines.join('\n')}\n`;
}
