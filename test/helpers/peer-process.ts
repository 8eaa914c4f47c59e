/**
 * A fixture process whose stdout lines can be counted and awaited, and that can be killed:
 * for the crash tests, which wait for "the n-th progress line" rather than for one pattern.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cliEnv } from './cli.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class PeerProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<Exit>;
  exit: Exit | undefined;
  #buffer = '';
  readonly #listeners = new Set<() => void>();

  constructor(script: string, args: string[], env: NodeJS.ProcessEnv = {}, stdin: 'ignore' | 'pipe' = 'ignore') {
    this.child = spawn(process.execPath, [script, ...args], { env: cliEnv(env), stdio: [stdin, 'pipe', 'pipe'] });
    this.child.stdin?.on('error', () => {});
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString('utf8');
      const parts = this.#buffer.split('\n');
      this.#buffer = parts.pop()!;
      if (parts.length === 0) return;
      this.lines.push(...parts);
      for (const listener of [...this.#listeners]) listener();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        for (const listener of [...this.#listeners]) listener();
        resolve(this.exit);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** How many lines so far satisfy `test`. */
  count(test: (line: string) => boolean): number {
    return this.lines.reduce((n, line) => (test(line) ? n + 1 : n), 0);
  }

  /**
   * Resolves once `condition` holds (it is checked after every chunk of output); rejects if the
   * process exits first, or after `deadlineMs` (a bound for reporting a wedge, not a means of
   * synchronisation).
   */
  waitUntil(condition: () => boolean, deadlineMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (condition()) finish();
        else if (this.exit) finish(new Error(`${what}: the process exited (${this.exit.code ?? this.exit.signal}) first; stderr: ${this.stderr}`));
      };
      const timer = setTimeout(() => finish(new Error(`${what}: nothing after ${deadlineMs} ms; last lines: ${this.lines.slice(-3).join(' | ')}`)), deadlineMs);
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        if (error) reject(error);
        else resolve();
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Resolves once `n` lines satisfy `test` (see waitUntil). */
  waitForCount(test: (line: string) => boolean, n: number, deadlineMs: number, what: string): Promise<void> {
    return this.waitUntil(() => this.count(test) >= n, deadlineMs, what);
  }

  waitForLine(pattern: RegExp, deadlineMs: number, what: string): Promise<void> {
    return this.waitForCount((line) => pattern.test(line), 1, deadlineMs, what);
  }

  /** Writes a line to its stdin (started with stdin 'pipe'). */
  tell(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
