/**
 * Mutation fuzz of ring files: seeded cases in batches, each batch in a child process running
 * test/fixtures/fuzz-ring.mjs against the built library. Every case must end in success or an
 * MmapipcError; a failed open must leave the file unchanged; no child may die by a signal, and
 * none may hang (a batch still running after BATCH_DEADLINE_MS is killed and its case named).
 * MMAPIPC_FUZZ_SEED=<n> replays a run; the seed is printed on any failure.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { collect } from '../helpers/cli.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/fuzz-ring.mjs', import.meta.url));
const CASES = 10_000;
const BATCHES = 4;
const seed = Number(process.env.MMAPIPC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** A batch takes 5-10 s alone, 15-45 s beside the others on 2 busy cores: far beyond that is a hang. */
const BATCH_DEADLINE_MS = 150_000;

interface Summary {
  count: number;
  ms: number;
  outcomes: Record<string, number>;
  failures: Array<{ case: number; step: string; mutations: string[]; error: string }>;
}

async function runBatch(first: number, count: number) {
  const child = spawn(process.execPath, [FIXTURE, String(seed), String(first), String(count)], { stdio: 'pipe' });
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, BATCH_DEADLINE_MS);
  const result = await collect(child);
  clearTimeout(timer);
  const lines = result.stdout.trimEnd().split('\n');
  const last = lines.at(-1) ?? '';
  const summary = last.startsWith('summary\t') ? (JSON.parse(last.slice('summary\t'.length)) as Summary) : undefined;
  // The case a child died in is the one after the last it reported.
  const lastCase = Number(lines.filter((line) => /^\d+\t/.test(line)).at(-1)?.split('\t')[0] ?? first - 1);
  return { first, count, code: result.code, signal: result.signal, stderr: result.stderr, summary, lastCase, hung };
}

test(`${CASES} mutated ring files give success or an MmapipcError, never a crash`, async () => {
  const size = CASES / BATCHES;
  const batches = await Promise.all(Array.from({ length: BATCHES }, (_, i) => runBatch(i * size, size)));
  const problems = batches
    .filter((batch) => batch.code !== 0 || batch.signal !== null || batch.summary === undefined)
    .map((batch) => {
      const failed = batch.summary?.failures[0]?.case ?? batch.lastCase + 1;
      return [
        `seed ${seed}, cases ${batch.first}..${batch.first + batch.count - 1}: exit ${batch.code}, signal ${batch.signal}` +
          (batch.hung ? ` (killed: case ${failed} still running after ${BATCH_DEADLINE_MS} ms, a hang)` : ''),
        ...(batch.summary?.failures.slice(0, 5).map((failure) => JSON.stringify(failure)) ?? []),
        batch.stderr.slice(0, 2000),
        `replay: MMAPIPC_FUZZ_SEED=${seed} npm test -- test/integration/fuzz.test.ts`,
        `one case: node test/fixtures/fuzz-ring.mjs ${seed} ${failed} 1 --verbose`,
      ].join('\n');
    });
  if (problems.length > 0) throw new Error(problems.join('\n\n'));
  const total = batches.reduce((sum, batch) => sum + batch.summary!.count, 0);
  const outcomes: Record<string, number> = {};
  for (const batch of batches) {
    for (const [label, n] of Object.entries(batch.summary!.outcomes)) outcomes[label] = (outcomes[label] ?? 0) + n;
  }
  expect(total).toBe(CASES);
  expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(CASES);
  // Both paths are exercised: some mutations are refused at open, some rings stay usable.
  expect(outcomes['RingFormatError:3']).toBeGreaterThan(CASES / 10);
  expect(outcomes.ok).toBeGreaterThan(CASES / 10);
}, BATCH_DEADLINE_MS + 15_000);
