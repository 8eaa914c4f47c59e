/**
 * The parent side of the counter run, the fork-equivalent of anonymous_mmap.c: create a memfd,
 * map it, write the configuration and initialise a process-shared semaphore in it, start the
 * children as new processes of this CLI with the memfd at fd 3, let everyone start at once,
 * do the parent's own steps, wait for the children, and read the result from the region.
 */
import { PeerDiedError, TimeoutError } from '../errors.js';
import { expectedTotal, SharedCounter, type LogEntry } from '../counter/counter.js';
import { GO_OFFSET, READY_COUNT_OFFSET, SEM_LENGTH, SEM_OFFSET, STATE_DONE, WORD, logCapacityFor, regionLength } from '../counter/counter-layout.js';
import { futexWaitAsync, futexWake, getpid, semDestroy, semInit } from '../sys/libc.js';
import { createSharedMemory, releaseSharedMemory } from '../sys/memfd.js';
import { Children } from './children.js';
import type { CounterReporter, CounterRole } from './reporter.js';
import { runSteps, WAIT_SLICE_MS } from './worker.js';

/** How long the children get to start (Node's start-up plus loading ffi-rs) before the run gives up. */
export const START_TIMEOUT_MS = 15_000;

export interface StepPlan {
  readonly iterations: number;
  readonly step: number;
  readonly delayMs: number;
}

export interface CounterPlan {
  readonly children: number;
  readonly parent: StepPlan;
  readonly child: StepPlan;
  readonly noLock: boolean;
  readonly windowMs: number;
}

export interface ParentSettings {
  readonly binPath: string;
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
  /** Undefined: print nothing while running (--json); children are told through the region. */
  readonly reporter?: CounterReporter;
  /** Extra arguments for each child's command line (--lang). */
  readonly childArgs?: readonly string[];
}

export interface ProcessResult {
  readonly index: number;
  readonly role: CounterRole;
  readonly pid: number;
  readonly iterations: number;
  readonly step: number;
  /** Steps it completed. */
  readonly steps: number;
}

export interface CounterResult {
  readonly final: number;
  readonly expected: number;
  readonly noLock: boolean;
  readonly processes: ProcessResult[];
  readonly log: LogEntry[];
  readonly logCapacity: number;
  /** Steps taken but not logged (the log is bounded at MAX_LOG_CAPACITY entries). */
  readonly logDropped: number;
}

/** Runs the whole counter; undefined when interrupted by the signal. */
export async function runCounter(plan: CounterPlan, settings: ParentSettings): Promise<CounterResult | undefined> {
  const totalSteps = plan.parent.iterations + plan.children * plan.child.iterations;
  const logCapacity = logCapacityFor(totalSteps);
  const memory = createSharedMemory('mmapipc-counter', regionLength(logCapacity));
  const region = memory.mapping.buffer;
  const sem = region.subarray(SEM_OFFSET, SEM_OFFSET + SEM_LENGTH);
  const counter = SharedCounter.initialise(region, {
    children: plan.children,
    childIterations: plan.child.iterations,
    childStep: plan.child.step,
    childDelayMs: plan.child.delayMs,
    logCapacity,
    noLock: plan.noLock,
    windowMs: plan.windowMs,
    quiet: settings.reporter === undefined,
  });
  semInit(sem, 1);
  const pid = getpid();
  const children = new Children({ binPath: settings.binPath, env: settings.env, args: settings.childArgs, memoryFd: memory.fd, holder: () => counter.holder });
  const { signal, reporter } = settings;
  try {
    counter.register(0, pid);
    reporter?.started('parent', pid);
    for (let index = 1; index <= plan.children; index++) children.start(index);
    if (!(await waitForChildren(counter, children, plan.children, signal))) return undefined;
    counter.start();
    futexWake(region.subarray(GO_OFFSET, GO_OFFSET + WORD));

    await runSteps(counter, sem, { index: 0, pid, ...plan.parent, noLock: plan.noLock, windowMs: plan.windowMs }, {
      signal,
      check: () => children.check(),
      onStep: reporter ? (before, after) => reporter.step('parent', before, after) : undefined,
    });
    if (signal.aborted) return undefined;
    counter.markDone(0);
    reporter?.done('parent', pid);
    await children.waitAll(signal);
    if (signal.aborted) return undefined;
    return collect(counter, plan, totalSteps);
  } finally {
    await children.stop();
    semDestroy(sem);
    releaseSharedMemory(memory);
  }
}

/** The start barrier: every child has mapped the region and registered. False when aborted. */
async function waitForChildren(counter: SharedCounter, children: Children, count: number, signal: AbortSignal): Promise<boolean> {
  const word = counter.memory.subarray(READY_COUNT_OFFSET, READY_COUNT_OFFSET + WORD);
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (let ready = counter.readyCount; ready < count; ready = counter.readyCount) {
    children.check();
    if (signal.aborted) return false;
    if (Date.now() > deadline) {
      throw new TimeoutError(`only ${ready} of ${count} children started within ${START_TIMEOUT_MS} ms`, { subject: 'counter' });
    }
    await futexWaitAsync(word, ready, WAIT_SLICE_MS);
  }
  return true;
}

function collect(counter: SharedCounter, plan: CounterPlan, totalSteps: number): CounterResult {
  const processes: ProcessResult[] = [];
  for (let index = 0; index <= plan.children; index++) {
    const record = counter.process(index);
    const role: CounterRole = index === 0 ? 'parent' : 'child';
    const { iterations, step } = index === 0 ? plan.parent : plan.child;
    if (record.state !== STATE_DONE || record.steps !== iterations) {
      throw new PeerDiedError(`${role} ${record.pid} ended after ${record.steps} of ${iterations} steps`, { subject: 'counter' });
    }
    processes.push({ index, role, pid: record.pid, iterations, step, steps: record.steps });
  }
  const log = counter.log();
  return {
    final: counter.value,
    expected: expectedTotal(plan.parent, plan.children, plan.child),
    noLock: plan.noLock,
    processes,
    log,
    logCapacity: counter.config.logCapacity,
    logDropped: totalSteps - log.length,
  };
}
