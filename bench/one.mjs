#!/usr/bin/env node
// Runs one bench measurement from the built package (dist/), the same worker `mmapipc bench` uses.
//   node bench/one.mjs throughput <transport> <size> <senders> <messages> [slots]   (slots: mmapipc rings only)
//   node bench/one.mjs latency <transport> <spin|sleep|event> <size> <rounds>
// Node flags for every process of the run (e.g. --cpu-prof) go in BENCH_NODE_ARGS.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const worker = fileURLToPath(new URL('../dist/bench/worker.js', import.meta.url));
const [kind, transport, a, b, c, d] = process.argv.slice(2);
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const dir = mkdtempSync(join(tmpdir(), 'mmapipc-bench-one-'));
let config;
if (kind === 'throughput' && c) {
  const senders = Number(b);
  config = { kind, transport, size: Number(a), senders, perSender: Math.ceil(Number(c) / senders), dir, nodeArgs, ...(d ? { slots: Number(d) } : {}) };
} else if (kind === 'latency' && c) {
  config = { kind, transport, mode: a, size: Number(b), rounds: Number(c), warmup: Math.min(2000, Number(c)), dir, nodeArgs };
} else {
  process.stderr.write('usage: node bench/one.mjs throughput <transport> <size> <senders> <messages> [slots]\n' +
    '       node bench/one.mjs latency <transport> <spin|sleep|event> <size> <rounds>\n' +
    'transports: mmapipc mmapipc-batch ipc socket fifo\n');
  process.exit(2);
}
const run = spawnSync(process.execPath, [...nodeArgs, worker, 'host', JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit'] });
rmSync(dir, { recursive: true, force: true });
process.exitCode = run.status ?? 1;
