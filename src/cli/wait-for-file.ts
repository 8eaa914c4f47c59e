/**
 * Waits for a path to appear, woken by inotify (fs.watch on its directory) rather than by
 * polling. Resolves true when it exists, false on timeout or abort.
 */
import { existsSync, lstatSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { SystemCallError } from '../errors.js';

export async function waitForFile(path: string, options: { timeoutMs?: number; signal?: AbortSignal }): Promise<boolean> {
  const exists = () => {
    try {
      lstatSync(path);
      return true;
    } catch {
      return false;
    }
  };
  if (exists()) return true;
  if (options.signal?.aborted) return false;
  const directory = dirname(path);
  if (!existsSync(directory)) {
    throw new SystemCallError('stat', 2, 'ENOENT', `the directory ${directory} does not exist`, path);
  }
  const name = basename(path);
  return new Promise<boolean>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: boolean) => {
      watcher.close();
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onAbort = () => finish(false);
    const watcher = watch(directory, { persistent: true }, (_event, file) => {
      if ((file === null || file === name) && exists()) finish(true);
    });
    watcher.on('error', (error) => {
      watcher.close();
      reject(error);
    });
    options.signal?.addEventListener('abort', onAbort);
    if (options.timeoutMs !== undefined) timer = setTimeout(() => finish(false), options.timeoutMs);
    if (exists()) finish(true); // it appeared between the first check and the watch
  });
}
