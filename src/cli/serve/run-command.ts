/**
 * `serve -- COMMAND`: one run of COMMAND per request, the request on its stdin, its stdout the
 * reply. A non-zero exit is an error reply (the last line it wrote to stderr, or "exit N"); a run
 * still going at the request's deadline is killed (its whole process group) and answers nothing.
 */
import { spawn } from 'node:child_process';

export type RunResult =
  | { readonly kind: 'ok'; readonly stdout: Buffer }
  | { readonly kind: 'failed'; readonly text: string }
  | { readonly kind: 'expired' };

/** stderr kept per run: enough for its last line. */
const STDERR_TAIL_BYTES = 64 * 1024;

export function runCommand(argv: readonly string[], input: Buffer, remainingMs: number, signal: AbortSignal): Promise<RunResult> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    // Its own process group, so that a deadline or a stop kills whatever it started too.
    const child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    let err = Buffer.alloc(0);
    let expired = false;
    let spawnError: Error | undefined;
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
    };
    const timer = Number.isFinite(remainingMs)
      ? setTimeout(() => {
          expired = true;
          kill();
        }, Math.max(0, remainingMs))
      : undefined;
    signal.addEventListener('abort', kill, { once: true });
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      err = Buffer.concat([err, chunk]);
      if (err.length > STDERR_TAIL_BYTES) err = err.subarray(err.length - STDERR_TAIL_BYTES);
    });
    child.stdin.on('error', () => {}); // a command that does not read its stdin
    child.stdin.end(input);
    child.once('error', (error) => (spawnError = error));
    child.once('close', (code, killedBy) => {
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', kill);
      if (expired) return resolve({ kind: 'expired' });
      if (spawnError) return resolve({ kind: 'failed', text: `cannot run ${file}: ${spawnError.message}` });
      if (code === 0) return resolve({ kind: 'ok', stdout: Buffer.concat(out) });
      resolve({ kind: 'failed', text: lastLine(err) ?? (killedBy ? `killed by ${killedBy}` : `exit ${code}`) });
    });
  });
}

/** The last non-empty line of `bytes`, or undefined. */
function lastLine(bytes: Buffer): string | undefined {
  const lines = bytes.toString('utf8').split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line.trim() !== '');
  return lines.at(-1);
}
