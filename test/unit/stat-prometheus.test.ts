/**
 * The Prometheus formatter on snapshots of in-memory rings, read back with a real parser of the
 * format: consumer groups get one sample each,
 * labelled with their ring's path and their name.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { escapeLabelValue, prometheusText, type PrometheusRing, type PrometheusSnapshot } from '../../src/cli/commands/stat-prometheus.js';
import { FORMAT_VERSION } from '../../src/layout/ring-layout.js';
import type { GroupState } from '../../src/ring/inspect.js';
import type { ParticipantView } from '../../src/ring-file/observe.js';
import { checkHeader } from '../../src/layout/header.js';
import { readRingState } from '../../src/ring/inspect.js';
import { CREATOR, ringMemory } from '../helpers/memory-ring.js';

interface FakeGroup {
  name: string;
  lag: number;
  inFlight: number;
  redelivered: number;
  missed: number;
  gaps: number;
  delivered: number;
  lossy: boolean;
  members: { alive: number; dead: number };
}

/**
 * A snapshot of a fresh in-memory ring with `sent` messages sent, as the observer would take it,
 * with `groups` (their members as participants, alive or dead).
 */
function snapshot(path: string, sent: number, groups: FakeGroup[] = []): PrometheusSnapshot {
  const { memory } = ringMemory(8, 32);
  const check = checkHeader(memory, memory.length);
  if (check.kind !== 'ready') throw new Error(check.kind);
  const participants: ParticipantView[] = [];
  const states: GroupState[] = groups.map((group, index) => {
    const members: number[] = [];
    for (const alive of [...Array(group.members.alive).fill(true), ...Array(group.members.dead).fill(false)]) {
      members.push(participants.length);
      participants.push({
        index: participants.length,
        pid: 1000 + participants.length,
        pidNamespace: 4026531836n,
        uid: 0,
        namespace: 'same',
        role: 2,
        startTicks: 1,
        attachedAt: CREATOR.createdAt,
        generation: 1,
        group: index,
        groupGeneration: 1,
        intent: { start: 0, count: 0, since: 0 },
        run: { start: 0, count: 0, pending: false, deliveries: 0, since: 0 },
        liveness: alive ? 'alive' : 'dead',
        state: alive ? 'running' : 'dead',
      });
    }
    return {
      index,
      name: group.name,
      lossy: group.lossy,
      dispatch: sent - group.lag,
      generation: 1,
      redelivered: group.redelivered,
      missed: group.missed,
      gaps: group.gaps,
      createdAt: CREATOR.createdAt + 1000 * (index + 1),
      delivered: group.delivered,
      floor: sent - group.lag,
      lag: group.lag,
      inFlight: group.inFlight,
      members,
    };
  });
  const state = { ...readRingState(memory, check.header), sent, tail: sent, waiting: sent, groups: states };
  return {
    path,
    fileBytes: memory.length,
    linked: true,
    header: check.header,
    state,
    participants,
    creatorLiveness: 'dead',
    takenAt: CREATOR.createdAt,
    holders: [],
    blockedBy: undefined,
    delivered: groups.reduce((sum, group) => sum + group.delivered, 0),
  };
}

const audit: FakeGroup = { name: 'audit "eu"', lag: 5, inFlight: 2, redelivered: 1, missed: 0, gaps: 0, delivered: 41, lossy: false, members: { alive: 2, dead: 1 } };
const metrics: FakeGroup = { name: 'metrics', lag: 0, inFlight: 0, redelivered: 0, missed: 17, gaps: 3, delivered: 9, lossy: true, members: { alive: 1, dead: 0 } };

test('groups: one sample per group and figure, labelled path and group; rings without groups add none', () => {
  const text = prometheusText([ring('/run/a.ring', 3, [audit, metrics]), ring('/run/b.ring', 1)], '9.8.7');
  const families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
  const sample = (name: string) => families.get(name)!.metrics.map((s) => ({ ...s.labels, value: Number(s.value) }));
  expect(sample('mmapipc_messages_sent_total')).toEqual([
    { path: '/run/a.ring', value: 3 },
    { path: '/run/b.ring', value: 1 },
  ]);
  expect(sample('mmapipc_messages_received_total')).toEqual([
    { path: '/run/a.ring', value: 50 },
    { path: '/run/b.ring', value: 0 },
  ]);
  expect(sample('mmapipc_group_delivered_messages_total').map((s) => s.value)).toEqual([41, 9]);
  expect(sample('mmapipc_group_created_timestamp_seconds').map((s) => s.value)).toEqual([(CREATOR.createdAt + 1000) / 1000, (CREATOR.createdAt + 2000) / 1000]);
  expect(sample('mmapipc_up')).toEqual([
    { path: '/run/a.ring', value: 1 },
    { path: '/run/b.ring', value: 1 },
  ]);
  expect(sample('mmapipc_info')).toEqual([
    { path: '/run/a.ring', format_version: String(FORMAT_VERSION), slots: '8', slot_size: '32', version: '9.8.7', value: 1 },
    { path: '/run/b.ring', format_version: String(FORMAT_VERSION), slots: '8', slot_size: '32', version: '9.8.7', value: 1 },
  ]);
  expect(sample('mmapipc_group_lag_messages')).toEqual([
    { path: '/run/a.ring', group: 'audit "eu"', value: 5 },
    { path: '/run/a.ring', group: 'metrics', value: 0 },
  ]);
  expect(sample('mmapipc_group_in_flight_messages').map((s) => s.value)).toEqual([2, 0]);
  expect(sample('mmapipc_group_redelivered_messages_total').map((s) => s.value)).toEqual([1, 0]);
  expect(sample('mmapipc_group_missed_messages_total').map((s) => s.value)).toEqual([0, 17]);
  expect(sample('mmapipc_group_lossy').map((s) => s.value)).toEqual([0, 1]);
  expect(sample('mmapipc_group_gaps_total').map((s) => s.value)).toEqual([0, 3]);
  expect(sample('mmapipc_group_position').map((s) => s.value)).toEqual([3 - 5, 3]);
  expect(sample('mmapipc_group_members')).toEqual([
    { path: '/run/a.ring', group: 'audit "eu"', state: 'alive', value: 2 },
    { path: '/run/a.ring', group: 'audit "eu"', state: 'dead', value: 1 },
    { path: '/run/a.ring', group: 'metrics', state: 'alive', value: 1 },
    { path: '/run/a.ring', group: 'metrics', state: 'dead', value: 0 },
  ]);
  expect(families.get('mmapipc_group_missed_messages_total')!.type).toBe('COUNTER');
  expect(families.get('mmapipc_group_lossy')!.type).toBe('GAUGE');

  // A ring whose groups were all removed (mmapipc group rm): no group family at all. (Help texts
  // of the ring's own families may still name one.)
  const withoutGroups = prometheusText([ring('/run/b.ring', 1)], '9.8.7');
  const names = parsePrometheusTextFormat(withoutGroups).map((family) => family.name);
  expect(names).toContain('mmapipc_messages_sent_total');
  expect(names.filter((name) => name.startsWith('mmapipc_group_'))).toEqual([]);
  expect(withoutGroups).not.toMatch(/^mmapipc_group_/m); // no sample line either
  expect(withoutGroups.endsWith('\n')).toBe(true);
});

test('a ring that could not be read has mmapipc_up 0 and no other sample; with no readable ring, only mmapipc_up', () => {
  const text = prometheusText([{ path: '/run/gone.ring', error: new Error('no such ring file') }, ring('/run/a.ring', 2)], '9.8.7');
  const families = parsePrometheusTextFormat(text);
  expect(families.find((family) => family.name === 'mmapipc_up')!.metrics).toEqual([
    { labels: { path: '/run/gone.ring' }, value: '0' },
    { labels: { path: '/run/a.ring' }, value: '1' },
  ]);
  const others = families.filter((family) => family.name !== 'mmapipc_up').flatMap((family) => family.metrics.map((sample) => sample.labels?.path));
  expect(new Set(others)).toEqual(new Set(['/run/a.ring']));
  expect(prometheusText([{ path: '/run/gone.ring', error: new Error('x') }], '9.8.7')).toBe(
    '# HELP mmapipc_up 1 if the ring file could be read, 0 if not (the error is on stderr; the ring has no other sample).\n# TYPE mmapipc_up gauge\nmmapipc_up{path="/run/gone.ring"} 0\n',
  );
});

test('label values escape backslash, double quote and newline, and nothing else', () => {
  expect(escapeLabelValue('a\\b"c\nd é')).toBe('a\\\\b\\"c\\nd é');
});

/** A readable ring for prometheusText. */
function ring(path: string, sent: number, groups: FakeGroup[] = []): PrometheusRing {
  return { path, snapshot: snapshot(path, sent, groups) };
}
