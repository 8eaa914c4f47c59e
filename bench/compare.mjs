#!/usr/bin/env node
// Compares bench rows across builds of mmapipc (e.g. before and after a change, or a release and
// the current code), interleaved: every repetition runs every row of every build once, in turn,
// so that load changes on a shared machine hit all of them alike. Prints the median of each
// figure over the repetitions, and the load average before each repetition.
//   node bench/compare.mjs [--reps N] [--rounds N] <checkout>... -- <row>...
// Rows:
//   transport:mode:size:pauseUs[:same|cross]     a ping-pong row (p50/p99/p99.9 in µs)
//   throughput:transport:size:senders:messages   a throughput row (msg/s; CPU ns/msg per side when the build reports it)
//   fan-out:size:groups:messages                 a fan-out row (builds with consumer groups only)
//   size:transport:size:messages                 a row of messages of any size, 1 sender (format v3 builds only;
//                                                size in bytes or log-normal; msg/s and GB/s)
//   pipeline:lines                               seq LINES | mmapipc send into mmapipc receive --count LINES
//                                                on the default ring (lines/s, wall time incl. both start-ups)
// Each checkout is a directory with a built dist/, bin/mmapipc.js and bench/one.mjs. Example:
//   node bench/compare.mjs --reps 5 /tmp/before /tmp/after -- mmapipc:sleep:64:200 throughput:mmapipc-batch:64:1:4000000 pipeline:1000000
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, openSync, closeSync, existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const at = argv.indexOf(name);
  if (at === -1) return fallback;
  const [, value] = argv.splice(at, 2);
  return Number(value);
};
const reps = option('--reps', 5);
const rounds = option('--rounds', 5000);
const split = argv.indexOf('--');
if (split < 1 || split === argv.length - 1) {
  process.stderr.write('usage: node bench/compare.mjs [--reps N] [--rounds N] <checkout>... -- <row>...\n');
  process.exit(2);
}
const checkouts = argv.slice(0, split).map((dir) => resolve(dir));
const rows = argv.slice(split + 1).map((spec) => spec.split(':'));

const one = (checkout, args) => {
  const run = spawnSync(process.execPath, [join(checkout, 'bench/one.mjs'), ...args], { encoding: 'utf8' });
  const result = run.status === 0 ? JSON.parse(run.stdout.trim().split('\n').pop()) : undefined;
  if (!result?.verified) throw new Error(run.stderr.trim() || result?.error || `exit ${run.status}`);
  return result;
};

/** seq LINES | mmapipc send --file R, and mmapipc receive --file R --count LINES > out, launched together. */
async function pipeline(checkout, lines) {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'mmapipc-compare-'));
  const ring = join(dir, 'pipeline.ring');
  const outPath = join(dir, 'out.txt');
  const out = openSync(outPath, 'w');
  const bin = join(checkout, 'bin/mmapipc.js');
  const env = { ...process.env, NO_COLOR: '1' };
  const exited = (child) => new Promise((done) => child.once('exit', (code, signal) => done(signal ?? code)));
  try {
    const start = performance.now();
    const receiver = spawn(process.execPath, [bin, 'receive', '--file', ring, '--count', String(lines)], { stdio: ['ignore', out, 'inherit'], env });
    const seq = spawn('seq', [String(lines)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const sender = spawn(process.execPath, [bin, 'send', '--file', ring], { stdio: [seq.stdout, 'ignore', 'inherit'], env });
    const codes = await Promise.all([exited(receiver), exited(sender), exited(seq)]);
    const seconds = (performance.now() - start) / 1000;
    if (codes.some((code) => code !== 0)) throw new Error(`exit codes receive/send/seq ${codes.join('/')}`);
    let expected = '';
    for (let i = 1; i <= lines; i++) expected += `${i}\n`;
    if (!readFileSync(outPath).equals(Buffer.from(expected))) throw new Error('the lines received differ from the lines sent');
    return { verified: true, seconds, linesPerSecond: lines / seconds };
  } finally {
    closeSync(out);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(checkout, row) {
  const [kind, ...rest] = row;
  if (kind === 'throughput') {
    const [transport, size, senders, messages] = rest;
    return one(checkout, ['throughput', transport, size, senders, messages]);
  }
  if (kind === 'size') {
    const [transport, size, messages] = rest;
    return one(checkout, ['size', transport, size, messages]);
  }
  if (kind === 'fan-out') {
    const [size, groups, messages] = rest;
    return one(checkout, ['fan-out', size, groups, messages]);
  }
  if (kind === 'pipeline') return pipeline(checkout, Number(rest[0]));
  const [transport, mode, size, pauseUs, placement] = row;
  return one(checkout, ['latency', transport, mode, size, String(rounds), pauseUs, ...(placement ? [placement] : [])]);
}

const samples = new Map();
const loads = [];
for (let rep = 1; rep <= reps; rep++) {
  loads.push(loadavg()[0]);
  for (const row of rows) {
    for (const checkout of checkouts) {
      const key = `${checkout}\t${row.join(':')}`;
      try {
        samples.set(key, [...(samples.get(key) ?? []), await measure(checkout, row)]);
      } catch (error) {
        process.stderr.write(`${key}: failed: ${error.message}\n`);
      }
    }
  }
  process.stderr.write(`repetition ${rep} of ${reps} done (load average ${loadavg()[0].toFixed(2)})\n`);
}
loads.push(loadavg()[0]);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
};
const us = (value) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
const mega = (value) => (value / 1e6).toFixed(2);
console.log(`load average (1 min) before each repetition and at the end: ${loads.map((load) => load.toFixed(2)).join(' ')}`);
console.log(['checkout', 'row', 'runs', 'median', 'each run', 'CPU ns/msg (median)'].join('\t'));
for (const row of rows) {
  for (const checkout of checkouts) {
    const runs = samples.get(`${checkout}\t${row.join(':')}`) ?? [];
    const cells = [checkout, row.join(':'), runs.length];
    if (runs.length === 0) cells.push('-');
    else if (row[0] === 'pipeline') cells.push(`${mega(median(runs.map((r) => r.linesPerSecond)))} M lines/s`, runs.map((r) => r.seconds.toFixed(2) + ' s').join(' '));
    else if (row[0] === 'throughput' || row[0] === 'fan-out' || row[0] === 'size') {
      const gb = row[0] === 'size' ? `, ${median(runs.map((r) => r.gigabytesPerSecond)).toFixed(2)} GB/s` : '';
      cells.push(`${mega(median(runs.map((r) => r.messagesPerSecond)))} M msg/s${gb}`, runs.map((r) => mega(r.messagesPerSecond)).join(' '));
      const cpu = runs.map((r) => r.cpuNsPerMessage).filter(Boolean);
      if (cpu.length === runs.length && row[0] !== 'fan-out') cells.push(`send ${median(cpu.map((c) => c.sender)).toFixed(0)}, receive ${median(cpu.map((c) => c.receiver)).toFixed(0)}`);
      if (cpu.length === runs.length && row[0] === 'fan-out') {
        const members = cpu[0].members.map((_, i) => median(cpu.map((c) => c.members[i])).toFixed(0));
        cells.push(`send ${median(cpu.map((c) => c.sender)).toFixed(0)}, members ${members.join(', ')}`);
      }
    } else {
      const column = (field) => us(median(runs.map((run) => run[field])));
      cells.push(`p50 ${column('p50Us')}, p99 ${column('p99Us')}, p99.9 ${column('p999Us')} µs`, runs.map((run) => us(run.p50Us)).join(' '));
    }
    console.log(cells.join('\t'));
  }
}
