/**
 * Throwaway users and groups for the sharing tests, made with groupadd/useradd (no home, no
 * login) and removed afterwards; commands run as them with runuser. Needs root: elsewhere a
 * one-line skip, or under CI=true a failing test naming why.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { BIN, cliEnv, collect, type CliResult } from './cli.js';
import { findBinary } from './servers.js';
import { describeWhen } from './tools.js';

export function usersUnavailable(): string | undefined {
  if (process.geteuid?.() !== 0) return 'adding throwaway users needs root';
  for (const tool of ['groupadd', 'useradd', 'userdel', 'groupdel', 'runuser', 'getent']) {
    if (findBinary(tool) === undefined) return `${tool} is not installed`;
  }
  return undefined;
}

export function describeWithUsers(name: string, body: () => void): void {
  describeWhen(name, 'throwaway users can be made', usersUnavailable(), body);
}

export interface Account {
  readonly name: string;
  readonly uid: number;
  /** Its only group (made for it). */
  readonly group: string;
  readonly gid: number;
}

const idOf = (database: 'passwd' | 'group', name: string) => Number(execFileSync('getent', [database, name], { encoding: 'utf8' }).split(':')[2]);

/** Users made by one test file; remove() deletes them and their groups. */
export class ThrowawayUsers {
  readonly #users: string[] = [];
  readonly #groups: string[] = [];
  readonly #tag = randomBytes(3).toString('hex');

  group(label: string): { name: string; gid: number } {
    const name = `mmt${this.#tag}${label}`;
    execFileSync('groupadd', [name]);
    this.#groups.push(name);
    return { name, gid: idOf('group', name) };
  }

  /** A user whose only group is `group` (made by group()). */
  user(label: string, group: { name: string; gid: number }): Account {
    const name = `mmt${this.#tag}${label}`;
    execFileSync('useradd', ['-M', '-N', '-g', group.name, '-s', '/bin/sh', name]);
    this.#users.push(name);
    return { name, uid: idOf('passwd', name), group: group.name, gid: group.gid };
  }

  remove(): void {
    for (const name of this.#users) execFileSync('userdel', [name]);
    for (const name of this.#groups) execFileSync('groupdel', [name]);
  }
}

/** Runs the CLI as `account` to the end. */
export function runAs(account: Account, args: string[]): Promise<CliResult> {
  return collect(spawn('runuser', ['-u', account.name, '--', process.execPath, BIN, ...args], { env: cliEnv(), stdio: 'pipe' }));
}
