/**
 * `mmapipc stat --prometheus`: rings' figures in the Prometheus text exposition format (0.0.4),
 * for the node_exporter textfile collector or any scraper. Pure: snapshots in, text out.
 *
 * Every figure is one entry of FAMILIES (or GROUP_FAMILIES, per consumer group), read from the
 * same record `stat --json` prints, so a new figure is one more entry here. Each family is
 * written once, HELP and TYPE first, with one sample per ring (label `path`) and, for groups,
 * per group (label `group`), as the format requires.
 *
 * Counters only ever grow: each is a count the ring file stores as things happen (sent, finished
 * by members, released, redelivered), never a difference of cursors, which group create, reset
 * and rm move back. A group's counters start at 0 when the group is (re)created; its
 * mmapipc_group_created_timestamp_seconds says when, as process_start_time_seconds does for a
 * process. A ring that cannot be read has `mmapipc_up 0` and no other sample.
 */
import type { RingSnapshot } from '../../ring-file/observe.js';
import { statRecord, type StatRecord } from './stat-view.js';

/** A consumer group's figures (from `stat --json`'s groups). */
export interface GroupFigures {
  readonly name: string;
  /** Messages the group is behind the tail. */
  readonly lag: number;
  readonly inFlight: number;
  readonly redelivered: number;
  /** Messages a lossy group missed when senders lapped it. */
  readonly missed: number;
  readonly lossy: boolean;
  readonly members: { readonly alive: number; readonly dead: number };
  /** Next position the group hands out. */
  readonly position: number;
  /** Times a lossy group found itself lapped. */
  readonly gaps: number;
  /** Messages the group's members finished since it was created. */
  readonly delivered: number;
  /** When the group was created (ISO 8601), or null when unknown. */
  readonly createdAt: string | null;
}

/** What stat reads from a ring. */
export type PrometheusSnapshot = RingSnapshot;

/** One ring of the exposition: its snapshot, or why it could not be read. */
export type PrometheusRing = { readonly path: string; readonly snapshot: PrometheusSnapshot } | { readonly path: string; readonly error: Error };

type Labels = Readonly<Record<string, string>>;
interface Sample {
  readonly labels?: Labels;
  readonly value: number;
}

interface Family<T> {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly samples: (figures: T) => readonly Sample[];
}

const byState = (counts: { alive: number; dead: number }): Sample[] => [
  { labels: { state: 'alive' }, value: counts.alive },
  { labels: { state: 'dead' }, value: counts.dead },
];

/** The reader's own version, for mmapipc_info. */
interface RingFigures {
  readonly record: StatRecord;
  readonly version: string;
}

const FAMILIES: ReadonlyArray<Family<RingFigures>> = [
  {
    name: 'mmapipc_info',
    type: 'gauge',
    help: 'Always 1: the ring file format version, its slots and slot size, and the version of mmapipc that read it, as labels.',
    samples: ({ record, version }) => [
      { labels: { format_version: String(record.formatVersion), slots: String(record.slots), slot_size: String(record.slotSize), version }, value: 1 },
    ],
  },
  { name: 'mmapipc_messages_sent_total', type: 'counter', help: 'Messages sent into the ring since it was created.', samples: ({ record: r }) => [{ value: r.sent }] },
  {
    name: 'mmapipc_messages_received_total',
    type: 'counter',
    help: 'Messages finished by the members of every group since the ring was created (a redelivered message counts again).',
    samples: ({ record: r }) => [{ value: r.delivered }],
  },
  {
    name: 'mmapipc_head_position',
    type: 'gauge',
    help: 'The oldest position the slowest lossless group has not finished (moves back when a group is created or reset earlier).',
    samples: ({ record: r }) => [{ value: r.head }],
  },
  { name: 'mmapipc_messages_waiting', type: 'gauge', help: 'Messages the slowest lossless group has not finished: what holds senders back.', samples: ({ record: r }) => [{ value: r.waiting }] },
  { name: 'mmapipc_capacity_messages', type: 'gauge', help: 'Slots in the ring: the most messages it holds.', samples: ({ record: r }) => [{ value: r.slots }] },
  { name: 'mmapipc_slot_size_bytes', type: 'gauge', help: 'The payload a one-slot message holds, in bytes (longer messages take several slots).', samples: ({ record: r }) => [{ value: r.slotSize }] },
  { name: 'mmapipc_max_message_bytes', type: 'gauge', help: 'The largest message the ring takes, in bytes (one that fills every slot).', samples: ({ record: r }) => [{ value: r.maxMessageBytes }] },
  { name: 'mmapipc_senders', type: 'gauge', help: 'Senders attached to the ring, by whether their process is alive.', samples: ({ record: r }) => byState(r.senders) },
  { name: 'mmapipc_receivers', type: 'gauge', help: 'Receivers attached to the ring, by whether their process is alive.', samples: ({ record: r }) => byState(r.receivers) },
  {
    name: 'mmapipc_released_slots_total',
    type: 'counter',
    help: 'Claims released after their sender died while writing (recovery).',
    samples: ({ record: r }) => [{ value: r.releasedSlots }],
  },
  {
    name: 'mmapipc_redelivered_messages_total',
    type: 'counter',
    help: 'Messages handed to another receiver after the one holding them died.',
    samples: ({ record: r }) => [{ value: r.redelivered }],
  },
  {
    name: 'mmapipc_last_activity_timestamp_seconds',
    type: 'gauge',
    help: 'When a sender or receiver last marked activity, in seconds since the epoch.',
    samples: ({ record: r }) => (r.lastActivity === null ? [] : [{ value: Date.parse(r.lastActivity) / 1000 }]),
  },
];

const GROUP_FAMILIES: ReadonlyArray<Family<GroupFigures>> = [
  {
    name: 'mmapipc_group_delivered_messages_total',
    type: 'counter',
    help: "Messages the group's members finished since the group was created (a redelivered message counts again).",
    samples: (g) => [{ value: g.delivered }],
  },
  {
    name: 'mmapipc_group_created_timestamp_seconds',
    type: 'gauge',
    help: "When the group was created, in seconds since the epoch: the group's counters start at 0 then.",
    samples: (g) => (g.createdAt === null ? [] : [{ value: Date.parse(g.createdAt) / 1000 }]),
  },
  { name: 'mmapipc_group_lag_messages', type: 'gauge', help: 'Messages the group is behind the newest one.', samples: (g) => [{ value: g.lag }] },
  { name: 'mmapipc_group_in_flight_messages', type: 'gauge', help: "Messages taken by the group's members and not yet done.", samples: (g) => [{ value: g.inFlight }] },
  {
    name: 'mmapipc_group_redelivered_messages_total',
    type: 'counter',
    help: 'Messages the group delivered again after a member died before finishing them.',
    samples: (g) => [{ value: g.redelivered }],
  },
  { name: 'mmapipc_group_missed_messages_total', type: 'counter', help: 'Messages a lossy group missed because senders lapped it.', samples: (g) => [{ value: g.missed }] },
  { name: 'mmapipc_group_gaps_total', type: 'counter', help: 'Times a lossy group found senders had lapped it (each a gap of one or more messages).', samples: (g) => [{ value: g.gaps }] },
  { name: 'mmapipc_group_position', type: 'gauge', help: 'Sequence number of the next message the group hands out.', samples: (g) => [{ value: g.position }] },
  { name: 'mmapipc_group_lossy', type: 'gauge', help: '1 if the group is lossy (never slows senders), 0 if lossless.', samples: (g) => [{ value: g.lossy ? 1 : 0 }] },
  { name: 'mmapipc_group_members', type: 'gauge', help: 'Members of the group, by whether their process is alive.', samples: (g) => byState(g.members) },
];

/** A label value as the format wants it: backslash, double quote and newline escaped. */
export const escapeLabelValue = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
/** HELP text: backslash and newline escaped. */
const escapeHelp = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function sampleLine(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([key, text]) => `${key}="${escapeLabelValue(text)}"`);
  const number = Number.isNaN(value) ? 'NaN' : value === Infinity ? '+Inf' : value === -Infinity ? '-Inf' : String(value);
  return `${name}{${pairs.join(',')}} ${number}`;
}

function familyLines<T>(family: Family<T>, sources: ReadonlyArray<{ labels: Labels; figures: T }>): string[] {
  const samples = sources.flatMap(({ labels, figures }) =>
    family.samples(figures).map((sample) => sampleLine(family.name, { ...labels, ...sample.labels }, sample.value)),
  );
  if (samples.length === 0) return [];
  return [`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`, ...samples];
}

const UP: Family<boolean> = {
  name: 'mmapipc_up',
  type: 'gauge',
  help: '1 if the ring file could be read, 0 if not (the error is on stderr; the ring has no other sample).',
  samples: (up) => [{ value: up ? 1 : 0 }],
};

/**
 * The exposition of every ring in `rings` (readable or not), one family after another, ending
 * in a newline. `version` is the reader's own (mmapipc_info).
 */
export function prometheusText(rings: readonly PrometheusRing[], version: string): string {
  const readable = rings.flatMap((ring) => ('snapshot' in ring ? [{ path: ring.path, record: statRecord(ring.snapshot) }] : []));
  const up = rings.map((ring) => ({ labels: { path: ring.path }, figures: 'snapshot' in ring }));
  const figures = readable.map(({ path, record }) => ({ labels: { path }, figures: { record, version } }));
  const groups = readable.flatMap(({ path, record }) => record.groups.map((group) => ({ labels: { path, group: group.name }, figures: group })));
  const lines = [
    ...familyLines(UP, up),
    ...FAMILIES.flatMap((family) => familyLines(family, figures)),
    ...GROUP_FAMILIES.flatMap((family) => familyLines(family, groups)),
  ];
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
