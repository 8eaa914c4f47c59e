/** The bench report as text for a terminal: the tables, the CLI figures, and each target with its verdict. */
import type { ChalkInstance } from 'chalk';
import { DEFAULT_SLOT_SIZE } from '../layout/ring-layout.js';
import { MIN_MESSAGE_SIZE } from './payload.js';
import { LOG_NORMAL } from './sizes.js';
import { MMAPIPC_TRANSPORTS, PLACEMENT_NAMES, RING_BYTES, TRANSPORT_NAMES, modeName, sizeName, type ThroughputResult, type Transport } from './protocol.js';
import type { BenchReport } from './run.js';
import { checkTargets, throughputOf, type TargetCheck } from './targets.js';

const KIB_PER_MB = 1024;

export function rate(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(0);
}

function micros(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function ratio(value: number): string {
  return value >= 10 ? `${value.toFixed(0)}x` : `${value.toFixed(2)}x`;
}

/** CPU ns per message, or '-' when not measured. */
function cpuNs(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(0);
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return `  ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}`.trimEnd();
}

function targetValue(check: TargetCheck): string {
  if (check.unit === 'msg/s' || check.unit === 'lines/s') return `${rate(check.measured)} ${check.unit}`;
  if (check.unit === 'x') return ratio(check.measured);
  if (check.unit === 'us') return `${micros(check.measured)} µs`;
  return `${check.measured.toFixed(2)} ${check.unit}`;
}

function targetBound(check: TargetCheck): string {
  const sign = check.kind === 'min' ? '≥' : '≤';
  if (check.unit === 'msg/s' || check.unit === 'lines/s') return `${sign} ${rate(check.target)}`;
  if (check.unit === 'x') return `${sign} ${check.target}x`;
  return `${sign} ${check.target} ${check.unit === 'us' ? 'µs' : check.unit}`;
}

export function targetLine(check: TargetCheck, color: ChalkInstance): string {
  const verdict = check.met ? color.green('MET') : color.red('MISSED');
  const rows = check.alike ? 'both rows' : 'row:';
  const name = check.row ? `${check.name} (${rows} ${check.row}${check.best ? ', the best library-API row' : ''})` : check.name;
  return `${name}: ${targetValue(check)} — target ${targetBound(check)}: ${verdict} (${ratio(check.ratio)} of target)`;
}

/** How many times faster an mmapipc row is than each alternative of the same size and senders. */
function versus(report: BenchReport, own: ThroughputResult): string {
  const { size, senders } = own;
  const others: Transport[] = ['ipc', 'socket', 'fifo'];
  return others
    .map((transport) => {
      const other = throughputOf(report, transport, size, senders);
      return other ? `${ratio(own.messagesPerSecond / other.messagesPerSecond)} ${transport === 'fifo' ? 'pipe' : transport}` : '';
    })
    .filter(Boolean)
    .join(', ');
}

export function formatReport(report: BenchReport, color: ChalkInstance): string {
  const lines: string[] = [];
  const { machine } = report;
  lines.push(
    color.bold(`mmapipc bench: ${machine.cores} cores, ${machine.cpu}, Node ${machine.node}, ${machine.platform} (${report.quick ? 'quick run' : 'full run'})`),
    `load average (1 min) ${report.load.before.toFixed(2)} before, ${report.load.after.toFixed(2)} after: other processes share the cores`,
    '',
    color.bold('Throughput') + ' (every message counted and checked)',
  );
  lines.push(color.dim('  CPU ns/msg: each side\'s CPU time (user + system, all senders together) per message'));
  const tw = [18, 6, 7, 10, 9, 11, 14, 0];
  lines.push(color.dim(row(['transport', 'size', 'senders', 'msg/s', 'MB/s', 'messages', 'CPU send/recv', ''], tw)));
  for (const r of report.throughput) {
    const vs = r.verified && MMAPIPC_TRANSPORTS.includes(r.transport) ? versus(report, r) : '';
    const cpu = r.cpuNsPerMessage ? `${cpuNs(r.cpuNsPerMessage.sender)}/${cpuNs(r.cpuNsPerMessage.receiver)}` : '-';
    const cells = [TRANSPORT_NAMES[r.transport], sizeName(r.size), `${r.senders}->1`, rate(r.messagesPerSecond), r.megabytesPerSecond.toFixed(1), count(r.delivered), cpu, vs];
    lines.push(r.verified ? row(cells, tw) : color.red(`${row(cells.slice(0, 3), tw)}  FAILED: ${r.error}`));
  }
  if (report.sizes.length > 0) {
    lines.push(
      '',
      `${color.bold('Messages of any size')} (format v3: 1 sender -> 1 receiver, rings of ${sizeName(RING_BYTES)} of ${DEFAULT_SLOT_SIZE}-byte slots; every message counted and checked)`,
      color.dim(`  log-normal: median ${LOG_NORMAL.medianBytes} B, σ ${LOG_NORMAL.sigma}, ${MIN_MESSAGE_SIZE} B to ${sizeName(LOG_NORMAL.maxBytes)}, seed ${LOG_NORMAL.seed}; GB/s: payload bytes / 10^9 per second`),
    );
    const sw = [18, 10, 10, 8, 11, 14];
    lines.push(color.dim(row(['transport', 'size', 'msg/s', 'GB/s', 'messages', 'CPU send/recv'], sw)));
    for (const r of report.sizes) {
      const cpu = r.cpuNsPerMessage ? `${cpuNs(r.cpuNsPerMessage.sender)}/${cpuNs(r.cpuNsPerMessage.receiver)}` : '-';
      const cells = [TRANSPORT_NAMES[r.transport], sizeName(r.size), rate(r.messagesPerSecond), r.gigabytesPerSecond.toFixed(2), count(r.delivered), cpu];
      lines.push(r.verified ? row(cells, sw) : color.red(`${row(cells.slice(0, 2), sw)}  FAILED: ${r.error}`));
    }
  }
  if (report.fanOut.length > 0) {
    lines.push(
      '',
      `${color.bold('Fan-out')} (mmapipc batch, 64 B: 1 sender to N consumer groups of one member each, every process its own;`,
      '  every group gets and checks every message; CPU ns per message of each process)',
    );
    const fw = [8, 11, 22, 11, 12, 20];
    lines.push(color.dim(row(['groups', 'msg/s', 'per group msg/s', 'messages', 'sender CPU', 'member CPU'], fw)));
    for (const r of report.fanOut) {
      const cells = [
        String(r.groups),
        rate(r.messagesPerSecond),
        r.perGroup.map((g) => rate(g.messagesPerSecond).replace(' ', '')).join(', '),
        count(r.delivered),
        `${cpuNs(r.cpuNsPerMessage.sender)} ns`,
        `${r.cpuNsPerMessage.members.map(cpuNs).join(', ')} ns`,
      ];
      lines.push(r.verified ? row(cells, fw) : color.red(`${row(cells.slice(0, 1), fw)}  FAILED: ${r.error}`));
    }
  }
  lines.push('', `${color.bold('Ping-pong round trip')} (µs, one message each way; the pinger pauses before each ping)`);
  const lw = [33, 6, 7, 9, 8, 8, 8, 8];
  lines.push(color.dim(row(['transport', 'size', 'pause', 'CPUs', 'p50', 'p99', 'p99.9', 'rounds'], lw)));
  let group = '';
  for (const r of report.latency) {
    const key = `${r.placement} ${r.size} ${r.pauseUs}`;
    if (group !== '' && key !== group) lines.push('');
    group = key;
    const cells = [modeName(r), sizeName(r.size), `${r.pauseUs} µs`, PLACEMENT_NAMES[r.placement], micros(r.p50Us), micros(r.p99Us), micros(r.p999Us), count(r.delivered)];
    lines.push(r.verified ? row(cells, lw) : color.red(`${row(cells.slice(0, 4), lw)}  FAILED: ${r.error}`));
  }
  const { pipeline, startup, sendStartup, memory } = report.cli;
  if (pipeline || startup || sendStartup || memory) lines.push('', color.bold('CLI'));
  if (pipeline) {
    lines.push(
      pipeline.verified
        ? `  pipeline  ${count(pipeline.lines)} lines, send | receive --count: ${pipeline.seconds.toFixed(2)} s, ${rate(pipeline.linesPerSecond)} lines/s`
        : color.red(`  pipeline  FAILED: ${pipeline.error}`),
    );
  }
  if (startup) {
    lines.push(
      `  start-up  mmapipc --version ${startup.mmapipcMs.toFixed(0)} ms, node -e 0 ${startup.nodeMs.toFixed(0)} ms (medians of ${startup.runs}): ${ratio(startup.ratio)}`,
    );
  }
  if (sendStartup) {
    lines.push(
      `  one-shot  mmapipc send --file R x (existing ring) ${sendStartup.mmapipcMs.toFixed(0)} ms, node -e 0 ${sendStartup.nodeMs.toFixed(0)} ms (medians of ${sendStartup.runs}): ${ratio(sendStartup.ratio)}`,
    );
  }
  if (memory) {
    const mb = (kib: number) => `${(kib / KIB_PER_MB).toFixed(1)} MB`;
    lines.push(
      memory.verified
        ? `  memory    receive --follow over ${count(memory.messages)} messages (${memory.seconds.toFixed(1)} s) after ${count(memory.warmupMessages)} of warm-up: RSS ${mb(memory.startKiB)} at start, ${mb(memory.midKiB)} halfway, ${mb(memory.endKiB)} at end, ${mb(memory.peakKiB)} peak`
        : color.red(`  memory    FAILED: ${memory.error}`),
    );
  }
  lines.push('', `${color.bold('Targets')} (the project's benchmark targets, not tests; see docs/performance.md)`);
  for (const check of checkTargets(report)) lines.push(`  ${targetLine(check, color)}`);
  if (report.failures.length > 0) {
    lines.push('', color.red.bold(`FAILED: ${report.failures.length} measurement(s) did not deliver every message intact`));
    for (const failure of report.failures) lines.push(color.red(`  ${failure}`));
  }
  return `${lines.join('\n')}\n`;
}
