/**
 * SIGINT, SIGTERM and SIGHUP end a command cleanly: the handler aborts the command's signal,
 * sleeping waits wake up, the ring is left consistent, and the CLI exits 128 + the signal
 * number. A second signal while shutting down exits at once (the ring is consistent between
 * operations, which is the only time a handler runs).
 */
import { ExitCode } from '../errors.js';

export type HandledSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
const SIGNAL_EXIT: Record<HandledSignal, number> = { SIGINT: ExitCode.sigint, SIGTERM: ExitCode.sigterm, SIGHUP: ExitCode.sighup };

export interface Interrupt {
  readonly signal: AbortSignal;
  /** The signal that arrived, if any. */
  readonly received: () => HandledSignal | undefined;
  readonly exitCode: () => number | undefined;
  readonly dispose: () => void;
}

export function installInterrupt(onSecond: (code: number) => void): Interrupt {
  const controller = new AbortController();
  let received: HandledSignal | undefined;
  const handlers = new Map<HandledSignal, () => void>();
  for (const name of Object.keys(SIGNAL_EXIT) as HandledSignal[]) {
    const handler = () => {
      if (received !== undefined) {
        onSecond(SIGNAL_EXIT[name]);
        return;
      }
      received = name;
      controller.abort(name);
    };
    handlers.set(name, handler);
    process.on(name, handler);
  }
  // bin/mmapipc.js records signals that arrive while the program loads; take over from it.
  const early = globalThis as { mmapipcEarlySignal?: HandledSignal; mmapipcEarlyHandler?: (signal: HandledSignal) => void };
  if (early.mmapipcEarlyHandler) {
    for (const name of Object.keys(SIGNAL_EXIT)) process.off(name, early.mmapipcEarlyHandler);
    early.mmapipcEarlyHandler = undefined;
  }
  if (early.mmapipcEarlySignal) handlers.get(early.mmapipcEarlySignal)?.();
  return {
    signal: controller.signal,
    received: () => received,
    exitCode: () => (received === undefined ? undefined : SIGNAL_EXIT[received]),
    dispose: () => handlers.forEach((handler, name) => process.off(name, handler)),
  };
}
