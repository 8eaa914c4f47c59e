/**
 * Pinning ping-pong processes to CPUs with util-linux taskset. On a virtual machine the pause
 * between rounds tends to put both processes on one vCPU (a process that wakes up is placed near
 * the one that woke it, and an idle vCPU costs a hypervisor exit to wake), so the unpinned figures
 * mix two different costs; pinned rows show each.
 */
import { spawnSync } from 'node:child_process';

export const TASKSET = 'taskset';

/** Expands a CPU list as taskset prints it ("0-2,5") into numbers. */
export function parseCpuList(list: string): number[] {
  return list
    .split(',')
    .filter(Boolean)
    .flatMap((part) => {
      const [from, to] = part.split('-').map(Number);
      if (from === undefined || !Number.isInteger(from)) return [];
      return to === undefined ? [from] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
    });
}

/** Two CPUs this process may run on, or undefined when taskset is missing or only one CPU is allowed. */
export function twoCpus(): readonly [number, number] | undefined {
  const run = spawnSync(TASKSET, ['-cp', String(process.pid)], { encoding: 'utf8' });
  if (run.status !== 0) return undefined;
  const cpus = parseCpuList(/:\s*([\d,-]+)\s*$/.exec(run.stdout.trim())?.[1] ?? '');
  return cpus.length >= 2 ? [cpus[0]!, cpus[1]!] : undefined;
}
