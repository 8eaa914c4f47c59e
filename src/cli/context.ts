/** What every command gets from the entry point: output streams, the interrupt signal, env. */
import type { Output } from './output.js';

export interface CliContext {
  readonly output: Output;
  /** Aborts on SIGINT/SIGTERM/SIGHUP. */
  readonly signal: AbortSignal;
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: NodeJS.ReadStream;
  /** Absolute path of bin/mmapipc.js, for commands that start copies of the CLI. */
  readonly binPath: string;
}
