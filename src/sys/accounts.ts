/**
 * Users and groups, for the sharing rule (docs/sharing.md) and its messages: this process's
 * groups, and names for uids and gids. Names come from /etc/passwd and /etc/group (a directory
 * service behind NSS is not asked); a number stands in when no name is found.
 */
import { readFileSync } from 'node:fs';
import { getegid, supplementaryGroups } from './libc.js';

/** The groups whose permission bits apply to this process: its effective group and supplementary groups. */
export function callerGroups(): ReadonlySet<number> {
  return new Set([getegid(), ...supplementaryGroups()]);
}

/** The colon-separated fields of each line of a passwd-style file. */
function readLines(path: string): string[][] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').map((line) => line.split(':'));
}

/** name -> id pairs of a passwd-style file (name:x:id:...). */
function readTable(path: string): Array<{ name: string; id: number }> {
  return readLines(path)
    .filter((fields) => fields.length >= 3 && /^[0-9]+$/.test(fields[2]!))
    .map((fields) => ({ name: fields[0]!, id: Number(fields[2]) }));
}

/** "alice (uid 1001)", or "uid 1001" when /etc/passwd does not name it. */
export function describeUser(uid: number): string {
  const name = readTable('/etc/passwd').find((entry) => entry.id === uid)?.name;
  return name ? `${name} (uid ${uid})` : `uid ${uid}`;
}

/** "staff (gid 50)", or "gid 50". */
export function describeGroup(gid: number): string {
  const name = readTable('/etc/group').find((entry) => entry.id === gid)?.name;
  return name ? `${name} (gid ${gid})` : `gid ${gid}`;
}

/**
 * Whether user `uid` belongs to group `gid`: as its primary group (/etc/passwd) or as a listed
 * member (/etc/group). False when neither file says so.
 */
export function userInGroup(uid: number, gid: number): boolean {
  const user = readLines('/etc/passwd').find((fields) => fields[2] === String(uid));
  if (user === undefined) return false;
  if (user[3] === String(gid)) return true;
  const group = readLines('/etc/group').find((fields) => fields[2] === String(gid));
  return (group?.[3] ?? '').split(',').includes(user[0]!);
}

/** A group's id from its name in /etc/group, or from a number; undefined when there is no such group. */
export function groupId(nameOrNumber: string): number | undefined {
  const found = readTable('/etc/group').find((entry) => entry.name === nameOrNumber);
  if (found) return found.id;
  return /^[0-9]+$/.test(nameOrNumber) ? Number(nameOrNumber) : undefined;
}
