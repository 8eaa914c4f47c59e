/**
 * A bench worker process. `host`: the receiving side of one measurement (the receiver of a
 * throughput run, the pinger of a ping-pong run); it forks its peers, measures, checks every
 * message, and prints one JSON line with the result. `peer`: a sender or a ponger. `member`: the
 * one member of a fan-out group, which checks every message of its group. A fan-out host
 * (config.groups set) only makes the ring and gathers what its sender and members report.
 *
 *   node dist/bench/worker.js host '<config json>'
 *   node dist/bench/worker.js peer '<config json>' <index>      (forked by a host)
 *   node dist/bench/worker.js member '<config json>' <group>    (forked by a fan-out host)
 *
 * CPU time is each process's own process.cpuUsage() (user + system, all its threads) from its
 * "go" to the end of its work; peers send theirs to the host in a "done" message.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Verifier } from './payload.js';
import { sizesOf } from './sizes.js';
import { ringOf } from './transports/sized-ring.js';
import { PingLog, percentile } from './ping-log.js';
import {
  SIZE_MMAPIPC_TRANSPORTS,
  fanOutGroup,
  isControl,
  type FanOutResult,
  type GroupFigure,
  type LatencyConfig,
  type LatencyResult,
  type PeerReport,
  type ThroughputConfig,
  type ThroughputResult,
  type Transport,
  type WorkerConfig,
} from './protocol.js';
import type { TransportBench } from './transports/types.js';
import { TASKSET } from './placement.js';
import { WORKER_PATH } from './worker-path.js';

/**
 * Each transport is loaded only by the workers that use it: a worker is a fresh process per
 * measurement, and the mmapipc ones load the native FFI addon, which the others need not pay.
 */
const BENCHES: Record<Transport, () => Promise<TransportBench>> = {
  mmapipc: async () => (await import('./transports/mmapipc.js')).mmapipc,
  'mmapipc-batch': async () => (await import('./transports/mmapipc-batch.js')).mmapipcBatch,
  ipc: async () => (await import('./transports/ipc.js')).ipc,
  socket: async () => (await import('./transports/socket.js')).socket,
  fifo: async () => (await import('./transports/fifo.js')).fifo,
  'mmapipc-copy': async () => (await import('./transports/mmapipc-copy.js')).mmapipcCopy,
  'mmapipc-zero-copy': async () => (await import('./transports/mmapipc-zero-copy.js')).mmapipcZeroCopy,
};
const BYTES_PER_MB = 1e6;
const BYTES_PER_GB = 1e9;
const NS_PER_US = 1e3;
const MMAPIPC_ROWS: readonly Transport[] = ['mmapipc', 'mmapipc-batch', ...SIZE_MMAPIPC_TRANSPORTS];

interface Peer {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  /** The peer's report at the end of its part (throughput runs). */
  readonly done: Promise<PeerReport>;
}

/** This process's CPU time (user + system, µs) since `since`, and the wall time in seconds. */
function usageSince(since: { cpu: NodeJS.CpuUsage; at: number }): { cpuUs: number; seconds: number } {
  const cpu = process.cpuUsage(since.cpu);
  return { cpuUs: cpu.user + cpu.system, seconds: (performance.now() - since.at) / 1000 };
}

function startUsage(): { cpu: NodeJS.CpuUsage; at: number } {
  return { cpu: process.cpuUsage(), at: performance.now() };
}

/**
 * How to start a peer: node with the run's flags, under `taskset -c CPU` when the run pins its
 * processes (the host was started pinned by the orchestrator; the IPC channel survives the exec).
 */
function peerCommand(config: WorkerConfig): { execPath?: string; execArgv: string[] } {
  const cpu = config.kind === 'latency' ? config.cpus?.[1] : undefined;
  if (cpu === undefined) return { execArgv: [...config.nodeArgs] };
  return { execPath: TASKSET, execArgv: ['-c', String(cpu), process.execPath, ...config.nodeArgs] };
}

/**
 * Forks `count` peers (or fan-out members: role 'member'); `failed` rejects as soon as one of
 * them fails.
 */
function forkPeers(config: WorkerConfig, count: number, role: 'peer' | 'member' = 'peer'): { peers: Peer[]; failed: Promise<never> } {
  let fail: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  const peers = Array.from({ length: count }, (_, index): Peer => {
    const child = fork(WORKER_PATH, [role, JSON.stringify(config), String(index)], {
      ...peerCommand(config),
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const ready = new Promise<void>((resolve) => child.on('message', (message) => isControl(message, 'ready') && resolve()));
    const done = new Promise<PeerReport>((resolve) => child.on('message', (message) => isControl(message, 'done') && resolve(message as PeerReport)));
    const name = role === 'member' ? `member of ${fanOutGroup(index)}` : `peer ${index}`;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        if (code === 0) resolve();
        else fail(new Error(`${config.transport} ${name} ended with ${signal ?? `exit code ${code}`}`));
      });
    });
    child.once('error', fail);
    return { child, ready, exited, done };
  });
  return { peers, failed };
}

/** CPU ns per message from µs of CPU time. */
function nsPerMessage(cpuUs: number, messages: number): number {
  return messages > 0 ? (cpuUs * NS_PER_US) / messages : NaN;
}

function sendControl(child: ChildProcess, type: 'go'): Promise<void> {
  return new Promise((resolve, reject) => child.send({ type }, (error) => (error ? reject(error) : resolve())));
}

async function hostThroughput(config: ThroughputConfig): Promise<ThroughputResult> {
  const bench = await BENCHES[config.transport]();
  const side = await bench.receiver(config);
  const { peers, failed } = forkPeers(config, config.senders);
  try {
    await Promise.race([Promise.all(peers.map((peer) => peer.ready)), failed]);
    const verifier = new Verifier(sizesOf(config), config.senders, config.perSender);
    const usage = startUsage();
    await Promise.all(peers.map((peer) => sendControl(peer.child, 'go')));
    await Promise.race([side.receive(verifier, peers.map((peer) => peer.child)), failed]);
    const { cpuUs, seconds } = usageSince(usage);
    const verdict = verifier.finish();
    let cpuNsPerMessage: ThroughputResult['cpuNsPerMessage'];
    if (verdict.verified) {
      const reports = await Promise.race([Promise.all(peers.map((peer) => peer.done)), failed]);
      await Promise.race([Promise.all(peers.map((peer) => peer.exited)), failed]);
      const senderUs = reports.reduce((sum, report) => sum + report.cpuUs, 0);
      cpuNsPerMessage = { sender: nsPerMessage(senderUs, verdict.delivered), receiver: nsPerMessage(cpuUs, verdict.delivered) };
    }
    const messagesPerSecond = verdict.delivered / seconds;
    return {
      transport: config.transport,
      size: config.distribution ?? config.size,
      senders: config.senders,
      ...(MMAPIPC_ROWS.includes(config.transport) ? { groups: 1 } : {}),
      ...verdict,
      seconds,
      messagesPerSecond,
      megabytesPerSecond: verifier.bytes / seconds / BYTES_PER_MB,
      bytes: verifier.bytes,
      gigabytesPerSecond: verifier.bytes / seconds / BYTES_PER_GB,
      ...(SIZE_MMAPIPC_TRANSPORTS.includes(config.transport) ? { ring: ringOf(config) } : {}),
      ...(cpuNsPerMessage ? { cpuNsPerMessage } : {}),
    };
  } finally {
    for (const peer of peers) peer.child.kill();
    side.close();
  }
}

/**
 * A fan-out row: makes the ring with its groups, forks the sender and one member per group,
 * starts them together, and gathers each one's report. The host itself neither sends nor
 * receives; each member checks its own group's messages.
 */
async function hostFanOut(config: ThroughputConfig): Promise<FanOutResult> {
  const groups = config.groups ?? 1;
  const { createFanOutRing } = await import('./transports/mmapipc-batch.js');
  const ring = createFanOutRing(config);
  const members = forkPeers(config, groups, 'member');
  const senders = forkPeers(config, 1);
  const failed = Promise.race([members.failed, senders.failed]);
  const all = [...senders.peers, ...members.peers];
  try {
    await Promise.race([Promise.all(all.map((peer) => peer.ready)), failed]);
    const start = performance.now();
    // Members first: they are waiting (asleep) before the first message is sent.
    for (const peer of [...members.peers, ...senders.peers]) await sendControl(peer.child, 'go');
    const memberReports = await Promise.race([Promise.all(members.peers.map((peer) => peer.done)), failed]);
    const seconds = (performance.now() - start) / 1000;
    const [senderReport] = await Promise.race([Promise.all(senders.peers.map((peer) => peer.done)), failed]);
    await Promise.race([Promise.all(all.map((peer) => peer.exited)), failed]);
    const expected = config.perSender;
    const perGroup = memberReports.map((report, index): GroupFigure => {
      const verdict = report.verdict ?? { delivered: 0, expected, verified: false, error: 'no verdict' };
      return {
        group: fanOutGroup(index),
        ...verdict,
        seconds: report.seconds,
        messagesPerSecond: verdict.delivered / report.seconds,
        cpuNsPerMessage: nsPerMessage(report.cpuUs, verdict.delivered),
      };
    });
    const delivered = Math.min(...perGroup.map((group) => group.delivered));
    const fault = perGroup.find((group) => !group.verified);
    return {
      transport: 'mmapipc-batch',
      size: config.size,
      senders: 1,
      groups,
      membersPerGroup: 1,
      delivered,
      expected,
      verified: fault === undefined,
      ...(fault ? { error: `${fault.group}: ${fault.error}` } : {}),
      seconds,
      messagesPerSecond: delivered / seconds,
      perGroup,
      cpuNsPerMessage: { sender: nsPerMessage(senderReport!.cpuUs, expected), members: perGroup.map((group) => group.cpuNsPerMessage) },
    };
  } finally {
    for (const peer of all) peer.child.kill();
    ring.close();
  }
}

async function hostLatency(config: LatencyConfig): Promise<LatencyResult> {
  const bench = await BENCHES[config.transport]();
  const side = await bench.pinger(config);
  const { peers, failed } = forkPeers(config, 1);
  const peer = peers[0]!;
  try {
    await Promise.race([peer.ready, failed]);
    const log = new PingLog(config);
    await Promise.race([side.run(log, peer.child), failed]);
    if (log.error === undefined) await Promise.race([peer.exited, failed]);
    const sorted = log.samples.subarray(0, log.replies).sort();
    const verified = log.error === undefined && log.replies === config.rounds;
    return {
      transport: config.transport,
      mode: config.mode,
      pauseUs: config.pauseUs,
      placement: config.placement,
      size: config.size,
      delivered: log.replies,
      expected: config.rounds,
      verified,
      ...(verified ? {} : { error: log.error ?? `${log.replies} of ${config.rounds} replies` }),
      p50Us: percentile(sorted, 0.5),
      p99Us: percentile(sorted, 0.99),
      p999Us: percentile(sorted, 0.999),
      maxUs: sorted.length > 0 ? sorted[sorted.length - 1]! : NaN,
    };
  } finally {
    peer.child.kill();
    side.close();
  }
}

function waitForControl(type: 'go'): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (!isControl(message, type)) return;
      process.off('message', onMessage);
      resolve();
    };
    process.on('message', onMessage);
  });
}

/** Sends the host this peer's report; resolves once it has left. */
function report(message: PeerReport): Promise<void> {
  return new Promise((resolve, reject) => process.send!(message, undefined, undefined, (error) => (error ? reject(error) : resolve())));
}

async function peer(config: WorkerConfig, index: number): Promise<void> {
  // A peer whose host has gone has nobody to talk to.
  process.on('disconnect', () => process.exit(1));
  const bench = await BENCHES[config.transport]();
  if (config.kind === 'throughput') {
    const side = await bench.sender(config, index);
    const go = waitForControl('go');
    process.send!({ type: 'ready' });
    await go;
    const usage = startUsage();
    await side.send();
    const spent = usageSince(usage);
    side.close();
    await report({ type: 'done', ...spent });
  } else {
    const side = await bench.ponger(config);
    process.send!({ type: 'ready' });
    await side.run(config.warmup + config.rounds);
    side.close();
  }
}

/** The one member of fan-out group `index`: checks every message the sender sent, in order. */
async function fanOutMember(config: ThroughputConfig, index: number): Promise<void> {
  process.on('disconnect', () => process.exit(1));
  const { member } = await import('./transports/mmapipc-batch.js');
  const side = member(config, index);
  const go = waitForControl('go');
  process.send!({ type: 'ready' });
  await go;
  const verifier = new Verifier(sizesOf(config), 1, config.perSender);
  const usage = startUsage();
  let failure: string | undefined;
  try {
    await side.receive(verifier);
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
  }
  const spent = usageSince(usage);
  side.close();
  const verdict = verifier.finish();
  await report({ type: 'done', ...spent, verdict: failure ? { ...verdict, verified: false, error: failure } : verdict });
}

async function workerMain(argv: string[]): Promise<number> {
  const [role, json, index] = argv;
  const config = JSON.parse(json ?? 'null') as WorkerConfig | null;
  if ((role !== 'host' && role !== 'peer' && role !== 'member') || config === null || !(config.transport in BENCHES)) {
    process.stderr.write('usage: worker.js host|peer|member <config json> [index]\n');
    return 2;
  }
  if (role === 'peer') {
    await peer(config, Number(index));
    return 0;
  }
  if (role === 'member') {
    if (config.kind !== 'throughput') throw new Error('a member belongs to a fan-out run');
    await fanOutMember(config, Number(index));
    return 0;
  }
  const result =
    config.kind === 'latency' ? await hostLatency(config) : config.groups !== undefined ? await hostFanOut(config) : await hostThroughput(config);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return 0;
}

if (process.argv[1] === WORKER_PATH) {
  workerMain(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`bench worker: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
