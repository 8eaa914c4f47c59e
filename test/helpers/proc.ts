/**
 * What /proc tells about a running process, for tests that must know what state it is in before
 * acting (a ring mapped, a directory watched) without sleeping a fixed time.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Re-checks `condition` every few ms until it holds; throws after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/** True when the process has `path` mapped (it opened the ring and is using it). */
export function hasMapped(pid: number, path: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').some((line) => line.endsWith(` ${path}`));
  } catch {
    return false;
  }
}

/** True when the process holds an inotify descriptor (it watches a directory for a file to appear). */
export function hasInotify(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:inotify';
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
