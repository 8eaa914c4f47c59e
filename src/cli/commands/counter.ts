/**
 * `mmapipc counter` (alias `fork-counter`): the tutorial's anonymous_mmap.c. A parent and its
 * children add to one counter in anonymous shared memory under a process-shared semaphore,
 * then the parent prints the final value and the log of every step. `--child` (hidden) is the
 * mode in which the parent starts each child.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import { MAX_CHILDREN, MAX_COUNTER_VALUE } from '../../counter/counter-layout.js';
import { expectedTotal } from '../../counter/counter.js';
import { runChild } from '../../counter-run/child.js';
import { runCounter, type CounterPlan, type CounterResult } from '../../counter-run/parent.js';
import { testHoldMs, type CounterReporter } from '../../counter-run/reporter.js';
import type { CliContext } from '../context.js';
import { durationOption, parseCount } from '../options.js';
import { write, type Output } from '../output.js';
import { addLangOption } from '../lang-option.js';
import { textsFor, type CounterTexts, type Lang } from '../texts.js';

export interface CounterOptions {
  children: number;
  parentIterations: number;
  parentStep: number;
  parentDelay: number;
  childIterations: number;
  childStep: number;
  childDelay: number;
  window: number;
  lock: boolean;
  json?: boolean;
  child?: number;
  lang?: Lang;
}

/** The tutorial's run: the child adds 1 ten times 50 ms apart, the parent 2 fifteen times 70 ms apart. */
export const COUNTER_DEFAULTS = {
  children: 1,
  parentIterations: 15,
  parentStep: 2,
  parentDelay: 70,
  childIterations: 10,
  childStep: 1,
  childDelay: 50,
  window: 20,
} as const;

function reporter(output: Output, texts: CounterTexts): CounterReporter {
  const line = (text: string) => write(output.out, `${text}\n`);
  return {
    started: (role, pid) => line(texts.started(role, pid)),
    step: (role, before, after) => line(texts.step(role, before, after)),
    done: (role, pid) => line(texts.done(role, pid)),
    holding: (role, pid, ms) => line(texts.holding(role, pid, ms)),
  };
}

const count = (flag: string) => new Option(flag).argParser(parseCount);

export function registerCounter(program: Command, context: CliContext): void {
  const d = COUNTER_DEFAULTS;
  const command = program
    .command('counter')
    .alias('fork-counter')
    .description("the tutorial's parent and children adding to one counter in anonymous shared memory under a semaphore")
    .addOption(new Option('-c, --children <n>', `child processes (up to ${MAX_CHILDREN})`).argParser(parseCount).default(d.children))
    .addOption(new Option('--parent-iterations <n>', 'steps the parent takes').argParser(parseCount).default(d.parentIterations))
    .addOption(new Option('--parent-step <n>', 'what the parent adds per step').argParser(parseCount).default(d.parentStep))
    .addOption(durationOption('--parent-delay <duration>', 'pause after each parent step, in seconds or with a unit').default(d.parentDelay, '70ms'))
    .addOption(new Option('--child-iterations <n>', 'steps each child takes').argParser(parseCount).default(d.childIterations))
    .addOption(new Option('--child-step <n>', 'what a child adds per step').argParser(parseCount).default(d.childStep))
    .addOption(durationOption('--child-delay <duration>', 'pause after each child step, in seconds or with a unit').default(d.childDelay, '50ms'))
    .option('--no-lock', 'no semaphore: read, wait --window, write back; shows the updates the semaphore prevents losing')
    .addOption(durationOption('--window <duration>', 'with --no-lock: time between reading and writing the counter, in seconds or with a unit').default(d.window, '20ms'))
    .option('--json', 'print one JSON object: final and expected value, per-process counts, the log')
    .addOption(count('--child <index>').hideHelp());
  addLangOption(command);
  command.addHelpText(
    'after',
    `
The parent creates anonymous shared memory (a memfd: nothing appears in the file system),
puts a process-shared semaphore, the counter and a log in it, and starts each child as a
new process of this CLI that maps the same pages (Node cannot fork; see docs/anonymous-memory.md).
If a process dies, even while holding the semaphore, the others notice within a second.

Examples:
  mmapipc counter                                   the tutorial's run: final value 40
  mmapipc counter --no-lock                         the same without the semaphore: lost updates
  mmapipc counter -c 4 --child-iterations 20000 --child-delay 0 --parent-iterations 0 --json`,
  );
  command.action((options: CounterOptions) => counter(options, context));
}

/** Checks the options against the region's limits and turns them into a plan. */
export function counterPlan(options: CounterOptions): CounterPlan {
  if (options.children > MAX_CHILDREN) {
    throw new UsageError(`--children: expected at most ${MAX_CHILDREN}, got ${options.children}`, { subject: 'counter' });
  }
  const parent = { iterations: options.parentIterations, step: options.parentStep, delayMs: options.parentDelay };
  const child = { iterations: options.childIterations, step: options.childStep, delayMs: options.childDelay };
  const expected = expectedTotal(parent, options.children, child);
  if (expected > MAX_COUNTER_VALUE) {
    throw new UsageError(`the counter would reach ${expected}, more than its int32 limit ${MAX_COUNTER_VALUE}; use fewer iterations or smaller steps`, {
      subject: 'counter',
    });
  }
  const steps = parent.iterations + options.children * child.iterations;
  if (steps > MAX_COUNTER_VALUE) {
    throw new UsageError(`the run would take ${steps} steps, more than the int32 limit ${MAX_COUNTER_VALUE} of the step counters; use fewer iterations`, {
      subject: 'counter',
    });
  }
  return { children: options.children, parent, child, noLock: !options.lock, windowMs: options.window };
}

export async function counter(options: CounterOptions, context: CliContext): Promise<void> {
  const texts = textsFor(options.lang).counter;
  if (options.child !== undefined) {
    await runChild(options.child, {
      signal: context.signal,
      stdin: context.stdin,
      reporter: reporter(context.output, texts),
      holdMs: testHoldMs(context.env),
    });
    return;
  }
  const plan = counterPlan(options);
  const { out } = context.output;
  const human = !options.json;
  if (human) write(out, `${out.color.bold(texts.title(plan.children, !plan.noLock))}\n${texts.rule}\n`);
  const env = { ...context.env, ...(out.color.level > 0 ? { FORCE_COLOR: String(out.color.level) } : {}) };
  const result = await runCounter(plan, {
    binPath: context.binPath,
    env,
    signal: context.signal,
    reporter: human ? reporter(context.output, texts) : undefined,
    childArgs: options.lang ? ['--lang', options.lang] : [],
  });
  if (!result) return;
  if (options.json) write(out, `${JSON.stringify(jsonReport(result))}\n`);
  else printResult(result, context.output, texts);
}

export function jsonReport(result: CounterResult): object {
  const roles = new Map(result.processes.map((p) => [p.index, p.role]));
  return {
    final: result.final,
    expected: result.expected,
    lost: result.expected - result.final,
    lock: !result.noLock,
    processes: result.processes.map(({ role, pid, iterations, step, steps }) => ({ role, pid, iterations, step, steps })),
    log: result.log.map(({ pid, process, before, after }) => ({ role: roles.get(process), pid, before, after })),
    logCapacity: result.logCapacity,
    logDropped: result.logDropped,
  };
}

function printResult(result: CounterResult, output: Output, texts: CounterTexts): void {
  const { out } = output;
  const color = out.color;
  const lines = ['', color.bold(texts.finalTitle), texts.final(result.final)];
  const comparison = texts.comparison(result.expected, result.final, result.processes.every((p) => p.step === 1 || p.iterations === 0));
  if (comparison !== undefined) lines.push(result.final === result.expected ? color.green(comparison) : color.red(comparison));
  lines.push('', color.bold(texts.logTitle));
  write(out, `${lines.join('\n')}\n`);
  const roles = new Map(result.processes.map((p) => [p.index, p.role]));
  // Written in chunks: a long log (up to MAX_LOG_CAPACITY lines) should not be one giant string.
  const CHUNK = 4096;
  for (let start = 0; start < result.log.length; start += CHUNK) {
    const text = result.log
      .slice(start, start + CHUNK)
      .map((entry) => texts.logLine(roles.get(entry.process) ?? 'child', entry.pid, entry.before, entry.after))
      .join('\n');
    write(out, `${text}\n`);
  }
  if (result.logDropped > 0) write(out, `${texts.logDropped(result.logDropped, result.logCapacity)}\n`);
}
