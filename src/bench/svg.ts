/** The bench chart as hand-written SVG: throughput bars per transport and size, latency percentiles, fan-out CPU per message. Log scales. */
import { MESSAGE_SIZES, SENDER_COUNTS, TRANSPORT_NAMES, sizeName, type Transport } from './protocol.js';
import { rate } from './report.js';
import type { BenchReport } from './run.js';
import { TARGETS, TARGET_MESSAGE_SIZE, TARGET_PAUSE_US } from './targets.js';

const WIDTH = 960;
const PANEL_HEIGHT = 300;
const MARGIN = { left: 70, right: 20, top: 50, bottom: 70 };
const TRANSPORT_COLORS: Record<Transport, string> = { mmapipc: '#1f77b4', 'mmapipc-batch': '#9467bd', ipc: '#d62728', socket: '#2ca02c', fifo: '#ff7f0e', 'mmapipc-copy': '#7f7f7f', 'mmapipc-zero-copy': '#17becf' };
const SHORT_NAMES: Record<Transport, string> = { mmapipc: 'mmapipc', 'mmapipc-batch': 'batch', ipc: 'IPC', socket: 'socket', fifo: 'pipe', 'mmapipc-copy': 'copying', 'mmapipc-zero-copy': 'zero-copy' };
const PERCENTILE_COLORS = ['#1f77b4', '#ff7f0e', '#d62728'];
const SENDER_COLOR = '#8c564b';
const MEMBER_COLORS = ['#17becf', '#bcbd22', '#e377c2'];
const FONT = 'font-family="sans-serif"';
const FONT_SIZE = 11;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function text(x: number, y: number, content: string, extra = '', size = FONT_SIZE): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT} font-size="${size}" ${extra}>${escape(content)}</text>`;
}

interface Bar {
  readonly value: number;
  readonly color: string;
  readonly label: string;
}

interface Group {
  readonly name: string;
  readonly bars: readonly Bar[];
}

/** A dashed line across a panel at a target value. */
interface Reference {
  readonly value: number;
  readonly label: string;
}

/** One panel of grouped bars on a log10 axis, its top edge at `top`. */
function panel(
  top: number,
  title: string,
  unit: string,
  groups: readonly Group[],
  format: (value: number) => string,
  references: readonly Reference[] = [],
): string {
  const bars = groups.flatMap((group) => group.bars.map((bar) => bar.value)).filter((value) => value > 0 && Number.isFinite(value));
  if (bars.length === 0) return text(MARGIN.left, top + 20, `${title}: no data`);
  const values = [...bars, ...references.map((reference) => reference.value)];
  const low = Math.floor(Math.log10(Math.min(...values)));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(...values))));
  const plotTop = top + MARGIN.top;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const y = (value: number) => plotTop + plotHeight - ((Math.log10(value) - low) / (high - low)) * plotHeight;
  const parts = [text(MARGIN.left, top + 22, title, 'font-weight="bold"', 14)];
  for (let power = low; power <= high; power++) {
    const gy = y(10 ** power);
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${gy.toFixed(1)}" y2="${gy.toFixed(1)}" stroke="#ddd"/>`);
    parts.push(text(MARGIN.left - 6, gy + 4, format(10 ** power), 'text-anchor="end"'));
  }
  parts.push(text(14, plotTop + plotHeight / 2, unit, `transform="rotate(-90 14 ${(plotTop + plotHeight / 2).toFixed(1)})" text-anchor="middle"`));
  const groupWidth = plotWidth / groups.length;
  groups.forEach((group, g) => {
    const barWidth = Math.min(36, (groupWidth * 0.8) / Math.max(1, group.bars.length));
    const start = MARGIN.left + g * groupWidth + (groupWidth - barWidth * group.bars.length) / 2;
    group.bars.forEach((bar, b) => {
      if (!(bar.value > 0)) return;
      const x = start + b * barWidth;
      const barTop = y(bar.value);
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${barTop.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(plotTop + plotHeight - barTop).toFixed(1)}" fill="${bar.color}"><title>${escape(`${group.name}, ${bar.label}: ${format(bar.value)}`)}</title></rect>`,
      );
      parts.push(text(x + barWidth / 2 - 1, barTop - 3, format(bar.value), 'text-anchor="middle"', 9));
    });
    const [first, second] = group.name.split('\n');
    const labelX = MARGIN.left + (g + 0.5) * groupWidth;
    parts.push(text(labelX, plotTop + plotHeight + 16, first!, 'text-anchor="middle"'));
    if (second) parts.push(text(labelX, plotTop + plotHeight + 30, second, 'text-anchor="middle"'));
  });
  // Targets last, so they sit on top of the bars; the white halo keeps the label readable.
  for (const reference of references) {
    const ry = y(reference.value).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${ry}" y2="${ry}" stroke="#555" stroke-dasharray="6 4"/>`);
    parts.push(text(WIDTH - MARGIN.right, Number(ry) - 4, reference.label, 'text-anchor="end" fill="#333" stroke="white" stroke-width="3" paint-order="stroke"', 10));
  }
  return parts.join('\n');
}

function legend(top: number, entries: ReadonlyArray<readonly [string, string]>): string {
  return entries
    .map(([label, color], i) => {
      const x = MARGIN.left + i * 170;
      return `<rect x="${x}" y="${top}" width="12" height="12" fill="${color}"/>${text(x + 16, top + 10, label)}`;
    })
    .join('\n');
}

export function chartSvg(report: BenchReport): string {
  const transports = [...new Set(report.throughput.map((r) => r.transport))];
  const throughputGroups: Group[] = MESSAGE_SIZES.flatMap((size) =>
    SENDER_COUNTS.map((senders) => ({
      name: `${sizeName(size)}, ${senders}->1`,
      bars: transports.map((transport) => {
        const result = report.throughput.find((r) => r.transport === transport && r.size === size && r.senders === senders && r.verified);
        return { value: result?.messagesPerSecond ?? 0, color: TRANSPORT_COLORS[transport], label: TRANSPORT_NAMES[transport] };
      }),
    })),
  );
  // The unpinned rows of the target size: the pinned ones and the 1 KiB ones are in the table.
  const latencyGroups: Group[] = report.latency
    .filter((r) => r.verified && r.placement === 'any' && r.size === TARGET_MESSAGE_SIZE)
    .map((r) => ({
      name: `${SHORT_NAMES[r.transport]}${r.mode === 'event-loop' ? '' : ` ${r.mode}`}\npause ${r.pauseUs} µs`,
      bars: [r.p50Us, r.p99Us, r.p999Us].map((value, i) => ({ value, color: PERCENTILE_COLORS[i]!, label: ['p50', 'p99', 'p99.9'][i]! })),
    }));
  // Fan-out: CPU per message of each process, beside the work-queue batch row's sender and receiver.
  const queue = report.throughput.find((r) => r.transport === 'mmapipc-batch' && r.size === TARGET_MESSAGE_SIZE && r.senders === 1 && r.verified);
  const cpuGroups: Group[] = [
    ...(queue?.cpuNsPerMessage
      ? [{
          name: 'work queue\n(default group)',
          bars: [
            { value: queue.cpuNsPerMessage.sender, color: SENDER_COLOR, label: 'sender' },
            { value: queue.cpuNsPerMessage.receiver, color: MEMBER_COLORS[0]!, label: 'receiver' },
          ],
        }]
      : []),
    ...report.fanOut
      .filter((r) => r.verified)
      .map((r) => ({
        name: `fan-out\n${r.groups} group${r.groups === 1 ? '' : 's'}`,
        bars: [
          { value: r.cpuNsPerMessage.sender, color: SENDER_COLOR, label: 'sender' },
          ...r.cpuNsPerMessage.members.map((value, i) => ({ value, color: MEMBER_COLORS[i % MEMBER_COLORS.length]!, label: `member of ${r.perGroup[i]?.group ?? i}` })),
        ],
      })),
  ];
  const panels = cpuGroups.length > 0 ? 3 : 2;
  const height = PANEL_HEIGHT * panels + 40;
  const { machine } = report;
  const subtitle = `${machine.cores} cores, ${machine.cpu}, Node ${machine.node}${report.quick ? ' (quick run)' : ''}`;
  const body = [
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    panel(0, 'Throughput: messages per second (log scale)', 'messages/s', throughputGroups, rate, [
      { value: TARGETS.oneToOneRate, label: `target 64 B 1->1: ${rate(TARGETS.oneToOneRate)}` },
      { value: TARGETS.fourToOneRate, label: `target 64 B 4->1: ${rate(TARGETS.fourToOneRate)}` },
    ]),
    legend(PANEL_HEIGHT - 30, transports.map((t) => [TRANSPORT_NAMES[t], TRANSPORT_COLORS[t]] as const)),
    panel(PANEL_HEIGHT, `Ping-pong round trip, ${sizeName(TARGET_MESSAGE_SIZE)}, in µs (log scale)`, 'µs', latencyGroups, (v) => (v >= 10 ? v.toFixed(0) : v.toFixed(1)), [
      { value: TARGETS.spinP50Us, label: `target p50, spinning: ${TARGETS.spinP50Us} µs` },
      { value: TARGETS.sleepP50Us, label: `target p50, sleeping (pause ${TARGET_PAUSE_US} µs): ${TARGETS.sleepP50Us} µs` },
    ]),
    legend(PANEL_HEIGHT * 2 - 30, [
      ['p50', PERCENTILE_COLORS[0]!],
      ['p99', PERCENTILE_COLORS[1]!],
      ['p99.9', PERCENTILE_COLORS[2]!],
    ]),
    ...(cpuGroups.length > 0
      ? [
          panel(PANEL_HEIGHT * 2, `CPU time per message, ${sizeName(TARGET_MESSAGE_SIZE)}, mmapipc batch, in ns (log scale)`, 'ns', cpuGroups, (v) => v.toFixed(0)),
          legend(PANEL_HEIGHT * 3 - 30, [
            ['sender', SENDER_COLOR],
            ['receiver / member of g1', MEMBER_COLORS[0]!],
            ['member of g2', MEMBER_COLORS[1]!],
            ['member of g3', MEMBER_COLORS[2]!],
          ]),
        ]
      : []),
    text(WIDTH - MARGIN.right, height - 12, `mmapipc bench: ${subtitle}`, 'text-anchor="end" fill="#555"'),
  ];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">\n${body.join('\n')}\n</svg>\n`;
}
