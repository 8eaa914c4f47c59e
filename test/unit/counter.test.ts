import { COUNTER_MAGIC, MAGIC_OFFSET, STATE_DONE, STATE_READY, regionLength } from '../../src/counter/counter-layout.js';
import { expectedTotal, logChains, SharedCounter, type CounterConfig } from '../../src/counter/counter.js';

const CONFIG: CounterConfig = {
  children: 2,
  childIterations: 10,
  childStep: 1,
  childDelayMs: 50,
  logCapacity: 8,
  noLock: false,
  windowMs: 20,
  quiet: true,
};

function region(config: CounterConfig = CONFIG): Buffer {
  return Buffer.from(new SharedArrayBuffer(regionLength(config.logCapacity)));
}

test('a child attaching to the region reads the configuration the parent wrote', () => {
  const memory = region();
  SharedCounter.initialise(memory, CONFIG);
  const attached = SharedCounter.attach(memory);
  expect(attached).toBeInstanceOf(SharedCounter);
  expect((attached as SharedCounter).config).toEqual(CONFIG);
});

test('attaching refuses memory without the magic, naming what it found', () => {
  expect(SharedCounter.attach(region())).toBe(`the region is not a counter region (magic "\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000", expected "${COUNTER_MAGIC}")`);
  const memory = region();
  SharedCounter.initialise(memory, CONFIG);
  expect(SharedCounter.attach(memory.subarray(0, regionLength(CONFIG.logCapacity) - 1))).toMatch(/a log of 8 entries needs/);
  expect(SharedCounter.attach(Buffer.alloc(MAGIC_OFFSET + 8))).toMatch(/shorter than the/);
});

test('locked steps chain: each log entry starts where the previous ended', () => {
  const counter = SharedCounter.initialise(region(), CONFIG);
  expect(counter.add(0, 100, 2)).toBe(0);
  expect(counter.add(1, 200, 1)).toBe(2);
  expect(counter.add(0, 100, 2)).toBe(3);
  expect(counter.value).toBe(5);
  expect(counter.log()).toEqual([
    { pid: 100, process: 0, before: 0, after: 2 },
    { pid: 200, process: 1, before: 2, after: 3 },
    { pid: 100, process: 0, before: 3, after: 5 },
  ]);
  expect(logChains(counter.log())).toBe(true);
  expect(counter.process(0).steps).toBe(2);
  expect(counter.process(1).steps).toBe(1);
});

test('a write from a stale read loses the other update, and the log shows it', () => {
  const counter = SharedCounter.initialise(region(), { ...CONFIG, noLock: true });
  const readByA = counter.value;
  const readByB = counter.value;
  counter.commit(1, 200, readByA, 1);
  counter.commit(2, 300, readByB, 1);
  expect(counter.value).toBe(1);
  expect(logChains(counter.log())).toBe(false);
  expect(counter.stepsTaken).toBe(2);
});

test('steps beyond the log capacity are counted but not logged', () => {
  const counter = SharedCounter.initialise(region(), CONFIG);
  for (let i = 0; i < CONFIG.logCapacity + 3; i++) counter.add(1, 200, 1);
  expect(counter.value).toBe(CONFIG.logCapacity + 3);
  expect(counter.stepsTaken).toBe(CONFIG.logCapacity + 3);
  expect(counter.log()).toHaveLength(CONFIG.logCapacity);
  expect(counter.process(1).steps).toBe(CONFIG.logCapacity + 3);
});

test('the holder word names the process in the critical section, and only then', () => {
  const counter = SharedCounter.initialise(region(), CONFIG);
  expect(counter.holder).toBe(0);
  counter.recordHolder(4567);
  expect(counter.holder).toBe(4567);
  counter.clearHolder();
  expect(counter.holder).toBe(0);
});

test('children count themselves ready; the parent does not; go is a separate word', () => {
  const counter = SharedCounter.initialise(region(), CONFIG);
  counter.register(0, 100);
  counter.register(1, 200);
  expect(counter.readyCount).toBe(1);
  counter.register(2, 300);
  expect(counter.readyCount).toBe(2);
  expect(counter.started).toBe(false);
  counter.start();
  expect(counter.started).toBe(true);
  expect(counter.process(2)).toEqual({ index: 2, pid: 300, state: STATE_READY, steps: 0 });
  counter.markDone(2);
  expect(counter.process(2).state).toBe(STATE_DONE);
});

test('initialising refuses a region too small for the log', () => {
  expect(() => SharedCounter.initialise(Buffer.alloc(regionLength(3)), { ...CONFIG, logCapacity: 4 })).toThrow(/needs/);
});

test("the tutorial's run is expected to end at 40", () => {
  expect(expectedTotal({ iterations: 15, step: 2 }, 1, { iterations: 10, step: 1 })).toBe(40);
  expect(expectedTotal({ iterations: 0, step: 2 }, 4, { iterations: 20_000, step: 1 })).toBe(80_000);
});
