/**
 * Running the real binary in tests: whole runs (runCli) and live processes whose output can be
 * awaited line by line (startCli). Tests synchronise on these events, never on sleeps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/mmapipc.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export interface CliRunOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** A clean environment: no colour unless a test asks, no inherited ring path. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.FORCE_COLOR;
  delete env.NO_COLOR;
  if (!('MMAPIPC_FILE' in extra)) delete env.MMAPIPC_FILE;
  return { ...env, ...extra };
}

export function runCli(args: string[], options: CliRunOptions = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(options.env), cwd: options.cwd, stdio: 'pipe' });
  return collect(child, options.input);
}

export function collect(child: ChildProcess, input?: string | Buffer): Promise<CliResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
  child.stdin?.on('error', () => {});
  if (input !== undefined) child.stdin?.end(input);
  else child.stdin?.end();
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
  });
}

/** A running CLI process whose stdout lines can be awaited. */
export class LiveCli {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  readonly #waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];
  readonly #errorWaiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #buffer = '';

  /**
   * `script`: another node program to run instead of bin/mmapipc.js (a test fixture). `wrap` (or
   * `through`): a command that runs node for us (nsenter ..., runuser ..., a shell that pipes its
   * stdout), prepended to the command line.
   */
  constructor(args: string[], options: CliRunOptions & { stdin?: 'pipe' | 'ignore'; script?: string; wrap?: string[]; through?: string[] } = {}) {
    const command = [...(options.wrap ?? options.through ?? []), process.execPath, options.script ?? BIN, ...args];
    this.child = spawn(command[0]!, command.slice(1), {
      env: cliEnv(options.env),
      cwd: options.cwd,
      stdio: [options.stdin ?? 'pipe', 'pipe', 'pipe'],
    });
    this.child.stdin?.on('error', () => {});
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = this.#buffer.indexOf('\n')) !== -1) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        this.lines.push(line);
        for (let i = this.#waiters.length - 1; i >= 0; i--) {
          if (this.#waiters[i]!.test(line)) this.#waiters.splice(i, 1)[0]!.resolve(line);
        }
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      const complete = this.stderr.lastIndexOf('\n') + 1; // where the unfinished line starts
      this.stderr += chunk.toString('utf8');
      for (const line of this.stderr.slice(complete).split('\n').slice(0, -1)) {
        for (let i = this.#errorWaiters.length - 1; i >= 0; i--) {
          if (this.#errorWaiters[i]!.test(line)) this.#errorWaiters.splice(i, 1)[0]!.resolve(line);
        }
      }
    });
    this.exited = new Promise((resolve) => this.child.once('close', (code, signal) => resolve({ code, signal })));
  }

  /** The whole stdout so far (complete lines only). */
  get stdout(): string {
    return this.lines.map((line) => `${line}\n`).join('');
  }

  /** Resolves with the first stderr line (already printed or yet to come) that matches. */
  waitForErrorLine(pattern: RegExp | string): Promise<string> {
    const test = (line: string) => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line));
    const seen = this.stderr.split('\n').slice(0, -1).find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#errorWaiters.push({ test, resolve }));
  }

  /** Resolves with the first line (already printed or yet to come) that matches. */
  waitForLine(pattern: RegExp | string): Promise<string> {
    const test = (line: string) => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line));
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }
}
