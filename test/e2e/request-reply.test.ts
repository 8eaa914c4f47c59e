/**
 * Request/reply between real processes (docs/format.md §9a): `mmapipc request` and `mmapipc
 * serve`, library servers and clients (test/fixtures/reqrep-peer.mjs). Every wait is on an event:
 * an output line, an exit, a process state.
 */
import { existsSync, readdirSync, utimesSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ExitCode } from '../../src/errors.js';
import { REPLY_EXTENSION_LENGTH, REQUEST_EXTENSION_LENGTH } from '../../src/layout/request-layout.js';
import { RingObserver } from '../../src/ring-file/observe.js';
import { LiveCli, runCli } from '../helpers/cli.js';
import { until } from '../helpers/proc.js';
import { waitStopped } from '../helpers/stopped.js';
import { tempDir } from '../helpers/temp.js';


const PEER = fileURLToPath(new URL('../fixtures/reqrep-peer.mjs', import.meta.url));
const dir = tempDir('mmapipc-reqrep-');
const live: LiveCli[] = [];
afterAll(() => dir.remove());
afterEach(async () => {
  for (const process of live.splice(0)) {
    if (process.child.exitCode === null && process.child.signalCode === null) {
      process.child.kill('SIGCONT');
      process.child.kill('SIGKILL');
      await process.exited;
    }
  }
});

let rings = 0;
const newRing = () => dir.file(`r${++rings}.ring`);

/** Resolves once the process has written `text` to stderr. */
function stderrSays(process: LiveCli, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (process.stderr.includes(text)) resolve();
    };
    process.child.stderr!.on('data', () => setImmediate(check));
    process.child.once('close', () => (process.stderr.includes(text) ? resolve() : reject(new Error(`exited without saying '${text}': ${process.stderr}`))));
    check();
  });
}

async function startServe(file: string, args: string[]): Promise<LiveCli> {
  const server = new LiveCli(['serve', '--file', file, '--json', ...args]);
  live.push(server);
  await stderrSays(server, 'serving group');
  return server;
}

async function startPeer(file: string): Promise<LiveCli> {
  const peer = new LiveCli(['serve', file], { script: PEER });
  live.push(peer);
  await peer.waitForLine('"ready"');
  return peer;
}

/** The ring's state as `stat --json` reports it. */
async function stat(file: string): Promise<{ claims: unknown[]; groups: Array<{ name: string; inFlight: number; redelivered: number }>; participants: Array<{ pid: number; state?: string }> }> {
  const result = await runCli(['stat', '--file', file, '--json']);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
}

/** Messages published into the ring so far. */
function sentCount(file: string): number {
  const observer = RingObserver.open(file);
  try {
    return observer.snapshot().state.sent;
  } finally {
    observer.close();
  }
}

function replyRings(file: string): string[] {
  return existsSync(`${file}.replies`) ? readdirSync(`${file}.replies`) : [];
}

test('replies come back byte for byte: empty, UTF-8, every byte value, the largest request the ring takes', async () => {
  const file = newRing();
  await startServe(file, ['--', 'cat']);
  // docs/format.md §2 and §9a: the tutorial ring's largest message is 100 × 96 − 32 − 40 = 9,528 bytes, as a request
  // too: a request's 40-byte extension (a reply's 16) goes in the 40 bytes every ring keeps for one.
  const largest = 9528;
  expect([REQUEST_EXTENSION_LENGTH, REPLY_EXTENSION_LENGTH]).toEqual([40, 16]);
  const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const big = Buffer.alloc(largest, 'abcdefghij');
  for (const input of [Buffer.alloc(0), Buffer.from('grüße, 世界 🙂'), every, big]) {
    const result = await runCli(['request', '--file', file], { input });
    expect(result.code).toBe(0);
    expect(result.stdoutBytes.equals(input)).toBe(true);
  }
  const tooBig = await runCli(['request', '--file', file], { input: Buffer.alloc(largest + 1) });
  expect(tooBig.code).toBe(ExitCode.messageTooLarge);
  expect(tooBig.stderr).toContain(`(${largest} bytes)`);
  const json = await runCli(['request', '--file', file, '--json', 'héllo']);
  expect(JSON.parse(json.stdout)).toMatchObject({ message: 'héllo', bytes: 6, deliveries: 0 });
  expect(replyRings(file)).toEqual([]);
});

test('the two-terminal example: serve -- tr a-z A-Z answers request hello with HELLO', async () => {
  const file = newRing();
  await startServe(file, ['--', 'tr', 'a-z', 'A-Z']);
  const result = await runCli(['request', '--file', file, 'hello']);
  expect(result).toMatchObject({ code: 0, stdout: 'HELLO' });
});

test('8 clients x 2 servers x 500 requests: each client gets exactly its own replies, none lost, none crossed', async () => {
  const file = newRing();
  const servers = [await startPeer(file), await startPeer(file)];
  const clients = Array.from({ length: 8 }, (_, id) => new LiveCli(['client', file, `c${id}`, '500', '4'], { script: PEER }));
  live.push(...clients);
  const summaries = await Promise.all(clients.map(async (client) => JSON.parse(await client.waitForLine('"ok"'))));
  for (const [id, summary] of summaries.entries()) expect(summary).toMatchObject({ id: `c${id}`, ok: 500, crossed: 0, lost: 0 });
  // Both servers answered someone: the group shares the requests.
  const answeredBy = new Set(summaries.flatMap((summary) => summary.servers));
  expect(answeredBy).toEqual(new Set(servers.map((server) => server.child.pid)));
  await Promise.all(clients.map((client) => client.exited));
  expect(replyRings(file)).toEqual([]);
  const state = await stat(file);
  expect(state.claims).toEqual([]);
  expect(state.groups.find((group) => group.name === 'requests')?.inFlight).toBe(0);
});

test('no responders: exit 10 in well under a second, with no ring and with a ring nobody serves', async () => {
  const file = newRing();
  for (const setup of [async () => {}, async () => void (await runCli(['create', '--file', file]))]) {
    await setup();
    const started = performance.now();
    const result = await runCli(['request', '--file', file, 'anyone?']);
    const elapsed = performance.now() - started;
    expect(result.code).toBe(ExitCode.noResponders);
    expect(result.stderr).toContain('no responders');
    expect(elapsed).toBeLessThan(1000);
  }
});

test('serve -- COMMAND: a failing command is an error reply (exit 11, its last stderr line), a silent one an empty reply, binary output byte for byte', async () => {
  const file = newRing();
  const script = 'read x; case "$x" in fail) echo first >&2; echo "disk on fire" >&2; exit 3;; code) exit 4;; quiet) exit 0;; binary) printf "\\000\\377\\001";; esac';
  const server = await startServe(file, ['--', 'sh', '-c', script]);
  const fail = await runCli(['request', '--file', file], { input: 'fail\n' });
  expect(fail.code).toBe(ExitCode.errorReply);
  expect(fail.stderr).toContain('disk on fire');
  expect(fail.stdout).toBe('');
  const code = await runCli(['request', '--file', file], { input: 'code\n' });
  expect(code.code).toBe(ExitCode.errorReply);
  expect(code.stderr).toContain('exit 4');
  const quiet = await runCli(['request', '--file', file], { input: 'quiet\n' });
  expect(quiet).toMatchObject({ code: 0, stdout: '' });
  const binary = await runCli(['request', '--file', file], { input: 'binary\n' });
  expect(binary.code).toBe(0);
  expect([...binary.stdoutBytes]).toEqual([0x00, 0xff, 0x01]);
  await server.waitForLine('"replyBytes":3');
  const outcomes = server.lines.map((line) => JSON.parse(line).outcome);
  expect(outcomes).toEqual(['error', 'error', 'replied', 'replied']);
});

test('serve -- COMMAND that hangs: the client times out with 124, the run is killed at the deadline and answers nothing', async () => {
  const file = newRing();
  const server = await startServe(file, ['--', 'sleep', '30']);
  const started = performance.now();
  const result = await runCli(['request', '--file', file, '--timeout', '0.5', 'zzz']);
  expect(result.code).toBe(ExitCode.timeout);
  expect(performance.now() - started).toBeLessThan(5000);
  const record = JSON.parse(await server.waitForLine('"outcome"'));
  expect(record).toMatchObject({ outcome: 'expired', replyBytes: 0 });
  expect(replyRings(file)).toEqual([]);
  expect((await stat(file)).groups.find((group) => group.name === 'requests')?.inFlight).toBe(0);
});

test('serve --lines: one process answers every request, a line in and a line out, each to its own client', async () => {
  const file = newRing();
  const server = await startServe(file, ['--lines', '--concurrency', '4', '--', 'sed', '-u', 's/^/echo: /']);
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => runCli(['request', '--file', file, `line ${i}`])));
  results.forEach((result, i) => expect(result).toMatchObject({ code: 0, stdout: `echo: line ${i}` }));
  const twoLines = await runCli(['request', '--file', file], { input: 'a\nb' });
  expect(twoLines.code).toBe(ExitCode.errorReply);
  expect(twoLines.stderr).toContain('must be one line');
  await until(() => server.lines.length === 7, 'seven records');
});

test('a server SIGKILLed holding a request: another server of the group gets it once (deliveries 1) and answers', async () => {
  const file = newRing();
  const servers = [await startPeer(file), await startPeer(file)];
  const client = new LiveCli(['request', '--file', file, '--json', '--timeout', '20', 'stall']);
  live.push(client);
  const holder = await Promise.race(servers.map(async (server) => (await server.waitForLine('"got"'), server)));
  const other = servers.find((server) => server !== holder)!;
  holder.child.kill('SIGKILL');
  const reply = JSON.parse(await client.waitForLine('"deliveries"'));
  expect(reply).toEqual({ message: `STALL|${other.child.pid}`, bytes: 6 + String(other.child.pid).length, deliveries: 1, ms: expect.any(Number) });
  expect(await client.exited).toEqual({ code: 0, signal: null });
  expect(JSON.parse(await other.waitForLine('"deliveries":1'))).toMatchObject({ deliveries: 1 });
  const state = await stat(file);
  expect(state.claims).toEqual([]);
  expect(state.groups.find((group) => group.name === 'requests')).toMatchObject({ inFlight: 0, redelivered: 1 });
  expect(state.participants.map((entry) => entry.pid)).not.toContain(holder.child.pid);
});

test('the only server SIGKILLed holding a request: the client fails with exit 12 long before its deadline, and nothing stays held', async () => {
  const file = newRing();
  const server = await startPeer(file);
  const client = new LiveCli(['request', '--file', file, '--timeout', '30', 'stall']);
  live.push(client);
  await server.waitForLine('"got"');
  const killed = performance.now();
  server.child.kill('SIGKILL');
  const exit = await client.exited;
  expect(exit.code).toBe(ExitCode.serverDied);
  expect(performance.now() - killed).toBeLessThan(3000);
  expect(client.stderr).toContain('no live server is left');
  const state = await stat(file);
  expect(state.claims).toEqual([]);
  expect(state.groups.find((group) => group.name === 'requests')?.inFlight).toBe(0);
  expect(replyRings(file)).toEqual([]);
});

test('a server SIGSTOPped past the deadline: the client exits 124; resumed, the server skips the expired request', async () => {
  const file = newRing();
  const server = await startServe(file, ['--', 'cat']);
  server.child.kill('SIGSTOP');
  await waitStopped(server.child.pid!, 'serve');
  const result = await runCli(['request', '--file', file, '--timeout', '0.5', 'late']);
  expect(result.code).toBe(ExitCode.timeout);
  expect(replyRings(file)).toEqual([]);
  server.child.kill('SIGCONT');
  expect(JSON.parse(await server.waitForLine('"outcome"'))).toMatchObject({ outcome: 'expired', replyBytes: 0, bytes: 4 });
  // Still serving, and nothing held.
  expect(await runCli(['request', '--file', file, 'on time'])).toMatchObject({ code: 0, stdout: 'on time' });
  await server.waitForLine('"replied"');
  const state = await stat(file);
  expect(state.claims).toEqual([]);
  expect(state.groups.find((group) => group.name === 'requests')?.inFlight).toBe(0);
});

test('a client SIGKILLed while waiting leaves its reply ring; the next client sweeps it', async () => {
  const file = newRing();
  const server = await startServe(file, ['--', 'cat']);
  server.child.kill('SIGSTOP');
  await waitStopped(server.child.pid!, 'serve');
  const client = new LiveCli(['request', '--file', file, '--timeout', '30', 'orphan']);
  live.push(client);
  await until(() => sentCount(file) === 1, 'the client sent its request');
  const [stale] = replyRings(file);
  client.child.kill('SIGKILL');
  await client.exited;
  server.child.kill('SIGCONT');
  await until(() => server.lines.length === 1, 'the server dealt with the orphaned request');
  expect(JSON.parse(server.lines[0]!).outcome).toBe('no-client');
  // Sweeping leaves rings written to in the last second alone (they may be being made): make this one older.
  const past = new Date(Date.now() - 10_000);
  utimesSync(`${file}.replies/${stale}`, past, past);
  expect(await runCli(['request', '--file', file, 'next'])).toMatchObject({ code: 0, stdout: 'next' });
  expect(replyRings(file)).toEqual([]);
});
