/**
 * The learned spin (src/ring/spin-policy.ts): a side that catches its answer while trying keeps
 * its budget; after four misses in a row it sleeps at once, probing (for at most 0.02 ms) once
 * every sixteen waits; a catch restores the budget.
 */
import { PROBE_MS, SpinPolicy } from '../../src/ring/spin-policy.js';

const BUDGET_MS = 0.005;

/** The budgets of `waits` waits that all miss. */
function missing(policy: SpinPolicy, waits: number): number[] {
  return Array.from({ length: waits }, () => {
    const budget = policy.next();
    policy.record(false);
    return budget;
  });
}

test('tries with the full budget while trying catches', () => {
  const policy = new SpinPolicy(BUDGET_MS);
  for (let i = 0; i < 100; i++) {
    expect(policy.next()).toBe(BUDGET_MS);
    policy.record(i % 4 !== 3); // a miss now and then, never four in a row
  }
});

test('stops trying after four misses in a row, and probes once every sixteen waits', () => {
  const policy = new SpinPolicy(BUDGET_MS);
  const budgets = missing(policy, 4 + 32);
  expect(budgets.slice(0, 4)).toEqual([BUDGET_MS, BUDGET_MS, BUDGET_MS, BUDGET_MS]);
  const probes = budgets.slice(4).flatMap((budget, index) => (budget > 0 ? [index] : []));
  expect(probes).toEqual([15, 31]);
  expect(budgets.slice(4).filter((budget) => budget === 0)).toHaveLength(30);
});

test('a probe that catches restores the full budget', () => {
  const policy = new SpinPolicy(BUDGET_MS);
  missing(policy, 4 + 15);
  expect(policy.next()).toBe(BUDGET_MS); // the probe
  policy.record(true);
  expect([policy.next(), policy.next(), policy.next()]).toEqual([BUDGET_MS, BUDGET_MS, BUDGET_MS]);
});

test('a wait that found its answer without trying counts as a catch', () => {
  const policy = new SpinPolicy(BUDGET_MS);
  missing(policy, 4);
  expect(policy.next()).toBe(0);
  policy.record(true); // the peer answered before the sleep: it is busy again
  expect(policy.next()).toBe(BUDGET_MS);
});

test('a probe of a long budget tries for 0.02 ms only; its catch restores the whole budget', () => {
  const YIELD_MS = 0.2; // the async wait's event-loop yield (src/ring/blocking.ts)
  expect(PROBE_MS).toBe(0.02);
  const policy = new SpinPolicy(YIELD_MS);
  const budgets = missing(policy, 4 + 16);
  expect(budgets.slice(0, 4)).toEqual([YIELD_MS, YIELD_MS, YIELD_MS, YIELD_MS]);
  expect(budgets[4 + 15]).toBe(0.02);
  expect(policy.next()).toBe(0);
  missing(policy, 14);
  expect(policy.next()).toBe(0.02); // the next probe
  policy.record(true);
  expect(policy.next()).toBe(YIELD_MS);
});
