/**
 * `mmapipc request`: sends one request to the servers of a ring (mmapipc serve) and prints their
 * reply, byte for byte. Fails at once when nobody serves the ring (exit 10), with the server's
 * text on an error reply (exit 11), when its server died with none left (exit 12), and at the
 * deadline (exit 124).
 */
import type { Command } from 'commander';
import { AbortError, NoRespondersError, SystemCallError, UsageError } from '../../errors.js';
import { DEFAULT_SERVE_GROUP } from '../../layout/request-layout.js';
import { RingFile } from '../../ring-file/ring-file.js';
import type { CliContext } from '../context.js';
import { ringPath } from '../options.js';
import { write } from '../output.js';
import { addFileOption, addTimeoutOption } from '../ring-options.js';

export interface RequestCliOptions {
  file?: string;
  group?: string;
  /** ms */
  timeout?: number;
  json?: boolean;
}

const DEFAULT_TIMEOUT_MS = 5000;

export function registerRequest(program: Command, context: CliContext): void {
  const command = program
    .command('request')
    .description('send one request to the ring\'s servers (mmapipc serve) and print the reply')
    .argument('[message]', 'the request (default: all of stdin)');
  addFileOption(command);
  command
    .option('-g, --group <name>', `the group that serves the ring (default: "${DEFAULT_SERVE_GROUP}")`)
    .option('--json', 'print the reply as a JSON record: {"message"} or {"base64"}, bytes, deliveries, ms');
  addTimeoutOption(command, 'the reply (default 5 s)');
  command.addHelpText(
    'after',
    `
Examples:
  mmapipc serve -- tr a-z A-Z &              a server: each request through tr
  mmapipc request hello                      prints HELLO
  mmapipc request --timeout 0.5 ping         give up after half a second (exit 124)
  mmapipc request < query.json > answer      stdin as one request, the reply byte for byte
  mmapipc request --json ping                {"message":"PING","bytes":4,"deliveries":0,"ms":0.4}

The reply is printed exactly as the server sent it (a newline is added only on a terminal).
Nobody serving the ring: exit 10 at once. An error reply: its text on stderr, exit 11. The
server died holding the request and no other server took it over: exit 12. No reply before
the deadline: exit 124 (the server skips the request when it gets to it late).`,
  );
  command.action((message: string | undefined, options: RequestCliOptions) => request(message, options, context));
}

export async function request(message: string | undefined, options: RequestCliOptions, context: CliContext): Promise<void> {
  const path = ringPath(options.file, context.env);
  const group = options.group ?? DEFAULT_SERVE_GROUP;
  const payload = message !== undefined ? Buffer.from(message) : await readStdin(context);
  const ring = openRequestRing(path, group);
  const started = performance.now();
  try {
    const reply = await ring.request(payload, { timeoutMs: options.timeout ?? DEFAULT_TIMEOUT_MS, signal: context.signal, group });
    const ms = performance.now() - started;
    if (options.json) {
      const text = reply.data.toString('utf8');
      const content = Buffer.from(text).equals(reply.data) ? { message: text } : { base64: reply.data.toString('base64') };
      write(context.output.out, `${JSON.stringify({ ...content, bytes: reply.data.length, deliveries: reply.deliveries, ms: Math.round(ms * 1000) / 1000 })}\n`);
      return;
    }
    write(context.output.out, reply.data);
    const last = reply.data.length === 0 ? undefined : reply.data[reply.data.length - 1];
    if (context.output.out.isTTY && last !== 0x0a) write(context.output.out, '\n');
  } catch (error) {
    // Interrupted: the entry point reports the signal.
    if (error instanceof AbortError && context.signal.aborted) return;
    throw error;
  } finally {
    ring.close();
  }
}

/** The request ring; a missing one has no servers: no responders. */
function openRequestRing(path: string, group: string): RingFile {
  try {
    return RingFile.open(path, { create: false, role: 'sender' });
  } catch (error) {
    if (error instanceof SystemCallError && error.errno === 'ENOENT') {
      throw new NoRespondersError(`no responders: there is no ring here, so nobody serves group '${group}'; start a server first (mmapipc serve --file ${path} -- COMMAND)`, { subject: path });
    }
    throw error;
  }
}

async function readStdin(context: CliContext): Promise<Buffer> {
  if (context.stdin.isTTY) throw new UsageError('give the request as an argument, or pipe it into stdin');
  const chunks: Buffer[] = [];
  for await (const chunk of context.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
