/**
 * RingFile.request and RingFile.serve as a library user meets them: the typed errors, several
 * requests in flight from one handle, the reply ring made lazily and removed on close.
 */
import { existsSync, readdirSync } from 'node:fs';
import { AbortError, ErrorReplyError, NoRespondersError, TimeoutError } from '../../src/errors.js';
import { RingFile } from '../../src/ring-file/ring-file.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('mmapipc-reqrep-lib-');
afterAll(() => dir.remove());

test('requests in flight together each get their own reply; the reply ring goes with close()', async () => {
  const path = dir.file('lib.ring');
  const server = RingFile.open(path, { role: 'sender' });
  const stop = new AbortController();
  const serving = server.serve((request) => {
    const text = request.data.toString();
    if (text === 'boom') throw new Error('no such thing');
    if (text === 'slow') return new Promise<string>(() => {}); // never answers
    return `${text}!`;
  }, { concurrency: 4, signal: stop.signal });
  const client = RingFile.open(path, { role: 'sender' });
  expect(client.replyRingPath).toBeUndefined();
  const replies = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((text) => client.request(text)));
  expect(replies.map((reply) => reply.data.toString())).toEqual(['a!', 'b!', 'c!', 'd!', 'e!', 'f!']);
  expect(replies.every((reply) => reply.deliveries === 0 && reply.kind === 2)).toBe(true);
  const replyRing = client.replyRingPath!;
  expect(existsSync(replyRing)).toBe(true);

  const error = await client.request('boom').catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ErrorReplyError);
  expect((error as ErrorReplyError).text).toBe('no such thing');

  const timedOut = await client.request('slow', { timeoutMs: 200 }).catch((caught: unknown) => caught);
  expect(timedOut).toBeInstanceOf(TimeoutError);

  const abort = new AbortController();
  const aborted = client.request('slow', { timeoutMs: 10_000, signal: abort.signal }).catch((caught: unknown) => caught);
  abort.abort();
  expect(await aborted).toBeInstanceOf(AbortError);

  const noOne = await client.request('x', { group: 'nobody' }).catch((caught: unknown) => caught);
  expect(noOne).toBeInstanceOf(NoRespondersError);

  client.close();
  expect(existsSync(replyRing)).toBe(false);
  stop.abort();
  await serving;
  server.close();
  expect(readdirSync(`${path}.replies`)).toEqual([]);
});

test('the async waits of a closed ring reject (they do not throw at the call), and close() ends a pending one with null', async () => {
  const path = dir.file('closed.ring');
  const ring = RingFile.create(path, { role: 'both' });
  const pending = ring.receiveAsync({ timeoutMs: 60_000 });
  ring.close();
  await expect(pending).resolves.toBeNull();
  let calls: Array<Promise<unknown>> = [];
  expect(() => {
    calls = [ring.receiveAsync(), ring.waitForMessage(), ring.waitForRoom(), ring.sendAsync('x')];
  }).not.toThrow();
  for (const call of calls) await expect(call).rejects.toThrow('ring is closed');
});
