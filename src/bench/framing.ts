/** Length-prefixed frames over a byte stream (socket, FIFO): u32 LE length, then the message. */
export const FRAME_HEADER_LENGTH = 4;

export function frame(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + message.length);
  framed.writeUInt32LE(message.length, 0);
  framed.set(message, FRAME_HEADER_LENGTH);
  return framed;
}

export type OnFrame = (data: Buffer, offset: number, length: number) => void;

/** Cuts arriving chunks into frames; a frame split across chunks is joined first. */
export class FrameReader {
  #pending: Buffer | undefined;

  push(chunk: Buffer, onFrame: OnFrame): void {
    let data = chunk;
    if (this.#pending) {
      data = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    let offset = 0;
    while (data.length - offset >= FRAME_HEADER_LENGTH) {
      const length = data.readUInt32LE(offset);
      const end = offset + FRAME_HEADER_LENGTH + length;
      if (end > data.length) break;
      onFrame(data, offset + FRAME_HEADER_LENGTH, length);
      offset = end;
    }
    if (offset < data.length) this.#pending = data.subarray(offset);
  }
}
