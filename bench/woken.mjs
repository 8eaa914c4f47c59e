#!/usr/bin/env node
// The woken round trip (issue 17): ping-pong with a pause before each ping, so every ping finds its
// ponger asleep. Each repetition runs, one after the other, a Unix socket (event loop), mmapipc
// sleeping in receive(), and mmapipc awaiting receiveAsync(), and judges the two mmapipc rows
// against the socket row of the same repetition. Benchmark targets, printed met or missed; the
// exit status does not depend on them.
//   node bench/woken.mjs [repetitions=5] [rounds=5000] [pauseUs=200] [--json]
// Uses the built package (dist/): run `npm run build` first. Rows are unpinned (placement 'any').
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const worker = fileURLToPath(new URL('../dist/bench/worker.js', import.meta.url));
const json = process.argv.includes('--json');
const [repetitions = 5, rounds = 5000, pauseUs = 200] = process.argv.slice(2).filter((a) => a !== '--json').map(Number);
/** Issue 17: p50 of receive() at most 1.3x the socket's, of receiveAsync() at most 1.0x, same pause, same run. */
const TARGETS = { sleep: 1.3, async: 1.0 };
const ROWS = [
  { name: 'Unix socket', transport: 'socket', mode: 'event-loop' },
  { name: 'receive()', transport: 'mmapipc', mode: 'sleep' },
  { name: 'receiveAsync()', transport: 'mmapipc', mode: 'async' },
];
const SIZE = 64;
const WARMUP = 2000;

function measure(row) {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'mmapipc-woken-'));
  const config = { kind: 'latency', transport: row.transport, mode: row.mode, size: SIZE, rounds, warmup: WARMUP, pauseUs, placement: 'any', dir, nodeArgs: [] };
  try {
    const run = spawnSync(process.execPath, [worker, 'host', JSON.stringify(config)], { encoding: 'utf8' });
    const line = run.stdout.trim().split('\n').pop();
    if (run.status !== 0 || !line) throw new Error(`${row.name}: worker exited ${run.status}: ${run.stderr.trim()}`);
    const result = JSON.parse(line);
    if (!result.verified) throw new Error(`${row.name}: ${result.error}`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const us = (value) => `${value.toFixed(1)} µs`;
const report = { size: SIZE, pauseUs, rounds, targets: TARGETS, repetitions: [] };
for (let index = 1; index <= repetitions; index++) {
  const load = loadavg()[0];
  const [socket, sleep, wait] = ROWS.map(measure);
  const sleepRatio = sleep.p50Us / socket.p50Us;
  const asyncRatio = wait.p50Us / socket.p50Us;
  const repetition = {
    index,
    load: Number(load.toFixed(2)),
    socketP50Us: socket.p50Us,
    receiveP50Us: sleep.p50Us,
    receiveAsyncP50Us: wait.p50Us,
    receiveOverSocket: sleepRatio,
    receiveAsyncOverSocket: asyncRatio,
    receiveMet: sleepRatio <= TARGETS.sleep,
    receiveAsyncMet: asyncRatio <= TARGETS.async,
  };
  report.repetitions.push(repetition);
  if (!json) {
    const verdict = (met) => (met ? 'met' : 'MISSED');
    process.stdout.write(
      `${index}/${repetitions} (load ${load.toFixed(2)}): socket ${us(socket.p50Us)}, ` +
        `receive() ${us(sleep.p50Us)} = ${sleepRatio.toFixed(2)}x (<= ${TARGETS.sleep}x: ${verdict(repetition.receiveMet)}), ` +
        `receiveAsync() ${us(wait.p50Us)} = ${asyncRatio.toFixed(2)}x (<= ${TARGETS.async}x: ${verdict(repetition.receiveAsyncMet)})\n`,
    );
  }
}
const all = (key) => report.repetitions.every((r) => r[key]);
report.receiveMetEveryTime = all('receiveMet');
report.receiveAsyncMetEveryTime = all('receiveAsyncMet');
if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
else
  process.stdout.write(
    `every repetition: receive() ${report.receiveMetEveryTime ? 'met' : 'MISSED'}, receiveAsync() ${report.receiveAsyncMetEveryTime ? 'met' : 'MISSED'} ` +
      `(p50, ${SIZE} B, pause ${pauseUs} µs, ${rounds} rounds after ${WARMUP} unmeasured, any CPU)\n`,
  );
