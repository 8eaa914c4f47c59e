/** Process states from /proc, for tests that stop processes at fault-injection points. */
import { readFileSync } from 'node:fs';
import { until } from './proc.js';

/** The state letter of a process (R, S, T, Z, ...), or undefined when it is gone. */
export function processStateLetter(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Resolves once the process has stopped itself (SIGSTOP at a fault-injection step). */
export function waitStopped(pid: number, what: string): Promise<void> {
  return until(() => {
    const state = processStateLetter(pid);
    if (state === undefined || state === 'Z') throw new Error(`${what} (pid ${pid}) exited instead of stopping`);
    return state === 'T';
  }, `${what} (pid ${pid}) stopped`);
}
