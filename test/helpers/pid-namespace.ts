/**
 * A PID namespace of its own, for tests of rings shared with "a container": a holder process
 * (`unshare --pid --fork --mount-proc`, whose PID 1 is a plain `sleep`), and mmapipc processes
 * started inside it with `nsenter --pid --mount`. They see their own /proc and pids (2, 3, ...);
 * the ring file is shared through the ordinary file system, as /dev/shm or a bind mount would
 * share it. Processes inside are never PID 1 there (PID 1 ignores the SIGSTOP it sends itself).
 * Missing tools or privileges: a one-line skip, or a failing test under CI=true.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { BIN, LiveCli, collect, cliEnv, type CliResult } from './cli.js';
import { until } from './proc.js';
import { findBinary } from './servers.js';
import { describeWhen } from './tools.js';

/** Why no PID namespace can be made here, or undefined when one can. */
export function namespaceUnavailable(): string | undefined {
  for (const tool of ['unshare', 'nsenter']) if (findBinary(tool) === undefined) return `${tool} is not installed (util-linux)`;
  const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) return `unshare --pid --fork --mount-proc fails here (${(probe.stderr || String(probe.error)).trim()}); it needs root or CAP_SYS_ADMIN`;
  return undefined;
}

/** `describe` when a PID namespace can be made; else a one-line skip, or in CI a failing test naming why. */
export function describeWithNamespaces(name: string, body: () => void): void {
  describeWhen(name, 'a PID namespace can be made', namespaceUnavailable(), body);
}

/** The pid of the parent of `pid` (field 4 of /proc/PID/stat), or undefined. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The (outer) pids of the children of `pid`. */
export function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^[0-9]+$/.test(name))
    .map(Number)
    .filter((candidate) => parentOf(candidate) === pid);
}

async function onlyChild(pid: number, what: string): Promise<number> {
  let child: number | undefined;
  await until(() => {
    child = childrenOf(pid)[0];
    return child !== undefined;
  }, `${what} has started`);
  return child!;
}

/**
 * An mmapipc process inside the namespace: output as LiveCli gives it, and its pid seen from
 * outside. nsenter, its parent, stops itself when it sees its child stop and sends the child
 * SIGCONT when it is itself continued: signal() therefore continues nsenter after every signal,
 * so that it never sits stopped in front of an exit.
 */
export class InsideProcess {
  readonly cli: LiveCli;
  /** Its pid in the test's (outer) namespace: for /proc from here. */
  readonly outerPid: number;

  constructor(cli: LiveCli, outerPid: number) {
    this.cli = cli;
    this.outerPid = outerPid;
  }

  signal(signal: NodeJS.Signals): void {
    process.kill(this.outerPid, signal);
    this.cli.child.kill('SIGCONT');
  }
}

export class PidNamespace {
  readonly #holder: ChildProcess;
  readonly #exited: Promise<unknown>;
  /** Outer pid of the namespace's PID 1. */
  #init = 0;

  private constructor() {
    this.#holder = spawn('unshare', ['--pid', '--fork', '--mount-proc', 'sleep', 'infinity'], { stdio: 'ignore' });
    this.#exited = new Promise((resolve) => this.#holder.once('close', resolve));
  }

  static async start(): Promise<PidNamespace> {
    const namespace = new PidNamespace();
    namespace.#init = await onlyChild(namespace.#holder.pid!, 'the namespace holder');
    return namespace;
  }

  #enter(): string[] {
    return ['nsenter', '-t', String(this.#init), '--pid', '--mount', '--'];
  }

  /** Runs the CLI inside to the end. */
  run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    const [command, ...rest] = this.#enter();
    return collect(spawn(command!, [...rest, process.execPath, BIN, ...args], { env: cliEnv(env), stdio: 'pipe' }));
  }

  /** Starts the CLI inside; resolves once its process exists (nsenter forks it). */
  async start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<InsideProcess> {
    const cli = new LiveCli(args, { env, wrap: this.#enter() });
    return new InsideProcess(cli, await onlyChild(cli.child.pid!, `nsenter for ${args[0]}`));
  }

  /** Kills everything inside (SIGKILL to its PID 1 ends the namespace) and waits for the holder. */
  async stop(): Promise<void> {
    if (this.#init > 0) process.kill(this.#init, 'SIGKILL');
    await this.#exited;
  }
}
