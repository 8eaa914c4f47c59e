/**
 * `<ring>.bridge/` follows the ring's sharing (docs/sharing.md, "Beside a shared ring"): who may
 * use the ring may run its bridges. The rules are those of every directory beside a ring
 * (src/sharing/beside-dir.ts); this module names the purpose in messages and adds the sharing
 * of a ring a bridge is about to create.
 */
import { lstatSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { DEFAULT_MODE } from '../ring-file/open.js';
import * as beside from '../sharing/beside-dir.js';
import { geteuid } from '../sys/libc.js';

export { sharingOf, type StateSharing } from '../sharing/beside-dir.js';

const BRIDGE: beside.Purpose = {
  what: 'bridge state',
  dirName: 'the bridge directory',
  takeOver: "run the bridge as that user once (it then takes the ring's group and mode), ",
};

/**
 * The sharing of the ring at `ringPath`; for a ring not created yet, of the ring `creation`
 * (--mode, --file-group) will make.
 */
export function stateSharing(ringPath: string, creation: { readonly mode?: number; readonly fileGroup?: number } = {}): beside.StateSharing {
  const ring = lstatSync(ringPath, { throwIfNoEntry: false });
  if (ring?.isFile()) return beside.sharingOf(ring);
  return beside.sharingOf({ uid: geteuid(), gid: creation.fileGroup ?? beside.newFileGroup(dirname(ringPath)), mode: creation.mode ?? DEFAULT_MODE });
}

export const checkStateEntry = (path: string, status: Stats, sharing: beside.StateSharing, kind: 'directory' | 'file'): void =>
  beside.checkStateEntry(path, status, sharing, kind, BRIDGE);
export const openNoFollow = (path: string, flags: number, mode?: number): number => beside.openNoFollow(path, flags, BRIDGE, mode);
export const ensureStateDir = (dir: string, sharing: beside.StateSharing): void => beside.ensureStateDir(dir, sharing, BRIDGE);
export const checkStateDir = (dir: string, sharing: beside.StateSharing): boolean => beside.checkStateDir(dir, sharing, BRIDGE);
export const openStateFile = (path: string, flags: number, sharing: beside.StateSharing): number => beside.openStateFile(path, flags, sharing, BRIDGE);
