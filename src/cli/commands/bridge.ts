/**
 * `mmapipc bridge export|import|stat`: carries a ring's messages to NATS JetStream or Redis
 * Streams and back. Only the options live here; the engine clients are loaded when a bridge
 * actually runs (src/bridge/start.ts), so no other command pays for them.
 */
import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { parseSeconds } from '../../bridge/duration.js';
import { bridgeDir, listStatuses } from '../../bridge/files.js';
import { lookAtRing } from '../../bridge/ring-attach.js';
import { MmapipcError } from '../../errors.js';
import { resolveSettings, DEFAULT_BATCH, DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_MAX_INFLIGHT, type BridgeCliOptions } from '../../bridge/options.js';
import { bridgeLines, bridgeViews } from '../../bridge/stat-view.js';
import type { CliContext } from '../context.js';
import { parsePositive, ringPath } from '../options.js';
import { note, write } from '../output.js';
import { addCreateOptions, addFileOption } from '../ring-options.js';

const GUARANTEES = `
Guarantees:
  export  nothing lost, nothing duplicated in the engine, ring order kept. A ring slot is
          freed only after the engine acknowledged its message; after a crash or restart
          the engine's last message (NATS) or the companion hash <key>:mmapipc-export (Redis)
          says which ring sequence is stored, and held messages up to it are not sent again.
          NATS: the stream must be the bridge's alone (chained with
          Nats-Expected-Last-Sequence; exactly once across any downtime). --shared lets
          others write to the stream too: de-duplication by Nats-Msg-Id then holds only
          within the stream's duplicate window (2 min by default), and a retried message
          may land after later ones.
  import  nothing lost; after a crash at most the messages of one unfinished commit
          (--batch) are delivered twice. Each message carries its origin (stream and
          sequence, or key and entry ID) beside its payload (docs/format.md §9b), which
          receive --json shows, so a receiver can drop the repeat. The cursor lives next to the ring,
          <ring>.bridge/<name>.cursor.json, written after the ring commit. A full ring
          stops reading (back-pressure), never drops. Messages the engine removed before
          they were read are counted and reported ("lost" lines, bridge stat). No
          acknowledgement policy is used at all (an ordered consumer; Redis XRANGE).
  both    the import skips what an export of the same ring put in the engine, and the
          export skips what the import brought from its own stream or key: no loop.
  The export reads as a consumer group of its own (bridge-<name>, lossless, from the oldest
  message kept): other receivers and groups may share the ring. It replaces the ring's
  default group only when that has no member and nothing waits for it.
  start   the engine is checked before the ring is touched: a start that fails leaves the
          ring exactly as it was. The cursor belongs to one ring (by its id): rm removes
          <ring>.bridge/ with the ring; a cursor of another ring is refused (--reset-state).

Exit codes: 0 done (--once, --dry-run, or SIGTERM after draining in-flight work),
  1 failure (bridge already running; a cursor of another ring), 2 usage (bad option or
  URL), 4 <ring>.bridge/ another user could have planted (docs/sharing.md), 5 message too large (for the engine, or for the ring's largest message;
  the bridge stops before it), 8 engine unreachable, not the engine asked for, or
  credentials refused, 9 engine not usable as asked (no such stream or key, another writer
  on a chained stream), 130 SIGINT.`;

function addCommonOptions(command: Command, direction: 'export' | 'import'): Command {
  addFileOption(command);
  command
    .option('--nats [url]', 'NATS server (nats://host:port; no value: $NATS_URL)')
    .option('--redis [url]', 'Redis server (redis://host:port/db, unix:///path.sock; no value: $REDIS_URL)')
    .option('--creds <file>', 'credentials: a NATS .creds file, or a first line user:password or token')
    .option('--stream <name>', 'the NATS JetStream stream')
    .option('--key <key>', 'the Redis stream key')
    .option('--name <name>', `bridge name, for several bridges on one ring (default ${direction}-ENGINE-STREAM)`)
    .addOption(new Option('--batch <n>', `messages per engine call (export) or per ring commit (import) (default ${DEFAULT_BATCH})`).argParser(parsePositive))
    .option('--once', 'move what is there, then exit 0')
    .option('--json', 'log lines as JSON objects on stdout (else human lines on stderr)')
    .option('-v, --verbose', 'also a log line per committed batch')
    .option('--dry-run', 'check the connection, the stream and the sizes, print the plan, move nothing')
    .option('--reset-state', 'forget this bridge\'s stored state (cursor, status) first, as for a new bridge')
    .addOption(new Option('--drain-timeout <duration>', `after SIGTERM, how long in-flight work may take (default ${DEFAULT_DRAIN_TIMEOUT_MS / 1000} s)`).argParser(parseSeconds));
  addCreateOptions(command);
  return command;
}

export function registerBridge(program: Command, context: CliContext): void {
  const bridge = program
    .command('bridge')
    .description("carry a ring's messages to NATS JetStream or Redis Streams, and back")
    .addHelpText(
      'after',
      `${GUARANTEES}

Examples:
  mmapipc bridge export --file /tmp/jobs --nats nats://10.0.0.2:4222 --stream JOBS --create-stream
  mmapipc bridge import --file /tmp/jobs --redis redis://10.0.0.2:6379/0 --key jobs
  mmapipc bridge stat --file /tmp/jobs

See 'mmapipc bridge export --help', 'mmapipc bridge import --help', docs/bridge.md.`,
    );

  const exporter = addCommonOptions(bridge.command('export').description('ring -> engine: the ring\'s messages into a stream'), 'export');
  exporter
    .option('--subject <subject>', "NATS subject to publish on (default: the stream's only subject, else mmapipc.<ring file name>)")
    .option('--create-stream', 'create the stream (NATS: file storage, the subject) or allow a new key (Redis) if missing')
    .option('--shared', 'NATS: others write to the stream too (Nats-Msg-Id de-duplication, within the duplicate window)')
    .addOption(new Option('--maxlen <n>', 'Redis: trim the stream to about n entries (XADD MAXLEN ~)').argParser(parsePositive))
    .addOption(new Option('--max-inflight <n>', `batches awaiting the engine at once (default ${DEFAULT_MAX_INFLIGHT})`).argParser(parsePositive))
    .addOption(new Option('--linger <duration>', 'wait this long for a batch to fill (a bare number is seconds: 0.01; default 0)').argParser(parseSeconds))
    .addHelpText(
      'after',
      `${GUARANTEES}

Examples:
  mmapipc bridge export --file /tmp/jobs --nats nats://10.0.0.2:4222 --stream JOBS --create-stream
  NATS_URL=nats://u:p@10.0.0.2:4222 mmapipc bridge export --file /tmp/jobs --nats --stream JOBS
  mmapipc bridge export --file /tmp/jobs --redis redis://10.0.0.2:6379/0 --key jobs --create-stream
  mmapipc bridge export --file /tmp/jobs --nats nats://10.0.0.2:4222 --stream JOBS --dry-run`,
    )
    .action((options: BridgeCliOptions) => runBridgeCommand('export', options, context));

  const importer = addCommonOptions(bridge.command('import').description('engine -> ring: a stream\'s messages into the ring'), 'import');
  importer
    .option('--from-start', 'without a cursor, start at the first message (the default)')
    .option('--new', 'without a cursor, start with messages that arrive from now on')
    .addOption(new Option('--start-seq <n>', 'NATS: without a cursor, start at stream sequence n').argParser(parsePositive))
    .option('--start-id <id>', 'Redis: without a cursor, start after entry ID id')
    .option('--no-origin', 'send plain messages, without their origin (then a receiver cannot recognise a repeated message)')
    .option('--sync', 'msync the ring before each cursor write (a ring on disk that must survive an OS crash)')
    .addHelpText(
      'after',
      `${GUARANTEES}

The start options apply only when there is no cursor yet: a restarted bridge resumes where
its cursor says. Pass --reset-state (or remove <ring>.bridge/<name>.cursor.json) to start over.

Examples:
  mmapipc bridge import --file /tmp/jobs --nats nats://10.0.0.2:4222 --stream JOBS
  mmapipc bridge import --file /tmp/jobs --redis redis://10.0.0.2:6379/0 --key jobs --new
  mmapipc receive --file /tmp/jobs --json      each line shows its "origin"`,
    )
    .action((options: BridgeCliOptions) => runBridgeCommand('import', options, context));

  const stat = bridge.command('stat').description("show the bridges of a ring: state, messages moved, lag, last error");
  addFileOption(stat);
  stat
    .option('--json', 'one JSON line: an array of bridges')
    .addHelpText(
      'after',
      `
Fields (JSON): name, direction, engine, url, stream, ring, pid, pidNamespace (same, other,
unknown: whether pid is one of this PID namespace), running (the bridge holds its lock in
<ring>.bridge/<name>.lock, seen from any PID namespace), state (starting,
connected, reconnecting, blocked-ring-full, blocked-stream-full, stopped), messages,
bytes, inFlight, lag, ringPosition, enginePosition, duplicatesSuppressed, loopSkipped,
lostByRetention, resyncs, reconnects, lastError {message, at}, lastErrorAgeMs,
statusAgeMs, startedAt, updatedAt, ringId. Read from <ring>.bridge/<name>.status.json, which a
running bridge rewrites at most 4 times a second; statuses of an earlier ring at the path are
left out (a note on stderr says how many).

Examples:
  mmapipc bridge stat                            the default ring's bridges
  mmapipc bridge stat --file ./q.ring --json     for scripts
  mmapipc bridge stat --json | jq '.[].lag'      how far each bridge is behind

Exit codes: 0 shown, 1 no ring at the path (its bridge state may be left over: remove it).`,
    )
    .action(async (options: { file?: string; json?: boolean }) => {
      const path = ringPath(options.file, context.env);
      const sight = lookAtRing(path);
      if (sight === undefined) {
        const left = existsSync(bridgeDir(path)) ? `; ${bridgeDir(path)} is bridge state left from a removed ring: remove it` : '';
        throw new MmapipcError(`no such ring file${left}`, { subject: path });
      }
      const statuses = listStatuses(path);
      const current = statuses.filter((status) => status.ringId === sight.header.id);
      if (current.length < statuses.length) {
        note(
          context.output,
          `mmapipc: ${bridgeDir(path)}: note: ${statuses.length - current.length} bridge status(es) left from an earlier ring at this path, not shown; they go when those bridges run again (or remove their .status.json files)`,
        );
      }
      const { bridgeLockState } = await import('../../bridge/bridge-lock.js');
      const views = bridgeViews(current, (name) => bridgeLockState(path, name));
      if (options.json) write(context.output.out, `${JSON.stringify(views)}\n`);
      else write(context.output.out, `${bridgeLines(views, path).join('\n')}\n`);
    });
}

async function runBridgeCommand(direction: 'export' | 'import', options: BridgeCliOptions, context: CliContext): Promise<void> {
  const settings = resolveSettings(direction, options, context.env);
  for (const warning of settings.warnings) note(context.output, warning);
  const path = ringPath(options.file, context.env);
  const { runBridge } = await import('../../bridge/start.js');
  const end = await runBridge(path, settings, {
    log: { line: (text) => note(context.output, text), json: (text) => write(context.output.out, `${text}\n`) },
    print: (text) => write(context.output.out, text),
    signal: context.signal,
  });
  if (end === 'drained' || end === 'drain-timeout') context.stoppedCleanly?.();
}
