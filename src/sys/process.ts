/**
 * Process identity that survives pid reuse: a pid together with its start time (field 22 of
 * /proc/PID/stat, in clock ticks since boot). A process is proven dead when its pid is gone, is a
 * zombie, or now belongs to a process that started at another time. A stopped process (SIGSTOP,
 * Ctrl-Z, a debugger, a frozen cgroup) is alive: its claims are waited for, never given away.
 *
 * All of this is seen through the viewer's PID namespace: a ring's liveness test is its entry
 * locks (./ofd-lock.ts), and /proc serves only to describe (running or stopped) a process of the
 * viewer's own namespace.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { processExists } from './libc.js';

/**
 * Longer than any /proc/PID/stat line (52 numeric fields and a command name of at most 15
 * bytes: well under 1 KB), so one read returns the whole line: open, read, close, where
 * readFileSync (which cannot trust the size of 0 that /proc reports) takes five system calls.
 */
const STAT_READ_LENGTH = 4096;
const statBuffer = Buffer.alloc(STAT_READ_LENGTH);

function readStatLine(pid: number): string {
  const fd = openSync(`/proc/${pid}/stat`, 'r');
  try {
    return statBuffer.toString('latin1', 0, readSync(fd, statBuffer, 0, STAT_READ_LENGTH, null));
  } finally {
    closeSync(fd);
  }
}

interface ProcStat {
  readonly state: string;
  readonly startTicks: number | undefined;
}

function readProcStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try {
    stat = readStatLine(pid);
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]); // field 22 overall
  return { state: fields[0] ?? '?', startTicks: Number.isFinite(ticks) ? ticks : undefined };
}

/** Start time of `pid` in clock ticks since boot, or undefined when there is no such process. */
export function processStartTicks(pid: number): number | undefined {
  return readProcStat(pid)?.startTicks;
}

export type Liveness = 'alive' | 'dead';
/** What a process recorded as (pid, startTicks) is doing now. */
export type ProcessState = 'running' | 'stopped' | 'dead';

export function processState(pid: number, startTicks: number): ProcessState {
  if (!Number.isInteger(pid) || pid <= 0) return 'dead';
  const stat = readProcStat(pid);
  if (stat === undefined) return processExists(pid) ? 'running' : 'dead';
  if (startTicks !== 0 && stat.startTicks !== undefined && stat.startTicks !== startTicks) return 'dead';
  if (stat.state === 'Z' || stat.state === 'X' || stat.state === 'x') return 'dead';
  return stat.state === 'T' || stat.state === 't' ? 'stopped' : 'running';
}

/** Whether the process that recorded (pid, startTicks) still exists (running or stopped). */
export function processLiveness(pid: number, startTicks: number): Liveness {
  return processState(pid, startTicks) === 'dead' ? 'dead' : 'alive';
}

let ownNamespace: bigint | undefined;

/**
 * This process's PID namespace: the inode of /proc/self/ns/pid (0n when it cannot be read).
 * Pids recorded with another namespace's id mean nothing to /proc here.
 */
export function pidNamespaceId(): bigint {
  if (ownNamespace === undefined) {
    try {
      ownNamespace = statSync('/proc/self/ns/pid', { bigint: true }).ino;
    } catch {
      ownNamespace = 0n;
    }
  }
  return ownNamespace;
}

let procIsOwn: boolean | undefined;

/**
 * True when the /proc mounted here belongs to this process's PID namespace (it shows this
 * process under its own pid). Not so under `unshare --pid --fork` without `--mount-proc`, where
 * /proc/PID names the outer namespace's processes.
 */
export function procShowsOwnNamespace(): boolean {
  if (procIsOwn === undefined) {
    try {
      procIsOwn = Number(readFileSync('/proc/self/stat', 'latin1').split(' ', 1)[0]) === process.pid;
    } catch {
      procIsOwn = false;
    }
  }
  return procIsOwn;
}
