/**
 * Running bridges and their far ends in tests: the real binary (`mmapipc bridge ... --json
 * --verbose`, whose JSON log lines are the events tests wait for) and test/fixtures/bridge-peer.mjs.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { BIN } from './cli.js';
import { PeerProcess } from './peer-process.js';

export const BRIDGE_PEER = fileURLToPath(new URL('../fixtures/bridge-peer.mjs', import.meta.url));

/** How long any one awaited event may take before the test reports a wedge (a bound, not a sleep). */
export const EVENT_DEADLINE_MS = 20_000;

export type BridgeEvent = Record<string, unknown> & { event: string };

/** Every process started here, so that a failed test leaves none running. */
const started = new Set<PeerProcess>();

function track(process: PeerProcess): PeerProcess {
  started.add(process);
  void process.exited.then(() => started.delete(process));
  return process;
}

/** SIGKILLs whatever a test left running (after a failure), saying what it was doing, and waits for it. */
export async function killStragglers(): Promise<void> {
  const left = [...started];
  for (const process of left) {
    const args = process.child.spawnargs.slice(2, 5).join(' ');
    globalThis.process.stderr.write(`left running: ${args}; last lines: ${process.lines.slice(-4).join(' | ')}; stderr: ${process.stderr.slice(-500)}\n`);
    process.kill('SIGKILL');
  }
  await Promise.all(left.map((process) => process.exited));
}

/** Starts `mmapipc bridge <args> --json --verbose`. */
export function startBridge(args: string[], env: NodeJS.ProcessEnv = {}): PeerProcess {
  return track(new PeerProcess(BIN, ['bridge', ...args, '--json', '--verbose'], env));
}

/** Starts a bridge-peer.mjs mode. */
export function startPeer(args: string[], stdin: 'ignore' | 'pipe' = 'ignore', env: NodeJS.ProcessEnv = {}): PeerProcess {
  return track(new PeerProcess(BRIDGE_PEER, args, env, stdin));
}

export function events(process: PeerProcess, name?: string): BridgeEvent[] {
  const list: BridgeEvent[] = [];
  for (const line of process.lines) {
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line) as BridgeEvent;
    if (name === undefined || event.event === name) list.push(event);
  }
  return list;
}

/** Messages the bridge has reported as committed so far. */
export function committed(process: PeerProcess): number {
  return events(process, 'commit').reduce((sum, event) => sum + (event.messages as number), 0);
}

/** The last ring sequence the bridge reported as committed (-1: none yet). */
export function lastRingSequence(process: PeerProcess): number {
  return events(process, 'commit').reduce((last, event) => Math.max(last, event.ringSequence as number), -1);
}

/** Waits for the process to exit; rejects unless it exits 0. Returns its last stdout line. */
export async function finished(process: PeerProcess, what: string): Promise<string> {
  const exit = await process.exited;
  if (exit.code !== 0) throw new Error(`${what} exited ${exit.code ?? exit.signal}; stderr: ${process.stderr}; last lines: ${process.lines.slice(-3).join(' | ')}`);
  return process.lines[process.lines.length - 1] ?? '';
}

/** Runs a bridge-peer.mjs mode to its end and parses its JSON report. */
export async function peerReport<T>(args: string[]): Promise<T> {
  return JSON.parse(await finished(startPeer(args), `bridge-peer ${args[0]}`)) as T;
}

export interface ExportCheck {
  count: number;
  firstRingSeq: number | null;
  lastRingSeq: number | null;
  gaps: number;
  repeats: number;
  mismatches: number;
  firstProblem: string | null;
  senders: Record<string, number>;
}

export interface ImportReport {
  received: number;
  distinct: number;
  duplicates: number;
  rewinds: number;
  maxRewind: number;
  unframed: number;
  outOfOrder: number;
  mismatches: number;
  firstMismatch: unknown;
}

/** Re-checks an async `condition` until it holds; throws after `timeoutMs` (a bound, not a sleep). */
export async function untilAsync(condition: () => Promise<boolean>, what: string, timeoutMs = EVENT_DEADLINE_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/** A bridge's status file, as `bridge stat` reads it. */
export function bridgeStatus(ring: string, name: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(`${ring}.bridge/${name}.status.json`, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
