/**
 * `stat --prometheus`, read back with a real parser of the Prometheus text format
 * (parse-prometheus-text-format, a port of the Prometheus Python client's parser), for several
 * rings at once, and compared with what `stat --json` says of the same rings.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { ExitCode } from '../../src/errors.js';
import { LiveCli, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: Array<{ value: string; labels?: Record<string, string> }>;
}

async function ok(args: string[]): Promise<string> {
  const result = await runCli(args);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return result.stdout;
}

/** The parsed families, by name; each family must appear once (its samples together). */
function parse(text: string): Map<string, ParsedFamily> {
  const families = parsePrometheusTextFormat(text) as ParsedFamily[];
  const names = families.map((family) => family.name);
  expect(new Set(names).size).toBe(names.length);
  // The parser keeps any value as text: every one must be a number.
  const values = families.flatMap((family) => family.metrics.map((sample) => sample.value));
  expect(values.filter((text) => !Number.isFinite(Number(text)) || text.trim() === '')).toEqual([]);
  return new Map(families.map((family) => [family.name, family]));
}

/** The value of `name` for the sample whose labels are exactly `labels`. */
function value(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string>): number {
  const samples = families.get(name)?.metrics.filter((sample) => JSON.stringify(sample.labels) === JSON.stringify(labels)) ?? [];
  expect({ name, labels, samples: samples.length }).toEqual({ name, labels, samples: 1 });
  return Number(samples[0]!.value);
}

test('two rings in one exposition: every figure per path, as stat --json has it; label values escaped', async () => {
  // A path with a double quote, a backslash and a newline: each must be escaped, and come back whole.
  const busy = dir.file('busy "q"\\1\n.ring');
  const idle = dir.file('idle.ring');
  await ok(['send', '--file', busy, '--slots', '8', 'one', 'two', 'three']);
  await ok(['create', '--file', idle, '--slots', '4', '--slot-size', '32']);
  // A receiver takes two and leaves (its entry is then free); a sender fills the ring and is killed
  // while it waits for room, so it stays in the table as a dead sender.
  expect(await ok(['receive', '--count', '2', '--file', busy])).toBe('one\ntwo\n');
  const killed = new LiveCli(['send', '--json', '--file', busy, 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven']);
  await killed.waitForLine('"message":"ten"'); // 8 of 8 slots taken: it waits to send "eleven"
  killed.child.kill('SIGKILL');
  await killed.exited;

  const text = await ok(['stat', '--prometheus', '--file', busy, '--file', idle]);
  const families = parse(text);
  const json = (await ok(['stat', '--json', '--file', busy, '--file', idle])).trim().split('\n').map((line) => JSON.parse(line));
  expect(json.map((record) => record.file)).toEqual([busy, idle]);

  for (const record of json) {
    const path = { path: record.file as string };
    expect(value(families, 'mmapipc_messages_sent_total', path)).toBe(record.sent);
    expect(value(families, 'mmapipc_messages_received_total', path)).toBe(record.received);
    expect(value(families, 'mmapipc_messages_waiting', path)).toBe(record.waiting);
    expect(value(families, 'mmapipc_capacity_messages', path)).toBe(record.slots);
    expect(value(families, 'mmapipc_slot_size_bytes', path)).toBe(record.slotSize);
    for (const state of ['alive', 'dead'] as const) {
      expect(value(families, 'mmapipc_senders', { ...path, state })).toBe(record.senders[state]);
      expect(value(families, 'mmapipc_receivers', { ...path, state })).toBe(record.receivers[state]);
    }
    expect(value(families, 'mmapipc_released_slots_total', path)).toBe(record.releasedSlots);
    expect(value(families, 'mmapipc_redelivered_messages_total', path)).toBe(record.redelivered);
    // Every ring has its default group (format v2): one sample per group and figure.
    expect(record.groups.map((group: { name: string }) => group.name)).toEqual(['default']);
    for (const group of record.groups) {
      const labels = { ...path, group: group.name as string };
      expect(value(families, 'mmapipc_group_lag_messages', labels)).toBe(group.lag);
      expect(value(families, 'mmapipc_group_in_flight_messages', labels)).toBe(group.inFlight);
      expect(value(families, 'mmapipc_group_redelivered_messages_total', labels)).toBe(group.redelivered);
      expect(value(families, 'mmapipc_group_missed_messages_total', labels)).toBe(group.missed);
      expect(value(families, 'mmapipc_group_gaps_total', labels)).toBe(group.gaps);
      expect(value(families, 'mmapipc_group_position', labels)).toBe(group.position);
      expect(value(families, 'mmapipc_group_lossy', labels)).toBe(group.lossy ? 1 : 0);
      for (const state of ['alive', 'dead'] as const) expect(value(families, 'mmapipc_group_members', { ...labels, state })).toBe(group.members[state]);
    }
  }
  // The figures this run made: 3 + 7 sent, 2 taken, the killed sender dead.
  expect(json[0]).toMatchObject({ sent: 10, received: 2, waiting: 8, senders: { alive: 0, dead: 1 } });
  expect(json[0].groups[0]).toMatchObject({ position: 2, lag: 8, inFlight: 0, members: { alive: 0, dead: 0 } });
  expect(value(families, 'mmapipc_last_activity_timestamp_seconds', { path: busy }) * 1000).toBe(Date.parse(json[0].lastActivity));
  expect(families.get('mmapipc_last_activity_timestamp_seconds')!.metrics).toHaveLength(1); // the idle ring has none

  expect(families.get('mmapipc_messages_sent_total')).toMatchObject({ type: 'COUNTER', help: 'Messages sent into the ring since it was created.' });
  expect(families.get('mmapipc_messages_waiting')).toMatchObject({ type: 'GAUGE' });
  expect(families.get('mmapipc_group_lag_messages')!.metrics).toHaveLength(2); // the two default groups, and no other
  expect(text).toContain(`path="${busy.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
});

test('the parser refuses malformed lines (it is lenient elsewhere: values and escapes are checked here)', () => {
  expect(() => parsePrometheusTextFormat('mmapipc_messages_waiting{path=unquoted} 1\n')).toThrow();
  expect(() => parsePrometheusTextFormat('mmapipc_messages_waiting{path="x" 1\n')).toThrow();
});

describe('usage', () => {
  test.each([
    [['--prometheus', '--json'], '--prometheus and --json are two formats of the same figures; pick one'],
    [['--prometheus', '--watch'], '--prometheus prints once; drop --watch (to keep a textfile fresh, run stat from a timer)'],
    [['--prometheus', '--layout', 'classic'], '--prometheus reads v1 rings only; drop --layout classic'],
  ])('stat %j: exit 2 and one line', async (args, line) => {
    expect(await runCli(['stat', ...args, '--file', dir.file('never.ring')])).toMatchObject({ code: ExitCode.usage, stdout: '', stderr: `mmapipc: ${line}\n` });
  });

  test('a ring that cannot be read: its error and exit code, no partial exposition', async () => {
    const present = dir.file('present.ring');
    await ok(['create', '--file', present]);
    const missing = dir.file('missing.ring');
    const result = await runCli(['stat', '--prometheus', '--file', present, '--file', missing]);
    expect(result).toMatchObject({ code: ExitCode.failure, stdout: '' });
    expect(result.stderr).toMatch(new RegExp(`^mmapipc: ${missing}: no such ring file`));
  });
});
