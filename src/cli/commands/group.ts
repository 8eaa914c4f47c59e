/**
 * `mmapipc group`: the ring's consumer groups. Every group receives every message; members of a
 * group share its messages. `ls` lists them, `create` adds one, `rm` removes one (it stops holding
 * senders back at once), `reset` moves a group's cursor (replay, or skip to the newest),
 * `set` makes a group lossy or lossless.
 */
import { Option, type Command } from 'commander';
import { GroupError, UsageError } from '../../errors.js';
import type { GroupInfo, GroupStart } from '../../ring/groups.js';
import { RingObserver } from '../../ring-file/observe.js';
import { RingFile } from '../../ring-file/ring-file.js';
import type { CliContext } from '../context.js';
import { GROUP_START_NAMES, parseGroupStart, ringPath } from '../options.js';
import { offerValues } from '../completion-values.js';
import { write } from '../output.js';
import { addFileOption } from '../ring-options.js';

interface GroupCommonOptions {
  file?: string;
  json?: boolean;
}

function openRing(options: GroupCommonOptions, context: CliContext): RingFile {
  return RingFile.open(ringPath(options.file, context.env), { create: false, role: 'observer' });
}

function groupRecord(group: GroupInfo, tail: number): Record<string, unknown> {
  return {
    name: group.name,
    lossy: group.lossy,
    position: group.dispatch,
    lag: Math.max(0, tail - group.dispatch),
    redelivered: group.redelivered,
    missed: group.missed,
    gaps: group.gaps,
    createdAt: group.createdAt > 0 ? new Date(group.createdAt).toISOString() : null,
  };
}

function withRing<T>(options: GroupCommonOptions, context: CliContext, work: (ring: RingFile) => T): T {
  const ring = openRing(options, context);
  try {
    return work(ring);
  } finally {
    ring.close();
  }
}

function report(options: GroupCommonOptions, context: CliContext, record: Record<string, unknown>, human: string): void {
  write(context.output.out, options.json ? `${JSON.stringify(record)}\n` : `${human}\n`);
}

/**
 * `create` on an existing group: the same settings are a no-op, other ones an error that names
 * the command that changes them (never silently dropped).
 */
function refuseConflicts(ring: RingFile, name: string, options: { from?: GroupStart; lossy?: boolean }): void {
  const existing = ring.groups().find((group) => group.name === name);
  if (!existing) return;
  if (options.lossy && !existing.lossy) {
    throw new GroupError(`group ${name} exists and is lossless; --lossy does not change it: mmapipc group set ${name} --lossy`, { subject: ring.path });
  }
  if (options.from !== undefined) {
    throw new GroupError(`group ${name} exists (at position ${existing.dispatch}); --from applies only when creating: mmapipc group reset ${name} --to ${options.from}`, { subject: ring.path });
  }
}

export function registerGroup(program: Command, context: CliContext): void {
  const group = program.command('group').description("list, create, remove, reset a ring's consumer groups");
  group.addHelpText(
    'after',
    `
Every group receives every message sent after its start; the members of one group
(receive --group NAME) share its messages, each to one member. A lossless group holds
senders back while it is behind (the ring is its buffer); a lossy one never does and
reports what it missed. A lossless group with no members still keeps its messages:
remove it (group rm) or make it lossy (group set --lossy) to release senders.

Examples:
  mmapipc group ls                               the groups, their positions and lag
  mmapipc group create audit --from earliest     a new group that starts at the oldest message kept
  mmapipc group create metrics --lossy           never holds senders back
  mmapipc group reset audit --to earliest        replay what the ring still holds
  mmapipc group set audit --lossy                stop holding senders back
  mmapipc group rm audit

create on a group that exists does nothing, unless --lossy or --from ask for something
else than it has: that is an error (exit 7) naming the command that does it.

Exit codes: 0 ok, 1 no such ring file, 2 bad option, 3 not a ring file, 7 no such group,
a bad group name, an option that conflicts with an existing group, or the group table is full.`,
  );

  const ls = group.command('ls').description('list the groups');
  addFileOption(ls).option('--json', 'one JSON line per group');
  examples(ls, [
    ['mmapipc group ls', "the default ring's groups: kind, position, lag, redelivered, missed"],
    ['mmapipc group ls --file ./q.ring --json', 'one JSON line per group'],
  ]);
  // Listing only reads: an observer's read-only open, so that whoever may read the ring may list its groups.
  ls.action((options: GroupCommonOptions) => {
    const observer = RingObserver.open(ringPath(options.file, context.env));
    try {
      const { state } = observer.snapshot();
      for (const info of state.groups) {
        const record = groupRecord(info, state.tail);
        const kind = info.lossy ? 'lossy' : 'lossless';
        report(options, context, record, `${info.name}\t${kind}\tat ${info.dispatch}\tlag ${record.lag}\tredelivered ${info.redelivered}\tmissed ${info.missed}`);
      }
    } finally {
      observer.close();
    }
  });

  const create = group.command('create <name>').description('create a group (no-op when it exists with the options given)');
  addFileOption(create)
    .addOption(offerValues(new Option('--from <where>', 'where it starts: latest (default), earliest, or a sequence number').argParser(parseGroupStart), GROUP_START_NAMES))
    .option('--lossy', 'never hold senders back')
    .option('--json', 'print the group as JSON');
  examples(create, [
    ['mmapipc group create audit', 'a lossless group that starts with the next message'],
    ['mmapipc group create audit --from earliest', 'starts at the oldest message the ring still holds'],
    ['mmapipc group create metrics --lossy', 'never holds senders back'],
  ]);
  create.action((name: string, options: GroupCommonOptions & { from?: GroupStart; lossy?: boolean }) =>
    withRing(options, context, (ring) => {
      refuseConflicts(ring, name, options);
      const info = ring.createGroup(name, { from: options.from, lossy: options.lossy });
      report(options, context, groupRecord(info, ring.ring.totals.sent), `group ${info.name}: ${info.lossy ? 'lossy' : 'lossless'}, starts at ${info.dispatch}`);
    }),
  );

  const rm = group.command('rm <name>').description('remove a group: it stops holding senders back at once');
  addFileOption(rm).option('--json', 'print the removed group as JSON');
  examples(rm, [
    ['mmapipc group rm audit', 'its members get exit 7 on their next receive'],
    ['mmapipc group rm audit --file ./q.ring --json', 'print what was removed'],
  ]);
  rm.action((name: string, options: GroupCommonOptions) =>
    withRing(options, context, (ring) => {
      const info = ring.removeGroup(name);
      report(options, context, groupRecord(info, ring.ring.totals.sent), `removed group ${info.name} (it was at ${info.dispatch})`);
    }),
  );

  const reset = group.command('reset <name>').description("move a group's cursor: replay from earliest or a sequence, or skip to latest");
  addFileOption(reset)
    .addOption(
      offerValues(new Option('--to <where>', 'earliest, latest, or a sequence number still in the ring').argParser(parseGroupStart).makeOptionMandatory(), GROUP_START_NAMES),
    )
    .option('--json', 'print the group as JSON');
  examples(reset, [
    ['mmapipc group reset audit --to earliest', 'replay what the ring still holds'],
    ['mmapipc group reset audit --to latest', 'skip the backlog'],
    ['mmapipc group reset audit --to 1200', 'from sequence number 1200'],
  ]);
  reset.action((name: string, options: GroupCommonOptions & { to: GroupStart }) =>
    withRing(options, context, (ring) => {
      const position = ring.resetGroup(name, options.to);
      const info = ring.groups().find((g) => g.name === name)!;
      report(options, context, groupRecord(info, ring.ring.totals.sent), `group ${name} now at ${position}`);
    }),
  );

  const set = group.command('set <name>').description('make a group lossy or lossless');
  addFileOption(set).option('--lossy', 'never hold senders back').option('--lossless', 'hold senders back while behind').option('--json', 'print the group as JSON');
  examples(set, [
    ['mmapipc group set audit --lossy', 'stop holding senders back (it may then miss messages)'],
    ['mmapipc group set audit --lossless', 'hold senders back again while it is behind'],
  ]);
  set.action((name: string, options: GroupCommonOptions & { lossy?: boolean; lossless?: boolean }) =>
    withRing(options, context, (ring) => {
      if (Boolean(options.lossy) === Boolean(options.lossless)) throw new UsageError('group set: pass exactly one of --lossy and --lossless');
      const info = ring.setGroupLossy(name, Boolean(options.lossy));
      report(options, context, groupRecord(info, ring.ring.totals.sent), `group ${info.name} is now ${info.lossy ? 'lossy' : 'lossless'}`);
    }),
  );
  for (const command of group.commands) command.exitOverride().configureOutput(program.configureOutput());
}

/** An Examples section for a subcommand's help: command lines and what each does. */
function examples(command: Command, lines: ReadonlyArray<readonly [string, string]>): void {
  const width = Math.max(...lines.map(([line]) => line.length)) + 2;
  command.addHelpText('after', `\nExamples:\n${lines.map(([line, what]) => `  ${line.padEnd(width)}${what}`).join('\n')}`);
}
