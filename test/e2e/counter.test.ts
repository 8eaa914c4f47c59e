/**
 * `mmapipc counter` end to end: real processes over a real memfd and a real process-shared
 * semaphore. Synchronised on printed lines and process exits only.
 */
import { COUNTER_DEFAULTS } from '../../src/cli/commands/counter.js';
import { MAX_CHILDREN } from '../../src/counter/counter-layout.js';
import { expectedTotal, logChains } from '../../src/counter/counter.js';
import { TEST_HOLD_ENV } from '../../src/counter-run/reporter.js';
import { ExitCode } from '../../src/errors.js';
import { LiveCli, runCli } from '../helpers/cli.js';

interface JsonReport {
  final: number;
  expected: number;
  lost: number;
  lock: boolean;
  processes: Array<{ role: string; pid: number; iterations: number; step: number; steps: number }>;
  log: Array<{ role: string; pid: number; before: number; after: number }>;
  logCapacity: number;
  logDropped: number;
}

const d = COUNTER_DEFAULTS;

function parseSteps(lines: string[], pattern: RegExp): Array<{ before: number; after: number }> {
  return lines.flatMap((line) => {
    const match = pattern.exec(line);
    return match ? [{ before: Number(match[1]), after: Number(match[2]) }] : [];
  });
}

/** Resolves once the process's stderr contains `text`. */
function stderrContains(cli: LiveCli, text: string): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (cli.stderr.includes(text)) {
        cli.child.stderr!.off('data', onData);
        resolve();
      }
    };
    const onData = () => setImmediate(check); // LiveCli appends the chunk in its own listener
    cli.child.stderr!.on('data', onData);
    check();
  });
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

test("the default run reproduces the tutorial: 40, and 25 log lines whose values chain", async () => {
  const result = await runCli(['counter']);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const lines = result.stdout.split('\n');
  const expected = expectedTotal(
    { iterations: d.parentIterations, step: d.parentStep },
    d.children,
    { iterations: d.childIterations, step: d.childStep },
  );
  const parentPid = Number(/^parent: PID (\d+) started$/m.exec(result.stdout)?.[1]);
  const childPid = Number(/^child: PID (\d+) started$/m.exec(result.stdout)?.[1]);
  expect(parentPid).toBeGreaterThan(0);
  expect(childPid).toBeGreaterThan(0);

  const steps = parseSteps(lines, /^(?:parent|child): counter (\d+) -> (\d+)$/);
  expect(steps).toHaveLength(d.parentIterations + d.childIterations);
  expect(logChains(steps.map((s) => ({ ...s, pid: 0, process: 0 })))).toBe(true);

  expect(result.stdout).toContain(`=== final result ===\nfinal counter value: ${expected}\n`);
  const log = lines.slice(lines.indexOf('=== log ===') + 1).filter((line) => line !== '');
  expect(log).toHaveLength(d.parentIterations + d.childIterations);
  const entries = log.map((line) => {
    const match = /^(Parent|Child) PID (\d+): (\d+) -> (\d+)$/.exec(line);
    expect(match).not.toBeNull();
    const [, who, pid, before, after] = match!;
    expect(Number(pid)).toBe(who === 'Parent' ? parentPid : childPid);
    expect(Number(after) - Number(before)).toBe(who === 'Parent' ? d.parentStep : d.childStep);
    return { pid: Number(pid), process: 0, before: Number(before), after: Number(after) };
  });
  expect(logChains(entries)).toBe(true);
  expect(entries.at(-1)!.after).toBe(expected);
  expect(entries.filter((e) => e.pid === childPid)).toHaveLength(d.childIterations);
});

test('4 children x 20,000 increments with no delay end at the exact total', async () => {
  const children = 4;
  const iterations = 20_000;
  const started = performance.now();
  const result = await runCli([
    'counter', '--json', '--children', String(children),
    '--child-iterations', String(iterations), '--child-delay', '0',
    '--parent-iterations', '0',
  ]);
  const elapsedMs = performance.now() - started;
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const report = JSON.parse(result.stdout) as JsonReport;
  const expected = expectedTotal({ iterations: 0, step: d.parentStep }, children, { iterations, step: d.childStep });
  expect(report).toMatchObject({ final: expected, expected, lost: 0, lock: true, logCapacity: children * iterations, logDropped: 0 });
  expect(report.processes.map((p) => [p.role, p.steps])).toEqual([
    ['parent', 0],
    ...Array.from({ length: children }, () => ['child', iterations]),
  ]);
  expect(report.log).toHaveLength(children * iterations);
  expect(logChains(report.log.map((e) => ({ ...e, process: 0 })))).toBe(true);
  // The processes really took turns: every child appears in the log.
  expect(new Set(report.log.map((e) => e.pid)).size).toBe(children);
  process.stdout.write(`counter: ${children} x ${iterations} locked increments took ${Math.round(elapsedMs)} ms end to end\n`);
});

test('--no-lock loses updates through its read-then-write window and says how many', async () => {
  const iterations = 100;
  const result = await runCli([
    'counter', '--no-lock', '--children', '2',
    '--child-iterations', String(iterations), '--child-delay', '0',
    '--parent-iterations', String(iterations), '--parent-step', '1', '--parent-delay', '0',
    '--window', '1ms',
  ]);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const expected = 3 * iterations;
  const match = /^expected (\d+), got (\d+): (\d+) updates lost$/m.exec(result.stdout);
  expect(match).not.toBeNull();
  const [, shownExpected, got, lost] = match!.map(Number);
  expect(shownExpected).toBe(expected);
  expect(got).toBeLessThan(expected);
  expect(lost).toBe(expected - got!);
  expect(result.stdout).toContain(`final counter value: ${got}\n`);
});

test('a child SIGKILLed while holding the semaphore: the parent names it and exits 6 within 2 s', async () => {
  const cli = new LiveCli(['counter'], { env: { [TEST_HOLD_ENV]: '60000' } });
  const line = await cli.waitForLine(/^child: PID \d+ holding the semaphore/);
  const pid = Number(/PID (\d+)/.exec(line)![1]);
  const killedAt = performance.now();
  process.kill(pid, 'SIGKILL');
  const exit = await cli.exited;
  const elapsedMs = performance.now() - killedAt;
  expect(exit).toEqual({ code: ExitCode.peerDied, signal: null });
  expect(cli.stderr).toBe(`mmapipc: counter: child ${pid} was killed by SIGKILL while holding the semaphore\n`);
  expect(elapsedMs).toBeLessThan(2000);
  process.stdout.write(`counter: parent exited ${Math.round(elapsedMs)} ms after the holder was killed\n`);
});

test('SIGTERM to the parent stops it with 143 and its children with it', async () => {
  const cli = new LiveCli(['counter', '--children', '2', '--child-iterations', '100000', '--parent-iterations', '100000']);
  await cli.waitForLine(/^(parent|child): counter/);
  const pids = cli.lines.flatMap((line) => /^child: PID (\d+) started$/.exec(line)?.[1] ?? []).map(Number);
  expect(pids).toHaveLength(2);
  cli.child.kill('SIGTERM');
  expect(await cli.exited).toEqual({ code: ExitCode.sigterm, signal: null });
  expect(cli.stderr).toBe('');
  // The parent waited for its children before exiting: they are gone, not orphans.
  expect(pids.filter((pid) => !isGone(pid))).toEqual([]);
});

test('children stop on their own when their parent is SIGKILLed', async () => {
  const cli = new LiveCli(['counter', '--children', '2', '--child-iterations', '100000', '--parent-iterations', '100000']);
  await cli.waitForLine(/^(parent|child): counter/);
  const pids = cli.lines.flatMap((line) => /^child: PID (\d+) started$/.exec(line)?.[1] ?? []).map(Number);
  expect(pids).toHaveLength(2);
  cli.child.kill('SIGKILL');
  // The children share the parent's stderr: each says why it stops, then exits (closing the pipe).
  await Promise.all(pids.map((pid) => stderrContains(cli, `mmapipc: counter child: the parent of child ${pid} is gone; stopping`)));
  expect(await cli.exited).toEqual({ code: null, signal: 'SIGKILL' });
});

test('--json reports the final and expected values, per-process counts and the log', async () => {
  const result = await runCli(['counter', '--json', '--children', '2', '--child-delay', '0', '--parent-delay', '0']);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const report = JSON.parse(result.stdout) as JsonReport;
  const expected = expectedTotal({ iterations: d.parentIterations, step: d.parentStep }, 2, { iterations: d.childIterations, step: d.childStep });
  expect(report).toMatchObject({ final: expected, expected, lost: 0, lock: true, logDropped: 0 });
  expect(report.processes.map(({ role, iterations, step, steps }) => ({ role, iterations, step, steps }))).toEqual([
    { role: 'parent', iterations: d.parentIterations, step: d.parentStep, steps: d.parentIterations },
    { role: 'child', iterations: d.childIterations, step: d.childStep, steps: d.childIterations },
    { role: 'child', iterations: d.childIterations, step: d.childStep, steps: d.childIterations },
  ]);
  expect(report.log).toHaveLength(d.parentIterations + 2 * d.childIterations);
});

test.each([
  [['--children', String(MAX_CHILDREN + 1)], `--children: expected at most ${MAX_CHILDREN}, got ${MAX_CHILDREN + 1}`],
  [['--child-iterations', 'many'], "option '--child-iterations <n>' argument 'many' is invalid"],
  [['--parent-step', '2000000000', '--parent-iterations', '2'], 'more than its int32 limit'],
  [['--parent-step', '0', '--parent-iterations', '3000000000'], 'more than the int32 limit'],
])('bad options %j: one line, exit 2', async (args, message) => {
  const result = await runCli(['counter', ...args]);
  expect(result.code).toBe(ExitCode.usage);
  expect(result.stdout).toBe('');
  expect(result.stderr).toContain(message);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
});

test('the hidden child mode refuses to run without a parent’s shared memory', async () => {
  const result = await runCli(['counter', '--child', '1']);
  expect(result.code).toBe(ExitCode.failure);
  expect(result.stderr).toMatch(/^mmapipc: counter child: .+\n$/);
});
