/** Running the fixture programs of test/fixtures with node, on the built library in dist/. */
import { fileURLToPath } from 'node:url';
import { LiveCli } from './cli.js';

export const RING_PEER = fileURLToPath(new URL('../fixtures/ring-peer.mjs', import.meta.url));

/** Starts `ring-peer.mjs <args>`; its stdout lines can be awaited. */
export function startPeer(args: string[], env: NodeJS.ProcessEnv = {}): LiveCli {
  return new LiveCli(args, { script: RING_PEER, env, stdin: 'ignore' });
}

/** Runs a peer to its end; rejects unless it exits 0 with nothing on stderr. Returns its stdout lines. */
export async function runPeer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const peer = startPeer(args, env);
  const { code, signal } = await peer.exited;
  if (code !== 0 || peer.stderr !== '') throw new Error(`ring-peer ${args.join(' ')} exited ${code ?? signal}: ${peer.stderr}`);
  return peer.lines;
}

export const WAKE_PEER = fileURLToPath(new URL('../fixtures/wake-peer.mjs', import.meta.url));

/** Starts `wake-peer.mjs <args>` (the wake protocol's sleeper and waker); its stdout lines can be awaited. */
export function startWakePeer(args: string[], env: NodeJS.ProcessEnv = {}): LiveCli {
  return new LiveCli(args, { script: WAKE_PEER, env, stdin: 'ignore' });
}

/** Runs a wake peer to its end; rejects unless it exits 0 with nothing on stderr. Returns its stdout lines. */
export async function runWakePeer(args: string[]): Promise<string[]> {
  const peer = startWakePeer(args);
  const { code, signal } = await peer.exited;
  if (code !== 0 || peer.stderr !== '') throw new Error(`wake-peer ${args.join(' ')} exited ${code ?? signal}: ${peer.stderr}`);
  return peer.lines;
}
