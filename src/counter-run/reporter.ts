/** What the runners tell the person watching; the CLI supplies the words (or nothing, for --json). */
export type CounterRole = 'parent' | 'child';

export interface CounterReporter {
  started(role: CounterRole, pid: number): void;
  step(role: CounterRole, before: number, after: number): void;
  done(role: CounterRole, pid: number): void;
  /** Test hook only: the child holds the semaphore for `ms` from now. */
  holding(role: CounterRole, pid: number, ms: number): void;
}

/** Environment variable of the hidden test hook: a child holds the semaphore this many ms on its first step. */
export const TEST_HOLD_ENV = 'MMAPIPC_TEST_HOLD_MS';

export function testHoldMs(env: NodeJS.ProcessEnv): number | undefined {
  const ms = Number(env[TEST_HOLD_ENV]);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}
