/**
 * inotify(7) through ffi-rs: an instance whose descriptor a thread reads with a blocking
 * fs.readSync (no ffi-rs call per wait), and watches added and removed on it. Only set-up and
 * tear-down go through ffi-rs here; each call costs microseconds, none is on a per-wait path.
 */
import { ffi } from './ffi.js';
import { call, checked } from './libc.js';

const { DataType } = ffi;

/** Linux generic (x86-64, arm64). */
const IN_CLOEXEC = 0o2000000;
export const IN_MODIFY = 0x2;

/** A new inotify instance whose reads block (no IN_NONBLOCK); closed on exec. */
export function inotifyInit(): number {
  return checked('inotify_init1', [DataType.I32], [IN_CLOEXEC]);
}

/** Watches `path` for IN_MODIFY; the watch descriptor (the same one for every path of one file). */
export function inotifyWatch(instance: number, path: string): number {
  return checked('inotify_add_watch', [DataType.I32, DataType.String, DataType.I32], [instance, path, IN_MODIFY], path);
}

/** Removes a watch (ignoring a watch the kernel removed already, e.g. with its file). */
export function inotifyUnwatch(instance: number, watch: number): void {
  call('inotify_rm_watch', DataType.I32, [DataType.I32, DataType.I32], [instance, watch]);
}
