/**
 * inotify(7) through ffi-rs: an instance whose descriptor a thread reads with a blocking
 * fs.readSync (no ffi-rs call per wait), and watches added and removed on it. Only set-up and
 * tear-down go through ffi-rs here; each call costs microseconds, none is on a per-wait path.
 */
import { ffi } from './ffi.js';
import { LIBRARY, systemError } from './libc.js';

const { DataType, load } = ffi;

/** Linux generic (x86-64, arm64). */
const IN_CLOEXEC = 0o2000000;
export const IN_MODIFY = 0x2;

function call(funcName: string, paramsType: Parameters<typeof load>[0]['paramsType'], paramsValue: unknown[], subject?: string): number {
  const result = load({ library: LIBRARY, funcName, retType: DataType.I32, paramsType, paramsValue, errno: true }) as unknown as {
    value: number;
    errnoCode: number;
  };
  if (result.value === -1) throw systemError(funcName, result.errnoCode, subject);
  return result.value;
}

/** A new inotify instance whose reads block (no IN_NONBLOCK); closed on exec. */
export function inotifyInit(): number {
  return call('inotify_init1', [DataType.I32], [IN_CLOEXEC]);
}

/** Watches `path` for IN_MODIFY; the watch descriptor (the same one for every path of one file). */
export function inotifyWatch(instance: number, path: string): number {
  return call('inotify_add_watch', [DataType.I32, DataType.String, DataType.I32], [instance, path, IN_MODIFY], path);
}

/** Removes a watch (ignoring a watch the kernel removed already, e.g. with its file). */
export function inotifyUnwatch(instance: number, watch: number): void {
  load({ library: LIBRARY, funcName: 'inotify_rm_watch', retType: DataType.I32, paramsType: [DataType.I32, DataType.I32], paramsValue: [instance, watch] });
}
