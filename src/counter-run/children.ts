/**
 * The parent's view of its children: starting them with the shared memory at fd 3, noticing
 * the first one that dies (and whether it held the semaphore), and stopping the rest. A child
 * learns of its parent's death from its stdin pipe, whose write end only the parent holds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { PeerDiedError } from '../errors.js';

/** The fd at which a child finds the shared memory (spawn's stdio index). */
export const CHILD_MEMORY_FD = 3;
/** How long stopped children get to exit after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 1000;

interface Child {
  readonly index: number;
  readonly process: ChildProcess;
  exited: boolean;
}

export interface SpawnSettings {
  readonly binPath: string;
  readonly env: NodeJS.ProcessEnv;
  /** Extra arguments after `counter --child <index>`. */
  readonly args?: readonly string[];
  readonly memoryFd: number;
  /** Pid recorded as holding the semaphore, read when a child dies. */
  readonly holder: () => number;
}

export class Children {
  readonly #settings: SpawnSettings;
  readonly #list: Child[] = [];
  /** The first abnormal exit; once set, the run is over. */
  #failure: PeerDiedError | undefined;
  /** Set while we stop the children ourselves: their exits are expected then. */
  #stopping = false;
  #notify: (() => void) | undefined;

  constructor(settings: SpawnSettings) {
    this.#settings = settings;
  }

  start(index: number): ChildProcess {
    const { binPath, env, args = [], memoryFd } = this.#settings;
    const child = spawn(process.execPath, [binPath, 'counter', '--child', String(index), ...args], {
      env,
      stdio: ['pipe', 'inherit', 'inherit', memoryFd],
    });
    const entry: Child = { index, process: child, exited: false };
    this.#list.push(entry);
    child.stdin?.on('error', () => {}); // the child may be gone: nothing is ever written anyway
    child.once('error', (error) => {
      entry.exited = true;
      this.#fail(new PeerDiedError(`child ${index} could not be started: ${error.message}`, { subject: 'counter', cause: error }));
    });
    child.once('exit', (code, signal) => {
      entry.exited = true;
      if (!this.#stopping && (code !== 0 || signal !== null)) {
        const pid = child.pid ?? 0;
        const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
        const holding = pid !== 0 && this.#settings.holder() === pid ? ' while holding the semaphore' : '';
        this.#fail(new PeerDiedError(`child ${pid} ${how}${holding}`, { subject: 'counter' }));
      }
      this.#notify?.();
    });
    return child;
  }

  get pids(): number[] {
    return this.#list.map((child) => child.process.pid ?? 0);
  }

  /** Throws the first child death, if any. */
  check(): void {
    if (this.#failure) throw this.#failure;
  }

  /** Resolves when every child has exited, a child died, or the signal aborted. */
  async waitAll(signal: AbortSignal): Promise<void> {
    while (!this.#failure && !signal.aborted && this.#list.some((child) => !child.exited)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          this.#notify = undefined;
          resolve();
        };
        this.#notify = done;
        signal.addEventListener('abort', done);
      });
    }
    this.check();
  }

  /** SIGTERM to every running child, SIGKILL to any still running after the grace period. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const running = this.#list.filter((child) => !child.exited);
    const exits = running.map((child) => new Promise<void>((resolve) => (child.exited ? resolve() : child.process.once('exit', () => resolve()))));
    for (const child of running) child.process.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_GRACE_MS)));
    if ((await Promise.race([Promise.all(exits), grace])) === 'late') {
      for (const child of running) if (!child.exited) child.process.kill('SIGKILL');
      await Promise.all(exits);
    }
    clearTimeout(timer);
    for (const child of this.#list) child.process.stdin?.destroy();
  }

  #fail(error: PeerDiedError): void {
    this.#failure ??= error;
    this.#notify?.();
  }
}
