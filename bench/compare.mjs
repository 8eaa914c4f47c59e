#!/usr/bin/env node
// Compares ping-pong rows across builds of mmapipc (e.g. before and after a change), interleaved:
// every repetition runs every row of every build once, in turn, so that load changes on a shared
// machine hit all of them alike. Prints the median of each percentile over the repetitions.
//   node bench/compare.mjs [--reps N] [--rounds N] <checkout>... -- <transport:mode:size:pauseUs[:same|cross]>...
// Each checkout is a directory with a built dist/ and bench/one.mjs. Example:
//   node bench/compare.mjs --reps 5 /tmp/before /tmp/after -- mmapipc:sleep:64:200 socket:event-loop:64:200
import { spawnSync } from 'node:child_process';
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
  process.stderr.write('usage: node bench/compare.mjs [--reps N] [--rounds N] <checkout>... -- <transport:mode:size:pauseUs[:same|cross]>...\n');
  process.exit(2);
}
const checkouts = argv.slice(0, split).map((dir) => resolve(dir));
const rows = argv.slice(split + 1).map((spec) => spec.split(':'));

const samples = new Map();
for (let rep = 1; rep <= reps; rep++) {
  for (const row of rows) {
    for (const checkout of checkouts) {
      const [transport, mode, size, pauseUs, placement] = row;
      const args = [join(checkout, 'bench/one.mjs'), 'latency', transport, mode, size, String(rounds), pauseUs, ...(placement ? [placement] : [])];
      const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
      const key = `${checkout}\t${row.join(':')}`;
      const result = run.status === 0 ? JSON.parse(run.stdout.trim().split('\n').pop()) : undefined;
      if (!result?.verified) process.stderr.write(`${key}: failed: ${run.stderr.trim() || result?.error}\n`);
      else samples.set(key, [...(samples.get(key) ?? []), result]);
    }
  }
  process.stderr.write(`repetition ${rep} of ${reps} done\n`);
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
};
const us = (value) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
console.log(['checkout', 'row', 'runs', 'p50', 'p99', 'p99.9', 'p50 of each run'].join('\t'));
for (const row of rows) {
  for (const checkout of checkouts) {
    const runs = samples.get(`${checkout}\t${row.join(':')}`) ?? [];
    const column = (field) => (runs.length ? us(median(runs.map((run) => run[field]))) : '-');
    console.log([checkout, row.join(':'), runs.length, column('p50Us'), column('p99Us'), column('p999Us'), runs.map((run) => us(run.p50Us)).join(' ')].join('\t'));
  }
}
