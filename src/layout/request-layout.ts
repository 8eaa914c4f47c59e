/**
 * Requests and replies (docs/format.md §9a): the two message kinds and the extensions that sit
 * between a message's header and its payload. Offsets are built up one field at a time.
 *
 * A request (kind 1), 40 bytes:
 *
 *   0              8              16                              32             40
 *   +--------------+--------------+-------------------------------+--------------+
 *   | correlation  | deadline f64 | reply ring id (16 bytes)      | reserved (0) |
 *   +--------------+--------------+-------------------------------+--------------+
 *
 * A reply (kind 2), 16 bytes:
 *
 *   0              8        12       16
 *   +--------------+--------+--------+
 *   | correlation  | status |delivrs |
 *   +--------------+--------+--------+
 */
export const KIND_REQUEST = 1;
export const KIND_REPLY = 2;

/** The group servers read a request ring as, unless told otherwise. */
export const DEFAULT_SERVE_GROUP = 'requests';
/** Reply rings live in `<request ring path>${REPLIES_DIR_SUFFIX}/<32 hex digits of the reply ring's id>`. */
export const REPLIES_DIR_SUFFIX = '.replies';

let request = 0;
/** u64: the client's number for the request, unique per reply ring. */
export const REQUEST_CORRELATION = request;
request += 8;
/** f64: ms since the epoch after which nobody wants the reply (0: none). */
export const REQUEST_DEADLINE = request;
request += 8;
/** 16 bytes: the ring id of the client's reply ring (it names the file too). */
export const REQUEST_REPLY_RING = request;
export const RING_ID_LENGTH = 16;
request += RING_ID_LENGTH;
export const REQUEST_RESERVED = request;
request += 8;
export const REQUEST_EXTENSION_LENGTH = request;

let reply = 0;
/** u64: the request's correlation. */
export const REPLY_CORRELATION = reply;
reply += 8;
/** u32: a ReplyStatus. */
export const REPLY_STATUS = reply;
reply += 4;
/** u32: how many times the request was delivered before this reply. */
export const REPLY_DELIVERIES = reply;
reply += 4;
export const REPLY_EXTENSION_LENGTH = reply;

export const ReplyStatus = {
  /** The handler's reply. */
  ok: 0,
  /** An error reply: the payload is the error text. */
  error: 1,
  /** Given up: its server died holding it after it had been redelivered once, or its deadline passed. */
  givenUp: 2,
} as const;
export type ReplyStatusValue = (typeof ReplyStatus)[keyof typeof ReplyStatus];

/** A request redelivered this many times (two servers died holding it) is answered "given up". */
export const MAX_REQUEST_DELIVERIES = 2;
