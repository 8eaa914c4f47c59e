/**
 * Reading and writing the request and reply extensions (docs/format.md §9a). Pure: Buffers only.
 * Correlations are u64 on the wire; mmapipc's clients count from 1 and stay below 2^53.
 */
import {
  REPLY_CORRELATION,
  REPLY_DELIVERIES,
  REPLY_EXTENSION_LENGTH,
  REPLY_STATUS,
  REQUEST_CORRELATION,
  REQUEST_DEADLINE,
  REQUEST_EXTENSION_LENGTH,
  REQUEST_REPLY_RING,
  RING_ID_LENGTH,
  type ReplyStatusValue,
} from '../layout/request-layout.js';

export interface RequestHeader {
  readonly correlation: number;
  /** ms since the epoch; 0: none. */
  readonly deadline: number;
  /** The reply ring's id: 16 bytes. */
  readonly replyRing: Buffer;
}

export interface ReplyHeader {
  readonly correlation: number;
  readonly status: number;
  readonly deliveries: number;
}

function readU64(buffer: Buffer, offset: number): number {
  return Number(buffer.readBigUInt64LE(offset));
}

export function encodeRequest(header: RequestHeader, into: Buffer = Buffer.alloc(REQUEST_EXTENSION_LENGTH)): Buffer {
  into.fill(0, 0, REQUEST_EXTENSION_LENGTH);
  into.writeBigUInt64LE(BigInt(header.correlation), REQUEST_CORRELATION);
  into.writeDoubleLE(header.deadline, REQUEST_DEADLINE);
  header.replyRing.copy(into, REQUEST_REPLY_RING, 0, RING_ID_LENGTH);
  return into;
}

/** The request header of an extension, or undefined when it is too short to be one. */
export function decodeRequest(extension: Buffer): RequestHeader | undefined {
  if (extension.length < REQUEST_EXTENSION_LENGTH) return undefined;
  return {
    correlation: readU64(extension, REQUEST_CORRELATION),
    deadline: extension.readDoubleLE(REQUEST_DEADLINE),
    replyRing: Buffer.from(extension.subarray(REQUEST_REPLY_RING, REQUEST_REPLY_RING + RING_ID_LENGTH)),
  };
}

export function encodeReply(correlation: number, status: ReplyStatusValue, deliveries: number): Buffer {
  const extension = Buffer.alloc(REPLY_EXTENSION_LENGTH);
  extension.writeBigUInt64LE(BigInt(correlation), REPLY_CORRELATION);
  extension.writeUInt32LE(status, REPLY_STATUS);
  extension.writeUInt32LE(deliveries >>> 0, REPLY_DELIVERIES);
  return extension;
}

export function decodeReply(extension: Buffer): ReplyHeader | undefined {
  if (extension.length < REPLY_EXTENSION_LENGTH) return undefined;
  return {
    correlation: readU64(extension, REPLY_CORRELATION),
    status: extension.readUInt32LE(REPLY_STATUS),
    deliveries: extension.readUInt32LE(REPLY_DELIVERIES),
  };
}
