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
  /**
   * A service-like command (the bridge) whose normal stop is SIGTERM calls this once it has
   * drained its in-flight work: the CLI then exits 0 for SIGTERM instead of 143.
   */
  readonly stoppedCleanly?: () => void;
}
