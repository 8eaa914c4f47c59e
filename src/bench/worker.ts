/**
 * A bench worker process. `host`: the receiving side of one measurement (the receiver of a
 * throughput run, the pinger of a ping-pong run); it forks its peers, measures, checks every
 * message, and prints one JSON line with the result. `peer`: a sender or a ponger.
 *
 *   node dist/bench/worker.js host '<config json>'
 *   node dist/bench/worker.js peer '<config json>' <index>    (forked by a host)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Verifier } from './payload.js';
import { PingLog, percentile } from './ping-log.js';
import { isControl, type LatencyConfig, type LatencyResult, type ThroughputConfig, type ThroughputResult, type Transport, type WorkerConfig } from './protocol.js';
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
};
const BYTES_PER_MB = 1e6;

interface Peer {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
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

/** Forks `count` peers; `failed` rejects as soon as one of them fails. */
function forkPeers(config: WorkerConfig, count: number): { peers: Peer[]; failed: Promise<never> } {
  let fail: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  const peers = Array.from({ length: count }, (_, index): Peer => {
    const child = fork(WORKER_PATH, ['peer', JSON.stringify(config), String(index)], {
      ...peerCommand(config),
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const ready = new Promise<void>((resolve) => child.on('message', (message) => isControl(message, 'ready') && resolve()));
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        if (code === 0) resolve();
        else fail(new Error(`${config.transport} peer ${index} ended with ${signal ?? `exit code ${code}`}`));
      });
    });
    child.once('error', fail);
    return { child, ready, exited };
  });
  return { peers, failed };
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
    const verifier = new Verifier(config.size, config.senders, config.perSender);
    const start = performance.now();
    await Promise.all(peers.map((peer) => sendControl(peer.child, 'go')));
    await Promise.race([side.receive(verifier, peers.map((peer) => peer.child)), failed]);
    const seconds = (performance.now() - start) / 1000;
    const verdict = verifier.finish();
    if (verdict.verified) await Promise.race([Promise.all(peers.map((peer) => peer.exited)), failed]);
    const messagesPerSecond = verdict.delivered / seconds;
    return {
      transport: config.transport,
      size: config.size,
      senders: config.senders,
      ...verdict,
      seconds,
      messagesPerSecond,
      megabytesPerSecond: (messagesPerSecond * config.size) / BYTES_PER_MB,
    };
  } finally {
    for (const peer of peers) peer.child.kill();
    side.close();
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

async function peer(config: WorkerConfig, index: number): Promise<void> {
  // A peer whose host has gone has nobody to talk to.
  process.on('disconnect', () => process.exit(1));
  const bench = await BENCHES[config.transport]();
  if (config.kind === 'throughput') {
    const side = await bench.sender(config, index);
    const go = waitForControl('go');
    process.send!({ type: 'ready' });
    await go;
    await side.send();
    side.close();
  } else {
    const side = await bench.ponger(config);
    process.send!({ type: 'ready' });
    await side.run(config.warmup + config.rounds);
    side.close();
  }
}

async function workerMain(argv: string[]): Promise<number> {
  const [role, json, index] = argv;
  const config = JSON.parse(json ?? 'null') as WorkerConfig | null;
  if ((role !== 'host' && role !== 'peer') || config === null || !(config.transport in BENCHES)) {
    process.stderr.write('usage: worker.js host|peer <config json> [index]\n');
    return 2;
  }
  if (role === 'peer') {
    await peer(config, Number(index));
    return 0;
  }
  const result = config.kind === 'throughput' ? await hostThroughput(config) : await hostLatency(config);
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
