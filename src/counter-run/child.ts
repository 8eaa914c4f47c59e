/**
 * The child side of the counter run: map the parent's memfd (fd 3), read the configuration the
 * parent wrote there, register, wait for the start signal, do the child's steps. The child stops
 * as soon as its parent is gone: its stdin pipe (held open by the parent alone) reaches EOF, or
 * its parent pid changes.
 */
import { MmapipcError, PeerDiedError, UsageError } from '../errors.js';
import { SharedCounter } from '../counter/counter.js';
import { GO_OFFSET, SEM_LENGTH, SEM_OFFSET, READY_COUNT_OFFSET, WORD } from '../counter/counter-layout.js';
import { futexWaitAsync, futexWake, getpid } from '../sys/libc.js';
import { mapInheritedMemory, releaseSharedMemory } from '../sys/memfd.js';
import { CHILD_MEMORY_FD } from './children.js';
import type { CounterReporter } from './reporter.js';
import { runSteps, WAIT_SLICE_MS } from './worker.js';

export interface ChildSettings {
  readonly signal: AbortSignal;
  readonly stdin: NodeJS.ReadStream;
  /** Used unless the parent asked for quiet children. */
  readonly reporter: CounterReporter;
  readonly holdMs?: number;
}

const SUBJECT = 'counter child';

/** Watches the parent: true once it is gone. */
function watchParent(stdin: NodeJS.ReadStream): { gone: () => boolean; dispose: () => void } {
  const parentPid = process.ppid;
  let closed = false;
  const onEnd = () => (closed = true);
  stdin.on('end', onEnd).on('close', onEnd).on('error', onEnd).on('data', () => {});
  stdin.resume();
  return {
    gone: () => closed || process.ppid !== parentPid,
    dispose: () => {
      stdin.off('end', onEnd).off('close', onEnd);
      stdin.destroy();
    },
  };
}

export async function runChild(index: number, settings: ChildSettings): Promise<void> {
  const memory = mapInheritedMemory(CHILD_MEMORY_FD, SUBJECT);
  const parent = watchParent(settings.stdin);
  try {
    const region = memory.mapping.buffer;
    const counter = SharedCounter.attach(region);
    if (typeof counter === 'string') throw new MmapipcError(counter, { subject: SUBJECT });
    const { config } = counter;
    if (!Number.isInteger(index) || index < 1 || index > config.children) {
      throw new UsageError(`--child must be from 1 to ${config.children}, got ${index}`, { subject: SUBJECT });
    }
    const { signal } = settings;
    const reporter = config.quiet ? undefined : settings.reporter;
    const pid = getpid();
    const check = () => {
      if (parent.gone()) throw new PeerDiedError(`the parent of child ${pid} is gone; stopping`, { subject: SUBJECT });
    };
    counter.register(index, pid);
    reporter?.started('child', pid);
    futexWake(region.subarray(READY_COUNT_OFFSET, READY_COUNT_OFFSET + WORD));
    const go = region.subarray(GO_OFFSET, GO_OFFSET + WORD);
    while (!counter.started) {
      check();
      if (signal.aborted) return;
      await futexWaitAsync(go, 0, WAIT_SLICE_MS);
    }
    const sem = region.subarray(SEM_OFFSET, SEM_OFFSET + SEM_LENGTH);
    const plan = {
      index,
      pid,
      iterations: config.childIterations,
      step: config.childStep,
      delayMs: config.childDelayMs,
      windowMs: config.windowMs,
      noLock: config.noLock,
    };
    await runSteps(counter, sem, plan, {
      signal,
      check,
      onStep: reporter ? (before, after) => reporter.step('child', before, after) : undefined,
      holdMs: settings.holdMs,
      onHold: () => settings.reporter.holding('child', pid, settings.holdMs ?? 0),
    });
    if (signal.aborted) return;
    counter.markDone(index);
    reporter?.done('child', pid);
  } finally {
    parent.dispose();
    releaseSharedMemory(memory);
  }
}
