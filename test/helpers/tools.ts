/**
 * The system tools some suites need (a C compiler, strace, shells, a pseudo-terminal, servers).
 * One rule for all of them: a missing tool skips its tests with a one-line notice naming it on
 * a developer's machine, and FAILS the run under CI=true, where .ci/run installs every one.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const IN_CI = process.env.CI === 'true';

/** The apt package that provides each tool (.ci/run installs these). */
const PACKAGES = {
  gcc: 'gcc',
  strace: 'strace',
  zsh: 'zsh',
  fish: 'fish',
  script: 'util-linux',
  unshare: 'util-linux',
  mount: 'mount',
  useradd: 'passwd',
  'nats-server': 'nats-server',
  'redis-server': 'redis-server',
} as const;
export type Tool = keyof typeof PACKAGES;

/** The tool's path on $PATH (or in the sbin directories Debian uses), or undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why a missing tool's tests cannot run, and how to get it. */
export const missingMessage = (tool: Tool, what: string): string =>
  `${tool} is not installed, so ${what} cannot run (apt-get install -y ${PACKAGES[tool]}; .ci/run installs it)`;

/**
 * The tool's path when it is installed. When it is not: under CI=true this throws (the test file
 * fails, naming the tool); elsewhere it prints a one-line notice and returns undefined, and the
 * caller skips the tests that need it (`path ? test : test.skip`).
 */
export function requireTool(tool: Tool, what: string): string | undefined {
  const path = findBinary(tool);
  if (path !== undefined) return path;
  if (IN_CI) throw new Error(missingMessage(tool, what));
  process.stderr.write(`skipping: ${missingMessage(tool, what)}\n`);
  return undefined;
}

/**
 * Like requireTool for a capability rather than a binary (root, a mount): `ok` false skips with a
 * notice outside CI and throws under CI=true.
 */
export function requireCapability(ok: boolean, what: string, reason: string): boolean {
  if (ok) return true;
  const message = `${what} cannot run: ${reason}`;
  if (IN_CI) throw new Error(message);
  process.stderr.write(`skipping: ${message}\n`);
  return false;
}

/**
 * `describe` when the capability the suite needs is there (`unavailable` undefined); else a
 * one-line skip naming why, or under CI=true one failing test naming why (CI skips nothing).
 */
export function describeWhen(name: string, capability: string, unavailable: string | undefined, body: () => void): void {
  if (unavailable === undefined) {
    describe(name, body);
  } else if (IN_CI) {
    describe(name, () => test(capability, () => {
      throw new Error(unavailable);
    }));
  } else {
    process.stderr.write(`skipping "${name}": ${unavailable}\n`);
    describe.skip(name, body);
  }
}
