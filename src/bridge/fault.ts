/**
 * Fault-injection points of the bridge's own start, for tests (the ring's are in
 * src/ring/fault.ts): MMAPIPC_BRIDGE_FAULT=STEP makes the bridge stop itself with SIGSTOP when it
 * reaches STEP, so that a test can change the engine in that window and then resume it. Unset,
 * it costs one environment lookup per start.
 */
export const BRIDGE_FAULT_STEPS = [
  /** Export: the ring's group joined (or created), the loop's first question to the engine not asked yet. */
  'export-attached',
] as const;

export type BridgeFaultStep = (typeof BRIDGE_FAULT_STEPS)[number];

export function bridgeFault(step: BridgeFaultStep, spec = process.env.MMAPIPC_BRIDGE_FAULT): void {
  if (spec === step) process.kill(process.pid, 'SIGSTOP');
}
