/**
 * `mmapipc bench --request-reply`: request/reply between two processes over mmapipc
 * (RingFile.request and a server of its group), a Unix socket and child_process IPC, each as a
 * Node user would write it (newline-framed lines on one connection; JSON on the IPC channel):
 * p50/p99 of one request at a time, with no pause and with a 200 µs pause before each (the
 * server has gone to sleep: the woken round trip), and requests/s with 8 in flight per client.
 * Targets (issue 17), printed as met or missed, never asserted: woken p50 <= 1.0x the socket's;
 * 8 in flight >= 5x the socket's requests/s.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RingFile } from '../ring-file/ring-file.js';
import type { ClientConfig, ClientFigures } from './request-reply-peer.js';

export const REQUEST_REPLY_TRANSPORTS = ['mmapipc', 'socket', 'ipc'] as const;
export type RequestReplyTransport = (typeof REQUEST_REPLY_TRANSPORTS)[number];
const PAUSES_US = [0, 200] as const;
const IN_FLIGHT = 8;
const SIZE = 64;
// Through ../bench/: the same file from dist/bench/ (tsc's modules) and from dist/bundle/ (the CLI's bundle).
const PEER = fileURLToPath(new URL('../bench/request-reply-peer.js', import.meta.url));

export interface RequestReplyRow {
  readonly pattern: 'request-reply';
  readonly transport: RequestReplyTransport;
  readonly mode: 'latency' | 'throughput';
  readonly pauseUs: number;
  readonly inFlight: number;
  readonly size: number;
  readonly p50Us?: number;
  readonly p99Us?: number;
  readonly requestsPerSecond?: number;
  readonly count: number;
  readonly error?: string;
}

export interface RequestReplyTarget {
  readonly name: string;
  readonly met: boolean | undefined;
  readonly detail: string;
}

function startServer(transport: RequestReplyTransport, target: string, concurrency: number): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, [PEER, 'server', transport, target, String(concurrency)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () =>
      resolve(async () => {
        child.kill('SIGTERM');
        await exited;
      }),
    );
    child.once('close', (code) => reject(new Error(`the ${transport} server exited (${code}) before it was ready`)));
  });
}

function runClient(transport: RequestReplyTransport, target: string, config: ClientConfig): Promise<ClientFigures> {
  const child = spawn(process.execPath, [PEER, 'client', transport, target, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) =>
    child.once('close', (code) => {
      try {
        resolve(JSON.parse(out) as ClientFigures);
      } catch {
        resolve({ count: 0, error: `the client exited (${code}) without figures` });
      }
    }),
  );
}

export async function runRequestReplyBench(options: { quick: boolean; progress?: (line: string) => void }): Promise<RequestReplyRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mmapipc-bench-rr-'));
  const rows: RequestReplyRow[] = [];
  const latencyCount = options.quick ? 500 : 5000;
  const throughputCount = options.quick ? 2000 : 10_000;
  // Unmeasured requests first, in the pattern measured: a fresh server's JavaScript is not yet
  // compiled after 200 (measured: 8 in flight went from 32-37 k to 96-128 k requests/s once warm).
  const latencyWarmup = options.quick ? 200 : 2000;
  try {
    for (const transport of REQUEST_REPLY_TRANSPORTS) {
      const plans: ClientConfig[] = [
        ...PAUSES_US.map((pauseUs) => ({ mode: 'latency' as const, size: SIZE, pauseUs, inFlight: 1, warmup: latencyWarmup, count: latencyCount })),
        { mode: 'throughput', size: SIZE, pauseUs: 0, inFlight: IN_FLIGHT, warmup: throughputCount, count: throughputCount },
      ];
      for (const plan of plans) {
        options.progress?.(`request-reply ${transport} ${plan.mode} pause ${plan.pauseUs} µs, ${plan.inFlight} in flight`);
        const target = transport === 'mmapipc' ? join(dir, `${transport}-${rows.length}.ring`) : join(dir, `${transport}-${rows.length}.sock`);
        if (transport === 'mmapipc') RingFile.create(target, { role: 'sender', slots: 1024 }).close();
        const stop = transport === 'ipc' ? async () => {} : await startServer(transport, target, plan.inFlight);
        try {
          const figures = await runClient(transport, target, plan);
          rows.push({ pattern: 'request-reply', transport, mode: plan.mode, pauseUs: plan.pauseUs, inFlight: plan.inFlight, size: SIZE, ...figures });
        } finally {
          await stop();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function checkRequestReplyTargets(rows: readonly RequestReplyRow[]): RequestReplyTarget[] {
  const find = (transport: RequestReplyTransport, mode: RequestReplyRow['mode'], pauseUs: number) =>
    rows.find((row) => row.transport === transport && row.mode === mode && row.pauseUs === pauseUs && row.error === undefined);
  const targets: RequestReplyTarget[] = [];
  const woken = find('mmapipc', 'latency', 200);
  const wokenSocket = find('socket', 'latency', 200);
  if (woken?.p50Us !== undefined && wokenSocket?.p50Us !== undefined) {
    const ratio = woken.p50Us / wokenSocket.p50Us;
    targets.push({ name: 'woken request/reply p50 <= 1.0x the Unix socket', met: ratio <= 1, detail: `${woken.p50Us.toFixed(1)} µs against ${wokenSocket.p50Us.toFixed(1)} µs (${ratio.toFixed(2)}x)` });
  } else {
    targets.push({ name: 'woken request/reply p50 <= 1.0x the Unix socket', met: undefined, detail: 'not measured' });
  }
  const busy = find('mmapipc', 'throughput', 0);
  const busySocket = find('socket', 'throughput', 0);
  if (busy?.requestsPerSecond !== undefined && busySocket?.requestsPerSecond !== undefined) {
    const ratio = busy.requestsPerSecond / busySocket.requestsPerSecond;
    targets.push({
      name: `${IN_FLIGHT} in flight >= 5x the Unix socket's requests/s`,
      met: ratio >= 5,
      detail: `${Math.round(busy.requestsPerSecond)} against ${Math.round(busySocket.requestsPerSecond)} requests/s (${ratio.toFixed(2)}x)`,
    });
  } else {
    targets.push({ name: `${IN_FLIGHT} in flight >= 5x the Unix socket's requests/s`, met: undefined, detail: 'not measured' });
  }
  return targets;
}

export function formatRequestReply(rows: readonly RequestReplyRow[], targets: readonly RequestReplyTarget[]): string {
  const names: Record<RequestReplyTransport, string> = { mmapipc: 'mmapipc request/serve', socket: 'Unix socket (lines)', ipc: 'child_process IPC' };
  const lines = ['Request/reply, 64-byte requests, one client and one server process', ''];
  lines.push(`${'transport'.padEnd(24)}${'mode'.padEnd(30)}${'p50'.padStart(12)}${'p99'.padStart(12)}${'requests/s'.padStart(14)}`);
  for (const row of rows) {
    const mode = row.mode === 'latency' ? `one at a time, pause ${row.pauseUs} µs` : `${row.inFlight} in flight`;
    const micros = (value: number | undefined) => (value === undefined ? '' : `${value.toFixed(1)} µs`);
    const figures = row.error ? `  failed: ${row.error}` : `${micros(row.p50Us).padStart(12)}${micros(row.p99Us).padStart(12)}${(row.requestsPerSecond === undefined ? '' : Math.round(row.requestsPerSecond).toLocaleString('en-US')).padStart(14)}`;
    lines.push(`${names[row.transport].padEnd(24)}${mode.padEnd(30)}${figures}`);
  }
  lines.push('', 'Targets (benchmark targets, not tests):');
  for (const target of targets) lines.push(`  ${target.met === undefined ? 'n/a   ' : target.met ? 'met   ' : 'missed'} ${target.name}: ${target.detail}`);
  return `${lines.join('\n')}\n`;
}
