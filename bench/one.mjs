#!/usr/bin/env node
// Runs one bench measurement from the built package (dist/), the same worker `mmapipc bench` uses.
//   node bench/one.mjs throughput <transport> <size> <senders> <messages> [slots]   (slots: mmapipc rings only)
//   node bench/one.mjs fan-out <size> <groups> <messages> [slots]   (mmapipc batch: 1 sender, N groups of one member)
//   node bench/one.mjs size <transport> <bytes|log-normal> <messages> [ringMiB] [slotSize]   (messages of any size,
//        1 sender; mmapipc-copy, mmapipc-zero-copy: a ring of ringMiB (default 64) MiB of slotSize-byte (default 64) slots; socket)
//   node bench/one.mjs latency <transport> <spin|sleep|async|event-loop> <size> <rounds> [pauseUs] [same|cross]
//   node bench/one.mjs startup [runs]   (`--version` and a one-shot `send` against `node -e 0`, paired medians; default 21)
// Node flags for every process of the run (e.g. --cpu-prof) go in BENCH_NODE_ARGS.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { twoCpus } from '../dist/bench/placement.js';

const worker = fileURLToPath(new URL('../dist/bench/worker.js', import.meta.url));
const [kind, transport, a, b, c, d, e] = process.argv.slice(2);
if (kind === 'startup') {
  // The bench's CLI start-up figures alone, judged against the same targets.
  const { sendStartup, startup } = await import('../dist/bench/cli-figures.js');
  const { TARGETS } = await import('../dist/bench/targets.js');
  const runs = Number(transport ?? 21);
  const bin = fileURLToPath(new URL('../bin/mmapipc.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'mmapipc-bench-one-'));
  try {
    for (const [name, figure, target] of [
      ['mmapipc --version', startup(bin, runs), TARGETS.startupRatio],
      ['mmapipc send --file R x (existing ring)', sendStartup(bin, dir, runs), TARGETS.sendStartupRatio],
    ]) {
      const verdict = figure.ratio <= target ? 'MET' : 'MISSED';
      console.log(`${name}: ${figure.mmapipcMs.toFixed(1)} ms, node -e 0 ${figure.nodeMs.toFixed(1)} ms (medians of ${runs}): ${figure.ratio.toFixed(2)}x — target ≤ ${target}x: ${verdict}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const dir = mkdtempSync(join(tmpdir(), 'mmapipc-bench-one-'));
let config;
if (kind === 'throughput' && c) {
  const senders = Number(b);
  config = { kind, transport, size: Number(a), senders, perSender: Math.ceil(Number(c) / senders), dir, nodeArgs, ...(d ? { slots: Number(d) } : {}) };
} else if (kind === 'fan-out' && b) {
  config = { kind: 'throughput', transport: 'mmapipc-batch', size: Number(transport), senders: 1, perSender: Number(b), groups: Number(a), dir, nodeArgs, ...(c ? { slots: Number(c) } : {}) };
} else if (kind === 'size' && b) {
  // A distribution's largest message is 64 KiB (dist/bench/sizes.js).
  const distribution = a === 'log-normal' ? a : undefined;
  const size = distribution ? 64 * 1024 : Number(a);
  config = { kind: 'throughput', transport, size, ...(distribution ? { distribution } : {}), senders: 1, perSender: Number(b), dir, nodeArgs, ...(c ? { ringBytes: Number(c) * 1024 * 1024 } : {}), ...(d ? { slotSize: Number(d) } : {}) };
} else if (kind === 'latency' && c) {
  // Pinned runs take the first two CPUs this process may use (taskset -cp), as the bench does.
  const cpus = e ? twoCpus() : undefined;
  if (e && !cpus) throw new Error('cannot pin: taskset is missing or fewer than two CPUs are allowed');
  const placement = e === 'same' ? 'same-cpu' : e === 'cross' ? 'cross-cpu' : 'any';
  const pinned = cpus && (placement === 'same-cpu' ? [cpus[0], cpus[0]] : [cpus[0], cpus[1]]);
  config = { kind, transport, mode: a, size: Number(b), rounds: Number(c), warmup: Math.min(2000, Number(c)), pauseUs: Number(d ?? 0), placement, ...(pinned ? { cpus: pinned } : {}), dir, nodeArgs };
} else {
  process.stderr.write('usage: node bench/one.mjs throughput <transport> <size> <senders> <messages> [slots]\n' +
    '       node bench/one.mjs fan-out <size> <groups> <messages> [slots]\n' +
    '       node bench/one.mjs size <transport> <bytes|log-normal> <messages> [ringMiB] [slotSize]\n' +
    '       node bench/one.mjs latency <transport> <spin|sleep|async|event-loop> <size> <rounds> [pauseUs] [same|cross]\n' +
    '       node bench/one.mjs startup [runs]\n' +
    'transports: mmapipc mmapipc-batch ipc socket fifo mmapipc-copy mmapipc-zero-copy\n');
  process.exit(2);
}
const args = [...nodeArgs, worker, 'host', JSON.stringify(config)];
const host = config.cpus ? ['taskset', ['-c', String(config.cpus[0]), process.execPath, ...args]] : [process.execPath, args];
const run = spawnSync(host[0], host[1], { stdio: ['ignore', 'inherit', 'inherit'] });
rmSync(dir, { recursive: true, force: true });
process.exitCode = run.status ?? 1;
