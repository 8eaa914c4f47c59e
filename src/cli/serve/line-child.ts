/**
 * `serve --lines -- COMMAND` (or --null): one long-running COMMAND answers every request: each
 * request is written to its stdin followed by a newline (NUL), and the next line (NUL-terminated
 * record) it writes is the reply. Replies come back in the order the requests went in, so several
 * may be on their way at once. The child exiting ends the server (exit 6).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { PeerDiedError } from '../../errors.js';

export class LineChild {
  readonly #child: ChildProcessByStdio<Writable, Readable, null>;
  readonly #separator: number;
  readonly #waiting: Array<{ resolve: (reply: Buffer) => void; reject: (error: Error) => void }> = [];
  #buffer: Buffer = Buffer.alloc(0);
  #ended: Error | undefined;
  /** Rejects when the child exits while the server still runs. */
  readonly exited: Promise<never>;

  constructor(argv: readonly string[], separator: 'line' | 'null', subject: string) {
    this.#separator = separator === 'line' ? 0x0a : 0x00;
    const [file, ...args] = argv;
    this.#child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#child.stdin.on('error', () => {});
    this.#child.stdout.on('data', (chunk: Buffer) => this.#read(chunk));
    this.exited = new Promise<never>((_, reject) => {
      const end = (why: string) => {
        this.#ended ??= new PeerDiedError(`the command ${why}; the server stops`, { subject });
        for (const waiter of this.#waiting.splice(0)) waiter.reject(this.#ended);
        reject(this.#ended);
      };
      this.#child.once('error', (error) => end(`could not be started (${error.message})`));
      this.#child.once('close', (code, signal) => end(signal ? `was killed by ${signal}` : `exited (exit ${code})`));
    });
    this.exited.catch(() => {});
  }

  /** The byte that ends a request and a reply. */
  get separator(): number {
    return this.#separator;
  }

  /** Sends one request; resolves to its reply (without the separator). */
  ask(request: Buffer): Promise<Buffer> {
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#child.stdin.write(Buffer.concat([request, Buffer.of(this.#separator)]));
    });
  }

  #read(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    let end: number;
    while ((end = this.#buffer.indexOf(this.#separator)) !== -1) {
      const reply = this.#buffer.subarray(0, end);
      this.#buffer = this.#buffer.subarray(end + 1);
      this.#waiting.shift()?.resolve(Buffer.from(reply)); // a line nobody asked for is dropped
    }
  }

  /** Closes its stdin and, if it does not exit, kills it. */
  stop(): void {
    this.#ended ??= new PeerDiedError('the server stopped');
    this.#child.stdin.end();
    if (this.#child.exitCode === null) this.#child.kill('SIGTERM');
  }
}
