/**
 * Process identity that survives pid reuse: a pid together with its start time (field 22 of
 * /proc/PID/stat, in clock ticks since boot). A process is proven dead when its pid is gone or
 * now belongs to a process that started at another time.
 */
import { readFileSync } from 'node:fs';
import { processExists } from './libc.js';

/** Start time of `pid` in clock ticks since boot, or undefined when there is no such process. */
export function processStartTicks(pid: number): number | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]); // field 22 overall
  return Number.isFinite(ticks) ? ticks : undefined;
}

export type Liveness = 'alive' | 'dead';

/** Whether the process that recorded (pid, startTicks) still runs. */
export function processLiveness(pid: number, startTicks: number): Liveness {
  if (!Number.isInteger(pid) || pid <= 0) return 'dead';
  const ticks = processStartTicks(pid);
  if (ticks === undefined) return processExists(pid) ? 'alive' : 'dead';
  return startTicks === 0 || ticks === startTicks ? 'alive' : 'dead';
}
