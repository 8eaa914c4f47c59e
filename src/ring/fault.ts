/**
 * Fault-injection points: named steps inside a claim at which a test can make a process stop
 * or die, so that every window of the protocol is hit deterministically rather than by luck.
 * The ring calls the hook (when one is set) as it passes each step; what happens there is up to
 * the caller (see src/sys/fault-hook.ts: MMAPIPC_FAULT=step[@n][:stop|kill]).
 */
export const FAULT_STEPS = [
  /** Sender: intent recorded, tail not yet moved. */
  'send-intent',
  /** Sender: positions claimed, slot not yet touched. */
  'send-claimed',
  /** Sender: slot marked busy, half of the payload written. */
  'send-payload',
  /** Sender: message written, sequence word not yet published. */
  'send-publish',
  /** Member: run recorded in its entry, group cursor not yet moved. */
  'receive-intent',
  /** Member: run claimed, nothing handed on yet. */
  'receive-claimed',
  /** Member: messages handed to the handler (written out by the CLI), run not yet finished. */
  'receive-handled',
  /** Member: about to mark the run finished. */
  'receive-ack',
  /** Sleeper on the bell: counted among the bell listeners and found the waiting word unchanged, not yet waiting. */
  'sleep-checked',
] as const;

export type FaultStep = (typeof FAULT_STEPS)[number];
export type Fault = (step: FaultStep) => void;
