/**
 * `mmapipc serve -- COMMAND [ARGS...]`: answers a ring's requests (mmapipc request) by running
 * COMMAND, once per request (the request on its stdin, its stdout the reply), or, with --lines or
 * --null, one long-running COMMAND for all of them (a request per line in, a reply per line out).
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import { DEFAULT_SERVE_GROUP } from '../../layout/request-layout.js';
import { MAX_CONCURRENCY, type RequestHandler, type ServeEvent } from '../../reqrep/server.js';
import { serveWith } from '../../reqrep/serve-with.js';
import type { ServedRequest } from '../../reqrep/served-request.js';
import type { CliContext } from '../context.js';
import { ringPath } from '../options.js';
import { note, write } from '../output.js';
import { addCreateOptions, addFileOption, openFromOptions, type RingCliOptions } from '../ring-options.js';
import { LineChild } from '../serve/line-child.js';
import { runCommand } from '../serve/run-command.js';
import { InvalidArgumentError } from 'commander';

export interface ServeCliOptions extends RingCliOptions {
  concurrency?: number;
  lines?: boolean;
  null?: boolean;
  json?: boolean;
  verbose?: boolean;
}

function parseConcurrency(value: string): number {
  const parsed = /^[0-9]+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > MAX_CONCURRENCY) throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_CONCURRENCY}, got '${value}'`);
  return parsed;
}

export function registerServe(program: Command, context: CliContext): void {
  const command = program
    .command('serve')
    .description('answer the ring\'s requests (mmapipc request) with a command\'s output')
    .argument('<command>', 'the command that answers: the request on its stdin, the reply from its stdout')
    .argument('[args...]', 'its arguments (put -- before the command)');
  addFileOption(command);
  addCreateOptions(command);
  command
    .option('-g, --group <name>', `the group to serve as (default: "${DEFAULT_SERVE_GROUP}"); servers of one group share the requests`)
    .addOption(new Option('-c, --concurrency <n>', `requests handled at once (default 1, at most ${MAX_CONCURRENCY})`).argParser(parseConcurrency))
    .option('--lines', 'one long-running command answers every request: a request per line on its stdin, the reply the line it writes back')
    .option('-0, --null', 'like --lines, with NUL-terminated requests and replies')
    .option('--json', 'print a JSON record per request handled (sequence, correlation, pid, deliveries, outcome, bytes, replyBytes, ms)')
    .option('-v, --verbose', 'print a line per request handled on stderr');
  command.addHelpText(
    'after',
    `
Examples:
  mmapipc serve -- tr a-z A-Z                 each request through tr: mmapipc request hello prints HELLO
  mmapipc serve --concurrency 4 -- ./handler.sh
                                              four requests at once, one run of the script each
  mmapipc serve --lines -- ./worker          one worker for all requests, a line in, a line out
                                              (it must flush each reply line)
  mmapipc serve --json -- wc -c               a JSON record per request handled

A command that exits non-zero sends an error reply (its last stderr line, or "exit N"): the
client prints it and exits 11. A run still going at the request's deadline is killed and sends
nothing (the client has timed out with 124). Requests whose deadline passed before the server
got to them are skipped. A server that dies holding a request leaves it to another server of
the group (the request is redelivered once). When this server creates its group, it removes an
idle 'default' group (no member, nothing waiting), so clients are not held back by a group
nobody reads. Ctrl-C or SIGTERM stops it: requests not answered yet go to another server.`,
  );
  command.action((file: string, args: string[], options: ServeCliOptions) => serve([file, ...args], options, context));
}

export async function serve(argv: string[], options: ServeCliOptions, context: CliContext): Promise<void> {
  if (options.lines && options.null) throw new UsageError('--lines and --null ask for different framings; pick one');
  const path = ringPath(options.file, context.env);
  const group = options.group ?? DEFAULT_SERVE_GROUP;
  const ring = openFromOptions({ ...options, group: undefined }, context, 'sender', true);
  const lineChild = options.lines || options.null ? new LineChild(argv, options.lines ? 'line' : 'null', path) : undefined;
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  context.signal.addEventListener('abort', onInterrupt, { once: true });
  try {
    const server = ring.requests({ group, concurrency: options.concurrency, signal: stop.signal, onEvent: (event) => log(event, options, context) });
    if (server.defaultGroup === 'kept') {
      note(context.output, `mmapipc: ${path}: note: kept group 'default' (it has members or messages waiting); clients wait for it once the ring is full`);
    }
    note(context.output, `mmapipc: ${path}: serving group '${group}' with ${argv.join(' ')} (concurrency ${server.concurrency}${lineChild ? `, one ${options.lines ? 'line' : 'NUL'}-framed process` : ''}); Ctrl-C stops`);
    const handler: RequestHandler = lineChild ? lineHandler(lineChild) : (request) => perRequest(argv, request, stop.signal);
    const serving = serveWith(server, handler);
    if (lineChild) {
      await Promise.race([serving, lineChild.exited.catch((error) => {
        stop.abort();
        throw error;
      })]);
    } else {
      await serving;
    }
    await server.done;
    if (context.signal.aborted) context.stoppedCleanly?.();
  } finally {
    context.signal.removeEventListener('abort', onInterrupt);
    stop.abort();
    lineChild?.stop();
    ring.close();
  }
}

async function perRequest(argv: string[], request: ServedRequest, signal: AbortSignal): Promise<void> {
  const result = await runCommand(argv, request.data, request.remainingMs, signal);
  if (result.kind === 'ok') await request.respond(result.stdout);
  else if (result.kind === 'failed') await request.fail(result.text);
  else request.drop('expired');
}

function lineHandler(child: LineChild): RequestHandler {
  return async (request) => {
    if (request.data.includes(child.separator)) {
      await request.fail(child.separator === 0x0a ? 'a request to a --lines server must be one line (it holds a newline)' : 'a request to a --null server must not hold a NUL byte');
      return;
    }
    await request.respond(await child.ask(request.data));
  };
}

function log(event: ServeEvent, options: ServeCliOptions, context: CliContext): void {
  const ms = Math.round(event.ms * 1000) / 1000;
  if (options.json) {
    write(context.output.out, `${JSON.stringify({ ...event, ms })}\n`);
  } else if (options.verbose) {
    const error = event.error === undefined ? '' : `: ${event.error}`;
    note(context.output, `mmapipc: request ${event.correlation} from pid ${event.pid} (${event.bytes} bytes${event.deliveries > 0 ? `, redelivered ${event.deliveries}` : ''}): ${event.outcome}${error} in ${ms} ms`);
  }
}
