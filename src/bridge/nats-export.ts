/**
 * Ring -> NATS JetStream.
 *
 * A stream of the bridge's own (the default) is written as a chain: every message carries
 * `Nats-Expected-Last-Sequence`, so the stream stores it only right after the one before it.
 * All but the last message of a chunk go out as plain publishes; the last is a JetStream request
 * whose acknowledgement, at the expected sequence, proves the whole chunk stored with no gap
 * and no duplicate. After any failure or restart the stream's last message tells (in its
 * Mmapipc-* headers) which ring sequence it holds; held messages up to it are not sent again.
 * This holds across any downtime, but only while the bridge is the stream's only writer.
 *
 * `--shared` (other writers on the stream) sends each message as a JetStream request with
 * `Nats-Msg-Id` = ring identity, incarnation and sequence: the server drops a repeat, but only
 * within the stream's duplicate window (2 minutes by default). Down longer than that, a message
 * held at the crash is stored twice; and a retried message may land after later ones.
 */
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { JetStreamApiError, RetentionPolicy, StorageType, jetstream, type JetStreamClient, type StreamInfo } from '@nats-io/jetstream';
import { BridgeMessageTooLargeError, EngineConfigError } from '../errors.js';
import type { ExportSink, Outgoing } from './export-loop.js';
import { API_NO_MESSAGE_FOUND, retryableOrFatal, streamInfo, subjectMatches, type NatsSession } from './nats-connect.js';
import { ORIGIN_HEADERS } from './origin.js';
import type { RingOrigin } from './ring-attach.js';
import { RetryableError, type BridgeRuntime } from './runtime.js';

export interface NatsExportOptions {
  readonly stream: string;
  readonly subject: string | undefined;
  /** The subject when neither --subject nor a single-subject stream names one. */
  readonly defaultSubject: string;
  readonly createStream: boolean;
  readonly shared: boolean;
  /** Messages per chunk (one awaited acknowledgement per chunk). */
  readonly batch: number;
  readonly slotSize: number;
  readonly dryRun: boolean;
}

export interface NatsExportPlan {
  readonly stream: string;
  readonly subject: string;
  readonly mode: 'chain' | 'shared';
  readonly streamExists: boolean;
  readonly storedMessages: number;
  readonly maxPayload: number;
  readonly maxMessageSize: number;
  readonly duplicateWindowMs: number | undefined;
}

const PUBLISH_TIMEOUT_MS = 2000;

/** Bytes of the Mmapipc-* and Nats-* headers, at most (the origin's strings aside). */
const HEADER_OVERHEAD = 256;

/** Checks the stream (creating it with --create-stream), the subject and the sizes; returns the plan. */
export async function prepareNatsExport(session: NatsSession, origin: RingOrigin, options: NatsExportOptions): Promise<NatsExportPlan> {
  const subject0 = options.subject;
  let info = await streamInfo(session, options.stream);
  if (info === undefined && !options.createStream) {
    throw new EngineConfigError(`stream '${options.stream}' does not exist; create it, or pass --create-stream`, { subject: session.target.display });
  }
  const subject = subject0 ?? singleSubject(info) ?? options.defaultSubject;
  if (info === undefined && !options.dryRun) {
    try {
      info = await session.jsm.streams.add({ name: options.stream, subjects: [subject], storage: StorageType.File });
    } catch (error) {
      throw retryableOrFatal(error, session.target.display);
    }
  }
  if (info) {
    const subjects = info.config.subjects ?? [];
    if (!subjects.some((filter) => subjectMatches(filter, subject))) {
      throw new EngineConfigError(
        `stream '${options.stream}' does not take subject '${subject}' (its subjects: ${subjects.join(', ') || 'none'}); pass --subject with one of them`,
        { subject: session.target.display },
      );
    }
    if (!options.shared && info.config.retention !== RetentionPolicy.Limits) {
      throw new EngineConfigError(
        `stream '${options.stream}' has ${info.config.retention} retention: its last message may be gone when the bridge restarts, so a chained export could not tell what is stored; use a limits stream, or --shared`,
        { subject: session.target.display },
      );
    }
  }
  const headerBytes = HEADER_OVERHEAD + 2 * (origin.identity.length + origin.incarnation.length);
  const maxPayload = session.nc.info?.max_payload ?? Infinity;
  const maxMessageSize = info?.config.max_msg_size ?? -1;
  const needed = options.slotSize + headerBytes;
  if (needed > maxPayload || (maxMessageSize > 0 && needed > maxMessageSize)) {
    const limit = maxMessageSize > 0 ? Math.min(maxMessageSize, maxPayload) : maxPayload;
    throw new BridgeMessageTooLargeError(
      `the ring's ${options.slotSize}-byte messages take up to ${needed} bytes with their headers; the ${maxMessageSize > 0 && maxMessageSize < maxPayload ? `stream '${options.stream}' takes` : 'server takes'} ${limit}: raise the limit, or use a ring with smaller slots`,
      { subject: session.target.display },
    );
  }
  return {
    stream: options.stream,
    subject,
    mode: options.shared ? 'shared' : 'chain',
    streamExists: info !== undefined,
    storedMessages: info?.state.messages ?? 0,
    maxPayload,
    maxMessageSize,
    duplicateWindowMs: info ? Math.round(info.config.duplicate_window / 1e6) : undefined,
  };
}

/** A header value: printable ASCII, the rest percent-encoded (a Redis key may hold any bytes). */
function headerValue(text: string): string {
  return text.replace(/[^\x20-\x7e]|%/g, (character) => encodeURIComponent(character));
}

/** The stream's one literal subject, if it has exactly one. */
function singleSubject(info: StreamInfo | undefined): string | undefined {
  const subjects = info?.config.subjects ?? [];
  return subjects.length === 1 && !/[*>]/.test(subjects[0]!) ? subjects[0] : undefined;
}

export class NatsExportSink implements ExportSink {
  readonly #session: NatsSession;
  readonly #js: JetStreamClient;
  readonly #origin: RingOrigin;
  readonly #plan: NatsExportPlan;
  readonly #batch: number;
  readonly #runtime: BridgeRuntime;
  /** Chain: the stream's last sequence, as of the last resync or acknowledgement. */
  #last = 0;
  /** "NATS/1.0" and the headers every message of this ring carries alike. */
  readonly #headerPrefix: string;
  /**
   * Set after a broken chain: the next store sends its first message alone and awaits it, so
   * that the real refusal (a full stream, say) shows instead of the chain's "wrong last sequence".
   */
  #probe = false;

  constructor(session: NatsSession, origin: RingOrigin, plan: NatsExportPlan, batch: number, runtime: BridgeRuntime) {
    this.#session = session;
    // A chunk's acknowledgement comes in milliseconds; a lost one (the server restarted) is resynced after this.
    this.#js = jetstream(session.nc, { timeout: PUBLISH_TIMEOUT_MS });
    this.#origin = origin;
    this.#plan = plan;
    this.#batch = batch;
    this.#runtime = runtime;
    this.#headerPrefix = `NATS/1.0\r\n${ORIGIN_HEADERS.ring}: ${origin.identity}\r\n${ORIGIN_HEADERS.incarnation}: ${origin.incarnation}\r\n`;
  }

  async resync(): Promise<number> {
    if (this.#plan.mode === 'shared') return -1; // the server's duplicate window does the skipping
    const info = await streamInfo(this.#session, this.#plan.stream);
    if (info === undefined) throw new EngineConfigError(`stream '${this.#plan.stream}' went away`, { subject: this.#session.target.display });
    this.#last = info.state.last_seq;
    this.#runtime.counters.enginePosition = String(this.#last);
    if (this.#last === 0) return -1;
    let headersOfLast: MsgHdrs | undefined;
    try {
      headersOfLast = (await this.#session.jsm.streams.getMessage(this.#plan.stream, { seq: this.#last }))?.header;
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === API_NO_MESSAGE_FOUND)) throw retryableOrFatal(error, this.#session.target.display);
      // Purged or deleted: what it held is gone from the stream anyway.
      this.#runtime.event('note', { message: `the stream's last message ${this.#last} was removed; held messages are sent again` });
      return -1;
    }
    const ring = headersOfLast?.get(ORIGIN_HEADERS.ring);
    if (ring !== this.#origin.identity) {
      throw new EngineConfigError(
        `stream '${this.#plan.stream}' has another writer (its last message ${this.#last} came from ${ring ? `ring ${ring}` : 'outside mmapipc'}); a chained export must be the stream's only writer: use a stream of its own, or --shared`,
        { subject: this.#session.target.display },
      );
    }
    if (headersOfLast!.get(ORIGIN_HEADERS.incarnation) !== this.#origin.incarnation) return -1; // an earlier life of the ring
    return Number(headersOfLast!.get(ORIGIN_HEADERS.sequence));
  }

  /** The header block, encoded once per message with no header object (the client only calls encode()). */
  #rawHeaders(message: Outgoing, expectedLast: number): MsgHdrs {
    const bytes = Buffer.from(
      `${this.#headerPrefix}${ORIGIN_HEADERS.sequence}: ${message.sequence}\r\n${ORIGIN_HEADERS.pid}: ${message.pid}\r\n${ORIGIN_HEADERS.sentAt}: ${message.sentAt}\r\n${
        message.via === undefined ? '' : `${ORIGIN_HEADERS.via}: ${headerValue(message.via)}\r\n`
      }Nats-Expected-Last-Sequence: ${expectedLast}\r\n\r\n`,
      'latin1',
    );
    return { encode: () => bytes } as unknown as MsgHdrs;
  }

  #headersOf(message: Outgoing): MsgHdrs {
    const h = headers();
    h.set(ORIGIN_HEADERS.ring, this.#origin.identity);
    h.set(ORIGIN_HEADERS.incarnation, this.#origin.incarnation);
    h.set(ORIGIN_HEADERS.sequence, String(message.sequence));
    h.set(ORIGIN_HEADERS.pid, String(message.pid));
    h.set(ORIGIN_HEADERS.sentAt, String(message.sentAt));
    if (message.via !== undefined) h.set(ORIGIN_HEADERS.via, headerValue(message.via));
    return h;
  }

  async store(messages: readonly Outgoing[]): Promise<void> {
    // A message of several slots can pass the server's limit although one slot does not: stop
    // before it (its batch stays unfinished in the ring), naming it.
    const limit = this.#plan.maxPayload;
    for (const message of messages) {
      if (message.data.length + HEADER_OVERHEAD > limit) {
        throw new BridgeMessageTooLargeError(
          `ring message ${message.sequence} has ${message.data.length} bytes; with its headers it passes the ${limit} bytes the server takes (max_payload): raise the limit, or send smaller messages`,
          { subject: this.#session.target.display },
        );
      }
    }
    if (this.#plan.mode === 'shared') return this.#storeShared(messages);
    const { nc } = this.#session;
    const subject = this.#plan.subject;
    const acks: Array<Promise<void>> = [];
    let expected = this.#last;
    let first = 0;
    if (this.#probe) {
      const h = this.#headersOf(messages[0]!);
      h.set('Nats-Expected-Last-Sequence', String(expected));
      try {
        const ack = await this.#js.publish(subject, messages[0]!.data, { headers: h });
        if (ack.seq !== expected + 1) throw new RetryableError('conflict', `stored at ${ack.seq}, expected ${expected + 1}`);
      } catch (error) {
        throw error instanceof RetryableError ? error : retryableOrFatal(error, this.#session.target.display);
      }
      this.#probe = false;
      this.#last = ++expected;
      first = 1;
    }
    try {
      for (let start = first; start < messages.length; start += this.#batch) {
        const end = Math.min(start + this.#batch, messages.length);
        for (let i = start; i < end; i++) {
          const message = messages[i]!;
          if (i < end - 1) {
            nc.publish(subject, message.data, { headers: this.#rawHeaders(message, expected++) });
          } else {
            const h = this.#headersOf(message);
            h.set('Nats-Expected-Last-Sequence', String(expected++));
            const want = expected;
            acks.push(
              this.#js.publish(subject, message.data, { headers: h }).then((ack) => {
                if (ack.seq !== want) throw new RetryableError('conflict', `stored at ${ack.seq}, expected ${want}`);
              }),
            );
          }
        }
      }
    } catch (error) {
      acks.push(Promise.reject(error)); // a publish refused at once (connection closed)
    }
    const results = await Promise.allSettled(acks);
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) {
      this.#probe = true;
      throw failed.reason instanceof RetryableError ? failed.reason : retryableOrFatal(failed.reason, this.#session.target.display);
    }
    this.#last = expected;
    this.#runtime.counters.enginePosition = String(expected);
  }

  async #storeShared(messages: readonly Outgoing[]): Promise<void> {
    const subject = this.#plan.subject;
    const results = await Promise.allSettled(
      messages.map((message) =>
        this.#js.publish(subject, message.data, {
          headers: this.#headersOf(message),
          msgID: `${this.#origin.identity}|${this.#origin.incarnation}|${message.sequence}`,
        }),
      ),
    );
    let last = 0;
    for (const result of results) {
      if (result.status === 'rejected') throw retryableOrFatal(result.reason, this.#session.target.display);
      if (result.value.duplicate) this.#runtime.counters.duplicatesSuppressed++;
      last = Math.max(last, result.value.seq);
    }
    this.#runtime.counters.enginePosition = String(last);
  }

  async close(): Promise<void> {
    await this.#session.nc.close().catch(() => {});
  }
}
