/**
 * `stat --prometheus`, read back with a real parser of the Prometheus text format
 * (parse-prometheus-text-format, a port of the Prometheus Python client's parser), for several
 * rings at once, and compared with what `stat --json` says of the same rings.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { ExitCode } from '../../src/errors.js';
import { LiveCli, runCli } from '../helpers/cli.js';
import { until } from '../helpers/proc.js';
import { tempDir } from '../helpers/temp.js';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

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
    expect(value(families, 'mmapipc_up', path)).toBe(1);
    expect(value(families, 'mmapipc_info', { ...path, format_version: String(record.formatVersion), slots: String(record.slots), slot_size: String(record.slotSize), version: PACKAGE_VERSION })).toBe(1);
    expect(value(families, 'mmapipc_messages_received_total', path)).toBe(record.delivered);
    expect(value(families, 'mmapipc_head_position', path)).toBe(record.head);
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
      expect(value(families, 'mmapipc_group_delivered_messages_total', labels)).toBe(group.delivered);
      expect(value(families, 'mmapipc_group_created_timestamp_seconds', labels) * 1000).toBe(Date.parse(group.createdAt));
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
  expect(json[0]).toMatchObject({ sent: 10, received: 2, delivered: 2, waiting: 8, senders: { alive: 0, dead: 1 } });
  expect(json[0].groups[0]).toMatchObject({ position: 2, lag: 8, inFlight: 0, delivered: 2, members: { alive: 0, dead: 0 } });
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
    [['--output', 'x.prom'], '--output writes the Prometheus exposition; add --prometheus'],
    [['--prometheus', '--interval', '5'], '--interval sets the time between --watch rounds; add --watch'],
    [['--prometheus', '--watch', '--interval', '0'], '--interval: expected a duration above 0'],
    [['--prometheus', '--layout', 'classic'], '--prometheus reads mmapipc ring files only; drop --layout classic'],
  ])('stat %j: exit 2 and one line', async (args, line) => {
    expect(await runCli(['stat', ...args, '--file', dir.file('never.ring')])).toMatchObject({ code: ExitCode.usage, stdout: '', stderr: `mmapipc: ${line}\n` });
  });

});

test('a ring that cannot be read: the others are still exposed, it has mmapipc_up 0 and nothing else, one line per failure, the exit code of the last', async () => {
  const present = dir.file('present.ring');
  await ok(['send', '--file', present, 'a', 'b']);
  const missing = dir.file('missing.ring');
  const notRing = dir.file('not-a-ring.ring');
  writeFileSync(notRing, 'hello, not a ring file\n'.repeat(400), { mode: 0o600 });
  const result = await runCli(['stat', '--prometheus', '--file', missing, '--file', present, '--file', notRing]);
  expect(result.code).toBe(ExitCode.badRingFile);
  const lines = result.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(new RegExp(`^mmapipc: ${missing}: no such ring file`));
  expect(lines[1]).toMatch(new RegExp(`^mmapipc: ${notRing}: `));
  const families = parse(result.stdout);
  expect(families.get('mmapipc_up')!.metrics.map((sample) => [sample.labels!.path, Number(sample.value)])).toEqual([
    [missing, 0],
    [present, 1],
    [notRing, 0],
  ]);
  expect(value(families, 'mmapipc_messages_sent_total', { path: present })).toBe(2);
  // The unreadable rings have no sample but mmapipc_up.
  const paths = [...families.values()].filter((family) => family.name !== 'mmapipc_up').flatMap((family) => family.metrics.map((sample) => sample.labels!.path));
  expect(new Set(paths)).toEqual(new Set([present]));
});

/** Every counter sample (family *_total), keyed by family and labels. */
function counters(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const family of parse(text).values()) {
    if (family.type !== 'COUNTER') continue;
    for (const sample of family.metrics) samples.set(`${family.name}${JSON.stringify(sample.labels)}`, Number(sample.value));
  }
  return samples;
}

test('counters never decrease across group create --from earliest, reset, rm and re-create; received counts what members finished', async () => {
  const ring = dir.file('monotonic.ring');
  const path = { path: ring };
  const expose = async () => ok(['stat', '--prometheus', '--file', ring]);
  const rounds: Array<{ step: string; text: string }> = [];
  const step = async (name: string, args?: string[]) => {
    if (args) await ok(args);
    rounds.push({ step: name, text: await expose() });
    return parse(rounds.at(-1)!.text);
  };
  await ok(['send', '--file', ring, '--slots', '64', ...Array.from({ length: 40 }, (_, i) => `m${i}`)]);
  await ok(['receive', '--file', ring, '--count', '40']);
  let families = await step('received 40');
  expect(value(families, 'mmapipc_messages_received_total', path)).toBe(40);
  expect(value(families, 'mmapipc_head_position', path)).toBe(40);

  // Before the fix, received_total was the slowest lossless cursor: this took it from 40 to 0.
  families = await step('group create audit --from earliest', ['group', 'create', 'audit', '--from', 'earliest', '--file', ring]);
  expect(value(families, 'mmapipc_messages_received_total', path)).toBe(40);
  expect(value(families, 'mmapipc_head_position', path)).toBe(0); // a gauge may go back
  expect(value(families, 'mmapipc_group_delivered_messages_total', { ...path, group: 'audit' })).toBe(0);

  await ok(['receive', '--file', ring, '--group', 'audit', '--count', '25']);
  families = await step('audit received 25');
  expect(value(families, 'mmapipc_messages_received_total', path)).toBe(65);
  expect(value(families, 'mmapipc_group_delivered_messages_total', { ...path, group: 'audit' })).toBe(25);

  families = await step('group reset default --to earliest', ['group', 'reset', 'default', '--to', 'earliest', '--file', ring]);
  expect(value(families, 'mmapipc_messages_received_total', path)).toBe(65);
  expect(value(families, 'mmapipc_group_delivered_messages_total', { ...path, group: 'default' })).toBe(40);
  await ok(['receive', '--file', ring, '--count', '40']);
  families = await step('default received the 40 again');
  expect(value(families, 'mmapipc_messages_received_total', path)).toBe(105);
  expect(value(families, 'mmapipc_group_delivered_messages_total', { ...path, group: 'default' })).toBe(80);

  families = await step('group rm audit', ['group', 'rm', 'audit', '--file', ring]);
  expect(value(families, 'mmapipc_messages_received_total', path)).toBe(105);
  const audit = { ...path, group: 'audit' };
  families = await step('group create audit again', ['group', 'create', 'audit', '--file', ring]);
  expect(value(families, 'mmapipc_messages_received_total', path)).toBe(105);
  // A re-created group is a new series start: its counters are 0 again, and its created time says so.
  expect(value(families, 'mmapipc_group_delivered_messages_total', audit)).toBe(0);
  const created = (text: string) => value(parse(text), 'mmapipc_group_created_timestamp_seconds', audit);
  const firstAudit = rounds.find((round) => round.step === 'audit received 25')!.text;
  expect(created(rounds.at(-1)!.text)).toBeGreaterThan(created(firstAudit));

  // Every counter of every round is at least what it was the round before, except a group's
  // counters across its re-creation (a newer created timestamp).
  for (let i = 1; i < rounds.length; i++) {
    const before = counters(rounds[i - 1]!.text);
    const after = counters(rounds[i]!.text);
    const recreated = rounds[i]!.step === 'group create audit again';
    for (const [key, was] of before) {
      if (recreated && key.includes('"group":"audit"')) continue;
      if (!after.has(key)) {
        expect({ step: rounds[i]!.step, key, gone: rounds[i]!.step === 'group rm audit' && key.includes('"group":"audit"') }).toEqual({ step: rounds[i]!.step, key, gone: true });
        continue;
      }
      expect({ step: rounds[i]!.step, key, decreased: after.get(key)! < was }).toEqual({ step: rounds[i]!.step, key, decreased: false });
    }
  }
  process.stderr.write(`stat-prometheus: received_total by step: ${rounds.map((round) => `${round.step}=${value(parse(round.text), 'mmapipc_messages_received_total', path)}`).join(', ')}\n`);
});

test('--output with --watch replaces the file atomically every --interval (rename, never a partial file) and stops on Ctrl-C', async () => {
  const ring = dir.file('watched.ring');
  await ok(['send', '--file', ring, 'one']);
  const textfiles = dir.file('textfile');
  mkdirSync(textfiles);
  const output = `${textfiles}/mmapipc.prom`;
  const watcher = new LiveCli(['stat', '--prometheus', '--watch', '--interval', '0.1', '--file', ring, '--output', output]);
  const sentIn = () => {
    try {
      return value(parse(readFileSync(output, 'utf8')), 'mmapipc_messages_sent_total', { path: ring });
    } catch {
      return -1; // not written yet
    }
  };
  await until(() => sentIn() === 1, 'the first exposition in --output');
  // Holding the first file open: a rewrite in place would change what it reads.
  const first = openSync(output, 'r');
  const firstText = readFileSync(first, 'utf8');
  await ok(['send', '--file', ring, 'two', 'three']);
  await until(() => sentIn() === 3, 'an exposition with the new messages');
  // A new file each round (written beside it, then renamed over it): the old one is unlinked, whole.
  expect(fstatSync(first).nlink).toBe(0);
  expect(readSync(first, Buffer.alloc(firstText.length + 1), 0, firstText.length + 1, 0)).toBe(firstText.length);
  closeSync(first);
  expect((statSync(output).mode & 0o777).toString(8)).toBe('644');
  // Only the target is a *.prom: the collector never reads the temporary file.
  expect(readdirSync(textfiles).filter((name) => name.endsWith('.prom'))).toEqual(['mmapipc.prom']);
  expect(watcher.stdout).toBe('');
  watcher.child.kill('SIGINT');
  expect(await watcher.exited).toEqual({ code: 130, signal: null });
  expect(readdirSync(textfiles)).toEqual(['mmapipc.prom']);
  expect(watcher.stderr).toBe('');
});

test('--output into a directory that does not exist: exit 1 and one line naming the file', async () => {
  const ring = dir.file('plain.ring');
  await ok(['create', '--file', ring]);
  const output = dir.file('no/such/dir/mmapipc.prom');
  const result = await runCli(['stat', '--prometheus', '--file', ring, '--output', output]);
  expect(result).toMatchObject({
    code: ExitCode.failure,
    stdout: '',
    stderr: `mmapipc: ${output}: cannot write the exposition there (ENOENT); pass --output a path in a directory you can write\n`,
  });
});
