/**
 * `npm run soak`: 10 million messages from 4 sender processes to 2 receiver processes through
 * one ring, outside `npm test`. Each receiver marks every (sender, seq) it takes in a bitmap;
 * at the end the bitmaps must cover every message exactly once (nothing lost, nothing
 * duplicated, nothing torn). The receivers' RSS is sampled from /proc/PID/status every few
 * seconds and reported: flat means the last sample is within a few MB of the first one taken
 * after warm-up; each receiver also reports its heap after a forced GC at the end (live memory,
 * as opposed to garbage not yet collected). Exits 1 on any loss, duplicate, torn or
 * out-of-order message.
 *
 * Options (environment): SOAK_MESSAGES (default 10000000), SOAK_SLOTS (default 1024),
 * SOAK_SAMPLE_MS (default 3000). Runs on the built library (dist/), as the processes do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RingFile } from '../dist/index.js';
import { REDELIVERED_OFFSET, RELEASED_SLOTS_OFFSET } from '../dist/layout/ring-layout.js';

const PEER = fileURLToPath(new URL('../test/fixtures/soak-peer.mjs', import.meta.url));
const SENDERS = 4;
const RECEIVERS = 2;
const TOTAL = Number(process.env.SOAK_MESSAGES ?? 10_000_000);
const PER_SENDER = Math.ceil(TOTAL / SENDERS);
const SLOTS = Number(process.env.SOAK_SLOTS ?? 1024);
const SLOT_SIZE = 16;
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_MS ?? 3000);
/** RSS may move this much between the first sample after warm-up and the last and still be flat. */
const FLAT_MB = 8;

interface Peer {
  readonly child: ChildProcess;
  readonly output: Promise<string>;
  readonly exit: Promise<number | null>;
}

function start(args: string[]): Peer {
  const child = spawn(process.execPath, ['--expose-gc', PEER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, exit, output: exit.then(() => text) };
}

function rssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function popcount(byte: number): number {
  let n = 0;
  for (let b = byte; b !== 0; b &= b - 1) n++;
  return n;
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'mmapipc-soak-'));
  const path = join(dir, 'soak.ring');
  const observer = RingFile.open(path, { slots: SLOTS, slotSize: SLOT_SIZE, role: 'observer' });
  const total = PER_SENDER * SENDERS;
  console.log(`soak: ${total.toLocaleString('en')} messages, ${SENDERS} senders -> ${RECEIVERS} receivers, ${SLOTS} slots of ${SLOT_SIZE} bytes, ${path}`);

  const bitmapFiles = Array.from({ length: RECEIVERS }, (_, i) => join(dir, `receiver-${i}.bits`));
  const receivers = bitmapFiles.map((bits) => start(['receive', path, String(SENDERS), String(PER_SENDER), bits]));
  const started = performance.now();
  const senders = Array.from({ length: SENDERS }, (_, id) => start(['send', path, String(id), String(PER_SENDER)]));

  const samples: number[][] = receivers.map(() => []);
  let lastReceived = 0;
  let lastAt = started;
  const sample = () => {
    const now = performance.now();
    const { received } = observer.ring.totals;
    const rss = receivers.map((peer, i) => {
      const mb = rssMb(peer.child.pid!);
      if (mb !== undefined) samples[i]!.push(mb);
      return mb === undefined ? '-' : `${mb.toFixed(1)} MB`;
    });
    const rate = ((received - lastReceived) / (now - lastAt)) * 1000;
    console.log(
      `  ${((now - started) / 1000).toFixed(0).padStart(4)} s  ${received.toLocaleString('en').padStart(12)} received (${((received / total) * 100).toFixed(1)}%)  ${Math.round(rate).toLocaleString('en')} msg/s  receiver RSS ${rss.join(', ')}`,
    );
    lastReceived = received;
    lastAt = now;
  };
  const timer = setInterval(sample, SAMPLE_MS);

  const senderCodes = await Promise.all(senders.map((peer) => peer.exit));
  const sentMs = performance.now() - started;
  // One END at a time: each ends exactly one receiver.
  const running = new Set(receivers);
  while (running.size > 0) {
    if (!observer.trySend('END')) observer.send('END');
    const ended = await Promise.race([...running].map((peer) => peer.exit.then(() => peer)));
    running.delete(ended);
  }
  const elapsedMs = performance.now() - started;
  clearInterval(timer);
  sample();
  const { released, redelivered } = counters(readFileSync(path));
  observer.close();

  const summaries = await Promise.all(receivers.map(async (peer) => JSON.parse((await peer.output).trim() || '{}') as Record<string, number>));
  const receiverCodes = await Promise.all(receivers.map((peer) => peer.exit));
  // Across receivers: a bit set in both is a duplicate; a bit set in neither is a loss.
  const bitmaps = bitmapFiles.map((file) => readFileSync(file));
  const bytesPerSender = Math.ceil(PER_SENDER / 8);
  let lost = 0;
  let crossDuplicates = 0;
  for (let sender = 0; sender < SENDERS; sender++) {
    for (let i = 0; i < bytesPerSender; i++) {
      const byte = sender * bytesPerSender + i;
      const bits = Math.min(8, PER_SENDER - i * 8);
      const full = (1 << bits) - 1;
      const union = bitmaps.reduce((acc, map) => acc | map[byte]!, 0);
      lost += bits - popcount(union & full);
      crossDuplicates += popcount(bitmaps[0]![byte]! & bitmaps[1]![byte]!);
    }
  }
  const sum = (key: string) => summaries.reduce((acc, summary) => acc + (summary[key] ?? 0), 0);
  const duplicates = sum('duplicates') + crossDuplicates;
  const rss = samples.map((list) => {
    const warm = list[Math.min(1, list.length - 1)] ?? 0;
    const lastSample = list.at(-1) ?? 0;
    return { first: warm, last: lastSample, max: Math.max(...list), growth: lastSample - warm };
  });
  const flat = rss.every((r) => Math.abs(r.growth) <= FLAT_MB);
  const summary = {
    messages: total,
    received: sum('received'),
    perReceiver: summaries.map((s) => s.received),
    receiverWaits: summaries.map((s) => s.waits),
    receiverHeapMb: summaries.map((s) => ({ used: s.heapUsedMb, total: s.heapTotalMb, external: s.externalMb, rss: s.rssMb })),
    lost,
    duplicates,
    torn: sum('torn'),
    outOfOrder: sum('outOfOrder'),
    released,
    redelivered,
    seconds: Number((elapsedMs / 1000).toFixed(1)),
    sendSeconds: Number((sentMs / 1000).toFixed(1)),
    messagesPerSecond: Math.round(total / (elapsedMs / 1000)),
    receiverRssMb: rss.map((r) => ({ first: Number(r.first.toFixed(1)), last: Number(r.last.toFixed(1)), max: Number(r.max.toFixed(1)) })),
    rssFlat: flat,
    exitCodes: { senders: senderCodes, receivers: receiverCodes },
  };
  console.log(`soak summary: ${JSON.stringify(summary)}`);
  const ok =
    lost === 0 &&
    duplicates === 0 &&
    summary.torn === 0 &&
    summary.outOfOrder === 0 &&
    summary.received === total &&
    [...senderCodes, ...receiverCodes].every((code) => code === 0);
  console.log(ok ? `soak: OK — every message once${flat ? ', RSS flat' : `, but RSS grew more than ${FLAT_MB} MB`}` : 'soak: FAILED');
  rmSync(dir, { recursive: true, force: true });
  return ok ? 0 : 1;
}

function counters(bytes: Buffer): { released: number; redelivered: number } {
  return { released: bytes.readUInt32LE(RELEASED_SLOTS_OFFSET), redelivered: bytes.readUInt32LE(REDELIVERED_OFFSET) };
}

process.exitCode = await main();
