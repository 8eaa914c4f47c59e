#!/usr/bin/env node
// Compares ways of waking a process, outside the ring: two processes ping-pong a counter through
// shared words, each side waiting the way <mechanism> says (the ring's protocol: store the waiting
// word, re-check, sleep; the other side stores, swaps the waiting word to 0 and wakes). The
// figures behind docs/wakeup.md's choice; see docs/performance.md, "Waking a sleeper".
//   node bench/wake-probe.mjs <mechanism> <pauseUs> <rounds> [same|cross]
// Blocking: futex (libc.ts's Buffer-argument calls), lean (lean-futex.ts's call shape), fifo
// (blocking read of a FIFO, one byte per sleeper), fifopoll (poll(2) through ffi-rs, then read),
// ino (blocking read of an inotify descriptor), inopoll (poll(2), then read).
// Event loop: futexasync / leanasync (a futex in an ffi-rs thread), fifosock (the FIFO through a
// net.Socket), inowatch (fs.watch of a file the waker pwrite()s), inotimer (the same plus a
// setTimeout per wait), inoabort (plus an AbortController and an 'abort' listener per wait),
// socket (a Unix socket, for reference).
// It calls ffi-rs directly, on purpose: it measures calls the library does not make.
import { execFileSync, fork, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import ffi from 'ffi-rs';
import { mapShared, openFile, O_RDWR, O_CREAT, futexWait, futexWake, futexWaitAsync } from '../dist/sys/libc.js';

const { DataType, load, open, createPointer, unwrapPointer, createExternalBuffer } = ffi;
open({ library: 'libc', path: 'libc.so.6' });
const USAGE = 'usage: node bench/wake-probe.mjs <mechanism> <pauseUs> <rounds> [same|cross]\n';
const cli = process.argv.slice(2);
if (cli[0] !== 'child' && cli[0] !== 'host') {
  // Entry: make the scratch directory, pin the host if asked, run it, clean up.
  const [mechanism, pause, count, placement] = cli;
  if (!mechanism || !count || (placement && placement !== 'same' && placement !== 'cross')) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  const scratch = fs.mkdtempSync(join(fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp', 'wake-probe-'));
  for (const d of [0, 1]) {
    execFileSync('mkfifo', ['-m', '600', join(scratch, `fifo${d}`)]);
    fs.writeFileSync(join(scratch, `bell${d}`), 'x', { mode: 0o600 });
  }
  const childCpu = placement === 'same' ? '0' : placement === 'cross' ? '1' : 'none';
  const args = [new URL(import.meta.url).pathname, 'host', mechanism, pause, count, childCpu, scratch];
  const run = placement ? spawnSync('taskset', ['-c', '0', process.execPath, ...args], { stdio: 'inherit' }) : spawnSync(process.execPath, args, { stdio: 'inherit' });
  fs.rmSync(scratch, { recursive: true, force: true });
  process.exit(run.status ?? 1);
}
const [role, mech, pauseUsArg, roundsArg, childCpu, dir] = cli;
const pauseUs = Number(pauseUsArg);
const rounds = Number(roundsArg);
const WARMUP = 300;

const fd = openFile(join(dir, 'words'), O_RDWR | O_CREAT, 0o600);
fs.ftruncateSync(fd, 4096);
const mapping = mapShared(fd, 4096);
const words = new Int32Array(mapping.buffer.buffer, mapping.buffer.byteOffset, 1024);
const base = Number(mapping.address);
// per direction d (0: ping, 1: pong): seq at 16*d*... use separate cache lines
const SEQ = (d) => d * 64; // word index
const WAIT = (d) => d * 64 + 16;
const COUNT = (d) => d * 64 + 17;

function nativeBuffer(length) {
  const address = load({ library: 'libc', funcName: 'malloc', retType: DataType.BigInt, paramsType: [DataType.U64], paramsValue: [length] });
  const pointer = unwrapPointer(createPointer({ paramsType: [DataType.BigInt], paramsValue: [address] }))[0];
  return { address: Number(address), buffer: createExternalBuffer(pointer, length) };
}
const ts = nativeBuffer(16);
const pfd = nativeBuffer(8);
const LEAN_TYPES = [DataType.I64, DataType.I64, DataType.I32, DataType.I32, DataType.I64];
const leanWait = (d, ms) => {
  const whole = Math.floor(ms / 1000);
  ts.buffer.writeBigInt64LE(BigInt(whole), 0); // keep simple
  ts.buffer.writeBigInt64LE(BigInt(Math.round((ms - whole * 1000) * 1e6)), 8);
  load({ library: 'libc', funcName: 'syscall', retType: DataType.I32, paramsType: LEAN_TYPES, paramsValue: [202, base + WAIT(d) * 4, 0, 1, ts.address] });
};
const leanWake = (d) =>
  load({ library: 'libc', funcName: 'syscall', retType: DataType.I32, paramsType: [DataType.I64, DataType.I64, DataType.I32, DataType.I32], paramsValue: [202, base + WAIT(d) * 4, 1, 0x7fffffff] });
const ffiPoll = (fdn, ms) => {
  pfd.buffer.writeInt32LE(fdn, 0);
  pfd.buffer.writeInt32LE(1, 4); // POLLIN, revents 0
  return load({ library: 'libc', funcName: 'poll', retType: DataType.I32, paramsType: [DataType.I64, DataType.I32, DataType.I32], paramsValue: [pfd.address, 1, Math.ceil(ms)] });
};
const views = [mapping.buffer.subarray(WAIT(0) * 4, WAIT(0) * 4 + 4), mapping.buffer.subarray(WAIT(1) * 4, WAIT(1) * 4 + 4)];

// ---- doorbells ----
const one = Buffer.from([1]);
const byte = Buffer.alloc(64);
let fifoRead = [], fifoPollRead = [], fifoWrite = [];
let inoFd = -1, inoWd = [], bellFd = [];
if (mech.startsWith('fifo')) {
  for (const d of [0, 1]) {
    const p = join(dir, `fifo${d}`);
    fifoRead[d] = fs.openSync(p, fs.constants.O_RDWR);
    fifoPollRead[d] = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    fifoWrite[d] = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  }
}
if (mech.startsWith('ino')) {
  inoFd = load({ library: 'libc', funcName: 'inotify_init1', retType: DataType.I32, paramsType: [DataType.I32], paramsValue: [0o2000000] });
  for (const d of [0, 1]) {
    const p = join(dir, `bell${d}`);
    bellFd[d] = fs.openSync(p, 'r+');
    inoWd[d] = load({ library: 'libc', funcName: 'inotify_add_watch', retType: DataType.I32, paramsType: [DataType.I32, DataType.String, DataType.I32], paramsValue: [inoFd, p, 2] }); // IN_MODIFY
  }
}
const ringFifo = (d) => {
  const n = Atomics.load(words, COUNT(d));
  try { fs.writeSync(fifoWrite[d], byte, 0, Math.max(1, n)); } catch {}
};

const mechs = {
  futex: { sleep: (d) => futexWait(views[d], 1, 1000), wake: (d) => futexWake(views[d]) },
  lean: { sleep: (d) => leanWait(d, 1000), wake: leanWake },
  fifo: {
    sleep(d) {
      Atomics.add(words, COUNT(d), 1);
      if (Atomics.load(words, WAIT(d)) === 1) fs.readSync(fifoRead[d], byte, 0, 1);
      Atomics.sub(words, COUNT(d), 1);
    },
    wake: ringFifo,
  },
  fifopoll: {
    sleep(d) {
      Atomics.add(words, COUNT(d), 1);
      if (Atomics.load(words, WAIT(d)) === 1 && ffiPoll(fifoPollRead[d], 1000) > 0) {
        try { fs.readSync(fifoPollRead[d], byte, 0, 1); } catch {}
      }
      Atomics.sub(words, COUNT(d), 1);
    },
    wake: ringFifo,
  },
  ino: { sleep: (d) => fs.readSync(inoFd, byte, 0, 64), wake: (d) => fs.writeSync(bellFd[d], one, 0, 1, 0) },
  inopoll: { sleep: (d) => { if (ffiPoll(inoFd, 1000) > 0) fs.readSync(inoFd, byte, 0, 64); }, wake: (d) => fs.writeSync(bellFd[d], one, 0, 1, 0) },
};

// async mechanisms: sleepAsync(d) returns a promise
let asyncMechs = {};
{
  const waiters = [null, null];
  asyncMechs.futexasync = { sleepAsync: (d) => futexWaitAsync(views[d], 1, 1000), wake: (d) => futexWake(views[d]) };
  asyncMechs.leanasync = {
    sleepAsync: (d) => {
      const t = Buffer.alloc(16); t.writeBigInt64LE(1n, 0);
      return load({ library: 'libc', funcName: 'syscall', retType: DataType.I32, paramsType: [DataType.I64, DataType.I64, DataType.I32, DataType.I32, DataType.U8Array], paramsValue: [202, base + WAIT(d) * 4, 0, 1, t], runInNewThread: true });
    },
    wake: leanWake,
  };
  let sockets = [];
  asyncMechs.fifosock = {
    setup(d, reads) {
      fifoWrite[d] = fs.openSync(join(dir, `fifo${d}`), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      if (!reads) return;
      const s = new net.Socket({ fd: fs.openSync(join(dir, `fifo${d}`), fs.constants.O_RDWR | fs.constants.O_NONBLOCK), readable: true, writable: false });
      s.on('data', () => { const w = waiters[d]; waiters[d] = null; w?.(); });
      sockets[d] = s;
    },
    sleepAsync: (d) => new Promise((r) => (waiters[d] = r)),
    wake: (d) => { try { fs.writeSync(fifoWrite[d], one, 0, 1); } catch {} },
  };
  asyncMechs.inowatch = {
    setup(d, reads) {
      const p = join(dir, `bell${d}`);
      bellFd[d] = fs.openSync(p, 'r+');
      if (!reads) return;
      const w = fs.watch(p, () => { const f = waiters[d]; waiters[d] = null; f?.(); });
      sockets[d] = w;
    },
    sleepAsync: (d) => new Promise((r) => (waiters[d] = r)),
    wake: (d) => fs.writeSync(bellFd[d], one, 0, 1, 0),
    close: () => sockets.forEach((s) => s?.close?.() ?? s?.destroy?.()),
  };
  asyncMechs.fifosock.close = () => sockets.forEach((s) => s?.destroy());
  asyncMechs.inotimer = { ...asyncMechs.inowatch, sleepAsync: (d) => new Promise((r) => { const t = setTimeout(r, 1000); waiters[d] = () => { clearTimeout(t); r(); }; }) };
  asyncMechs.inoabort = { ...asyncMechs.inowatch, sleepAsync: (d) => { const c = new AbortController(); const f = () => {}; c.signal.addEventListener('abort', f); return new Promise((r) => { const t = setTimeout(r, 1000); waiters[d] = () => { clearTimeout(t); c.signal.removeEventListener('abort', f); r(); }; }); } };
}

const pauseWord = new Int32Array(new SharedArrayBuffer(4));
const SPIN_MS = Number(process.env.PSPIN ?? 0.005);

function waitSync(d, v, m) {
  const until = performance.now() + SPIN_MS;
  do { for (let i = 0; i < 32; i++) if (Atomics.load(words, SEQ(d)) === v) return; } while (performance.now() < until);
  for (;;) {
    Atomics.store(words, WAIT(d), 1);
    if (Atomics.load(words, SEQ(d)) === v) return;
    m.sleep(d);
  }
}
async function waitAsync(d, v, m) {
  const until = performance.now() + SPIN_MS;
  do { for (let i = 0; i < 32; i++) if (Atomics.load(words, SEQ(d)) === v) return; } while (performance.now() < until);
  for (;;) {
    Atomics.store(words, WAIT(d), 1);
    if (Atomics.load(words, SEQ(d)) === v) return;
    await m.sleepAsync(d);
  }
}
function post(d, v, m) {
  Atomics.store(words, SEQ(d), v);
  if (Atomics.load(words, WAIT(d)) !== 0 && Atomics.exchange(words, WAIT(d), 0) !== 0) m.wake(d);
}

function percentiles(samples) {
  const s = Float64Array.from(samples).sort();
  const at = (f) => s[Math.min(s.length - 1, Math.ceil(f * s.length) - 1)];
  return { p50: +at(0.5).toFixed(1), p99: +at(0.99).toFixed(1), p999: +at(0.999).toFixed(1) };
}

async function socketHost() {
  const path = join(dir, 'sock');
  const server = net.createServer();
  await new Promise((r) => server.listen(path, r));
  const child = startChild();
  const conn = await new Promise((r) => server.once('connection', r));
  const samples = [];
  const buf = Buffer.alloc(64);
  let pending = null;
  let got = 0;
  conn.on('data', (chunk) => { got += chunk.length; if (got >= 64) { got -= 64; const p = pending; pending = null; p(); } });
  for (let i = 0; i < WARMUP + rounds; i++) {
    const t = performance.now();
    const reply = new Promise((r) => (pending = r));
    conn.write(buf);
    await reply;
    if (i >= WARMUP) samples.push((performance.now() - t) * 1000);
    if (pauseUs) Atomics.wait(pauseWord, 0, 0, pauseUs / 1000);
  }
  conn.destroy(); server.close(); child.kill();
  return percentiles(samples);
}
async function socketChild() {
  const conn = net.connect(join(dir, 'sock'));
  let got = 0;
  conn.on('data', (chunk) => { got += chunk.length; while (got >= 64) { got -= 64; conn.write(Buffer.alloc(64)); } });
  await new Promise((r) => conn.on('close', r));
}

function startChild() {
  const args = ['child', mech, pauseUsArg, roundsArg, childCpu, dir];
  const options = childCpu === 'none' ? {} : { execPath: '/usr/bin/taskset', execArgv: ['-c', childCpu, process.execPath] };
  const child = fork(new URL(import.meta.url).pathname, args, { ...options, stdio: 'inherit' });
  return child;
}

async function host() {
  if (mech === 'socket') return socketHost();
  for (const d of [0, 1]) { words[SEQ(d)] = 0; words[WAIT(d)] = 0; words[COUNT(d)] = 0; }
  const am = asyncMechs[mech];
  if (am?.setup) { am.setup(0, false); am.setup(1, true); }
  const child = startChild();
  await new Promise((r) => child.once('message', r));
  const samples = [];
  for (let i = 1; i <= WARMUP + rounds; i++) {
    const t = performance.now();
    if (am) { post(0, i, am); await waitAsync(1, i, am); } else { const m = mechs[mech]; post(0, i, m); waitSync(1, i, m); }
    if (i > WARMUP) samples.push((performance.now() - t) * 1000);
    if (pauseUs) Atomics.wait(pauseWord, 0, 0, pauseUs / 1000);
  }
  am?.close?.();
  await new Promise((r) => child.once('exit', r));
  return percentiles(samples);
}
async function childMain() {
  if (mech === 'socket') return socketChild();
  const am = asyncMechs[mech];
  if (am?.setup) { am.setup(0, true); am.setup(1, false); }
  process.send('ready');
  for (let i = 1; i <= WARMUP + rounds; i++) {
    if (am) { await waitAsync(0, i, am); post(1, i, am); } else { const m = mechs[mech]; waitSync(0, i, m); post(1, i, m); }
  }
  am?.close?.();
  process.disconnect();
}

if (role === 'host') {
  const r = await host();
  console.log(JSON.stringify({ mechanism: mech, pauseUs, placement: childCpu === 'none' ? 'any' : childCpu === '0' ? 'same' : 'cross', ...r }));
  process.exit(0);
} else {
  await childMain();
}
