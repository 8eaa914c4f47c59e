/**
 * The fault-injection hook for tests: MMAPIPC_FAULT=STEP[@N][:stop|:kill] makes this process
 * stop itself with SIGSTOP (default) or die with SIGKILL the Nth time (default first) it passes
 * STEP (see src/ring/fault.ts for the steps). Just before, it writes one line to stderr,
 * `mmapipc: fault: pid PID stops at STEP` (or `dies at STEP`), so a test can wait for that line
 * (then for /proc/PID/stat state T), drive the ring with other processes, then resume or kill
 * it. Unset, it costs nothing.
 */
import { writeSync } from 'node:fs';
import { FAULT_STEPS, type Fault, type FaultStep } from '../ring/fault.js';

export function faultHook(spec = process.env.MMAPIPC_FAULT): Fault | undefined {
  if (!spec) return undefined;
  const match = /^([a-z-]+)(?:@(\d+))?(?::(stop|kill))?$/.exec(spec);
  if (!match || !(FAULT_STEPS as readonly string[]).includes(match[1]!)) {
    throw new Error(`MMAPIPC_FAULT=${spec}: expected STEP[@N][:stop|:kill] with STEP one of ${FAULT_STEPS.join(', ')}`);
  }
  const step = match[1] as FaultStep;
  let remaining = Number(match[2] ?? 1);
  const signal = match[3] === 'kill' ? 'SIGKILL' : 'SIGSTOP';
  return (reached) => {
    if (reached !== step || remaining <= 0) return;
    if (--remaining !== 0) return;
    writeSync(2, `mmapipc: fault: pid ${process.pid} ${signal === 'SIGKILL' ? 'dies' : 'stops'} at ${step}\n`);
    process.kill(process.pid, signal);
  };
}
