import { checkHeader, publishHeader, writeHeader } from '../../src/layout/header.js';
import * as L from '../../src/layout/ring-layout.js';
import { CREATOR, geometryOf, ringMemory } from '../helpers/memory-ring.js';

describe('ring file layout constants', () => {
  test('identity fields follow one another from offset 0, 8-byte fields 8-aligned', () => {
    expect(L.MAGIC_OFFSET).toBe(0);
    expect(L.MAGIC.length).toBe(L.MAGIC_LENGTH);
    expect(L.VERSION_OFFSET).toBe(L.MAGIC_OFFSET + L.MAGIC_LENGTH);
    expect(L.HEADER_LENGTH_OFFSET).toBe(L.VERSION_OFFSET + L.WORD);
    expect(L.SLOT_COUNT_OFFSET).toBe(L.HEADER_LENGTH_OFFSET + L.WORD);
    expect(L.SLOT_SIZE_OFFSET).toBe(L.SLOT_COUNT_OFFSET + L.WORD);
    expect(L.SLOT_STRIDE_OFFSET).toBe(L.SLOT_SIZE_OFFSET + L.WORD);
    expect(L.POSITION_LIMIT_OFFSET).toBe(L.SLOT_STRIDE_OFFSET + L.WORD);
    expect(L.CREATED_AT_OFFSET).toBe(L.POSITION_LIMIT_OFFSET + L.WORD);
    expect(L.CREATOR_PID_OFFSET).toBe(L.CREATED_AT_OFFSET + 8);
    expect(L.FILE_LENGTH_OFFSET).toBe(L.CREATOR_PID_OFFSET + L.WORD);
    expect(L.CREATOR_START_OFFSET).toBe(L.FILE_LENGTH_OFFSET + L.WORD);
    expect(L.CREATOR_START_OFFSET + 8).toBeLessThanOrEqual(L.TAIL_OFFSET);
    for (const offset of [L.CREATED_AT_OFFSET, L.CREATOR_START_OFFSET, L.LAST_ACTIVITY_OFFSET]) expect(offset % 8).toBe(0);
  });

  test('hot words written by different sides sit in blocks of their own', () => {
    expect(L.BLOCK_LENGTH).toBe(2 * L.CACHE_LINE_LENGTH);
    const blocks = [L.TAIL_OFFSET, L.HEAD_OFFSET, L.RECEIVERS_WAITING_OFFSET, L.SENDERS_WAITING_OFFSET, L.RELEASED_SLOTS_OFFSET];
    expect(blocks).toEqual([1, 2, 3, 4, 5].map((n) => n * L.BLOCK_LENGTH));
    expect(L.TAIL_LAPS_OFFSET).toBe(L.TAIL_OFFSET + L.WORD);
    expect(L.HEAD_LAPS_OFFSET).toBe(L.HEAD_OFFSET + L.WORD);
    expect(L.PARTICIPANTS_OFFSET).toBe(L.RELEASED_SLOTS_OFFSET + 3 * L.BLOCK_LENGTH);
    expect(L.PARTICIPANTS_OFFSET + L.PARTICIPANT_CAPACITY * L.PARTICIPANT_LENGTH).toBeLessThanOrEqual(L.RING_HEADER_LENGTH);
    expect(L.RING_HEADER_LENGTH % L.CACHE_LINE_LENGTH).toBe(0);
  });

  test('slot header fields follow one another and keep the payload 8-aligned', () => {
    expect(L.SLOT_SEQUENCE).toBe(0);
    expect(L.SLOT_LENGTH).toBe(L.SLOT_SEQUENCE + L.WORD);
    expect(L.SLOT_PID).toBe(L.SLOT_LENGTH + L.WORD);
    expect(L.SLOT_FLAGS).toBe(L.SLOT_PID + L.WORD);
    expect(L.SLOT_SENT_AT).toBe(L.SLOT_FLAGS + L.WORD);
    expect(L.SLOT_OWNER_POSITION).toBe(L.SLOT_SENT_AT + 8);
    expect(L.SLOT_OWNER).toBe(L.SLOT_OWNER_POSITION + L.WORD);
    expect(L.SLOT_HEADER_LENGTH).toBe(L.SLOT_OWNER + L.WORD);
    expect(L.SLOT_SENT_AT % 8).toBe(0);
    expect(L.SLOT_HEADER_LENGTH % L.SLOT_ALIGNMENT).toBe(0);
  });
});

describe('ringGeometry', () => {
  test('the default ring is the tutorial one: 100 slots of 64 bytes', () => {
    const geometry = geometryOf(L.DEFAULT_SLOT_COUNT, L.DEFAULT_SLOT_SIZE);
    expect(geometry).toEqual({
      slotCount: 100,
      slotSize: 64,
      slotStride: L.SLOT_HEADER_LENGTH + 64,
      positionLimit: 100 * Math.floor(L.POSITION_SPACE / 100),
      headerLength: L.RING_HEADER_LENGTH,
      fileLength: L.RING_HEADER_LENGTH + 100 * (L.SLOT_HEADER_LENGTH + 64),
    });
  });

  test.each([1, 2, 7, 8, 9, 63, 64, 65, 100, 1000])('slot stride for %i-byte slots is the header plus payload, 8-aligned', (size) => {
    const geometry = geometryOf(3, size);
    expect(geometry.slotStride % L.SLOT_ALIGNMENT).toBe(0);
    expect(geometry.slotStride).toBeGreaterThanOrEqual(L.SLOT_HEADER_LENGTH + size);
    expect(geometry.slotStride - (L.SLOT_HEADER_LENGTH + size)).toBeLessThan(L.SLOT_ALIGNMENT);
    expect(geometry.fileLength).toBe(L.RING_HEADER_LENGTH + 3 * geometry.slotStride);
    expect(L.slotOffsetOf(geometry, 2)).toBe(L.RING_HEADER_LENGTH + 2 * geometry.slotStride);
  });

  test.each([L.MIN_SLOT_COUNT, 3, 100, 1000, 12345, L.MAX_SLOT_COUNT])('position limit for %i slots is the largest multiple below the position space', (slots) => {
    const { positionLimit } = geometryOf(slots, 1);
    expect(positionLimit % slots).toBe(0);
    expect(positionLimit).toBeLessThanOrEqual(L.POSITION_SPACE);
    expect(positionLimit).toBeGreaterThan(L.POSITION_SPACE - slots);
  });

  test('the largest slot count and slot size are accepted on their own', () => {
    expect(typeof L.ringGeometry(L.MAX_SLOT_COUNT, 1)).toBe('object');
    expect(typeof L.ringGeometry(L.MIN_SLOT_COUNT, L.MAX_SLOT_SIZE)).toBe('object');
  });

  test.each([0, 1, -1, 1.5, NaN, L.MAX_SLOT_COUNT + 1])('refuses slot count %p with a reason', (slots) => {
    expect(L.ringGeometry(slots, 64)).toBe(`slot count must be an integer from ${L.MIN_SLOT_COUNT} to ${L.MAX_SLOT_COUNT}, got ${slots}`);
  });

  test.each([0, -1, 2.5, L.MAX_SLOT_SIZE + 1])('refuses slot size %p with a reason', (size) => {
    expect(L.ringGeometry(10, size)).toBe(`slot size must be an integer from 1 to ${L.MAX_SLOT_SIZE} bytes, got ${size}`);
  });

  test('refuses a ring whose file would pass the file length limit', () => {
    const need = L.RING_HEADER_LENGTH + L.MAX_SLOT_COUNT * L.alignUp(L.SLOT_HEADER_LENGTH + L.MAX_SLOT_SIZE, L.SLOT_ALIGNMENT);
    expect(L.ringGeometry(L.MAX_SLOT_COUNT, L.MAX_SLOT_SIZE)).toBe(
      `${L.MAX_SLOT_COUNT} slots of ${L.MAX_SLOT_SIZE} bytes need ${need} bytes, more than the ${L.MAX_FILE_LENGTH}-byte limit`,
    );
  });
});

describe('ring header', () => {
  const slots = 5;
  const slotSize = 24;

  function unpublished(): { memory: Buffer; geometry: L.RingGeometry } {
    const geometry = geometryOf(slots, slotSize);
    const memory = Buffer.from(new SharedArrayBuffer(geometry.fileLength));
    writeHeader(memory, geometry, CREATOR);
    return { memory, geometry };
  }

  function reasonOf(memory: Buffer, fileLength: number): string {
    const check = checkHeader(memory, fileLength);
    if (check.kind !== 'invalid') throw new Error(`expected an invalid header, got ${check.kind}`);
    return check.reason;
  }

  test('a published header reads back as ready with its geometry and creator', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    expect(memory.subarray(L.MAGIC_OFFSET, L.MAGIC_OFFSET + L.MAGIC_LENGTH).toString('latin1')).toBe(L.MAGIC);
    expect(checkHeader(memory, geometry.fileLength)).toEqual({
      kind: 'ready',
      header: { ...geometry, version: L.FORMAT_VERSION, ...CREATOR },
    });
  });

  test('writeHeader frees slot i for position i', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    for (let i = 0; i < slots; i++) expect(memory.readUInt32LE(L.slotOffsetOf(geometry, i) + L.SLOT_SEQUENCE)).toBe(i);
  });

  test('a header without its magic is uninitialised, and so is an empty file', () => {
    const { memory, geometry } = unpublished();
    expect(checkHeader(memory, geometry.fileLength)).toEqual({ kind: 'uninitialised' });
    expect(checkHeader(Buffer.alloc(0), 0)).toEqual({ kind: 'uninitialised' });
  });

  test('a file shorter than the magic is not a ring file', () => {
    expect(reasonOf(Buffer.alloc(8), 3)).toBe('not a ring file (3 bytes, shorter than a ring header)');
  });

  test('a foreign magic is named, printable or in hex', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    memory.write('NOTARING', L.MAGIC_OFFSET, 'latin1');
    expect(reasonOf(memory, geometry.fileLength)).toBe(`not a ring file (magic "NOTARING", expected "${L.MAGIC}")`);
    Buffer.from('00ff00ff00ff00ff', 'hex').copy(memory, L.MAGIC_OFFSET);
    expect(reasonOf(memory, geometry.fileLength)).toBe(`not a ring file (magic 0x00ff00ff00ff00ff, expected "${L.MAGIC}")`);
  });

  test('a ring magic in a file shorter than the header is truncated', () => {
    const { memory } = ringMemory(slots, slotSize);
    const length = L.RING_HEADER_LENGTH - 1;
    expect(reasonOf(memory, length)).toBe(`truncated ring file (${length} bytes, the header alone needs ${L.RING_HEADER_LENGTH})`);
  });

  test('another format version is refused by number', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    memory.writeUInt32LE(L.FORMAT_VERSION + 1, L.VERSION_OFFSET);
    expect(reasonOf(memory, geometry.fileLength)).toBe(
      `ring format version ${L.FORMAT_VERSION + 1} is not supported (this mmapipc reads version ${L.FORMAT_VERSION})`,
    );
  });

  test('an impossible slot count or size is corrupt', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    memory.writeUInt32LE(0, L.SLOT_COUNT_OFFSET);
    expect(reasonOf(memory, geometry.fileLength)).toBe(`corrupt ring header: ${L.ringGeometry(0, slotSize)}`);
    memory.writeUInt32LE(slots, L.SLOT_COUNT_OFFSET);
    memory.writeUInt32LE(L.MAX_SLOT_SIZE + 1, L.SLOT_SIZE_OFFSET);
    expect(reasonOf(memory, geometry.fileLength)).toBe(`corrupt ring header: ${L.ringGeometry(slots, L.MAX_SLOT_SIZE + 1)}`);
  });

  test.each([
    ['header length', L.HEADER_LENGTH_OFFSET, (g: L.RingGeometry) => g.headerLength],
    ['slot stride', L.SLOT_STRIDE_OFFSET, (g: L.RingGeometry) => g.slotStride],
    ['position limit', L.POSITION_LIMIT_OFFSET, (g: L.RingGeometry) => g.positionLimit],
    ['recorded file length', L.FILE_LENGTH_OFFSET, (g: L.RingGeometry) => g.fileLength],
  ])('a %s that does not add up is corrupt', (field, offset, expected) => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    memory.writeUInt32LE(expected(geometry) + 8, offset);
    expect(reasonOf(memory, geometry.fileLength)).toBe(
      `corrupt ring header: ${field} is ${expected(geometry) + 8}, expected ${expected(geometry)}`,
    );
  });

  test('a file shorter than its slots need is truncated, a longer one does not add up', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    const need = `${slots} slots of ${slotSize} bytes need exactly ${geometry.fileLength}`;
    expect(reasonOf(memory, geometry.fileLength - 1)).toBe(`truncated ring file (${geometry.fileLength - 1} bytes, ${need})`);
    expect(reasonOf(memory, geometry.fileLength + 8)).toBe(`sizes do not add up (${geometry.fileLength + 8} bytes, ${need})`);
  });

  test('head or tail at or past the position limit is out of range', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    memory.writeUInt32LE(geometry.positionLimit, L.TAIL_OFFSET);
    expect(reasonOf(memory, geometry.fileLength)).toBe(
      `corrupt ring header: positions out of range (head 0, tail ${geometry.positionLimit}, limit ${geometry.positionLimit})`,
    );
    memory.writeUInt32LE(0, L.TAIL_OFFSET);
    memory.writeUInt32LE(0xffffffff, L.HEAD_OFFSET);
    expect(reasonOf(memory, geometry.fileLength)).toBe(
      `corrupt ring header: positions out of range (head ${0xffffffff}, tail 0, limit ${geometry.positionLimit})`,
    );
  });

  test('more messages between head and tail than slots is corrupt, across the wrap too', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    memory.writeUInt32LE(slots + 1, L.TAIL_OFFSET);
    expect(reasonOf(memory, geometry.fileLength)).toBe(
      `corrupt ring header: ${slots + 1} messages between head 0 and tail ${slots + 1}, but only ${slots} slots`,
    );
    // A full ring straddling the wrap is fine; one more is not.
    const head = geometry.positionLimit - 2;
    memory.writeUInt32LE(head, L.HEAD_OFFSET);
    memory.writeUInt32LE(slots - 2, L.TAIL_OFFSET);
    expect(checkHeader(memory, geometry.fileLength).kind).toBe('ready');
    memory.writeUInt32LE(slots - 1, L.TAIL_OFFSET);
    expect(reasonOf(memory, geometry.fileLength)).toBe(
      `corrupt ring header: ${slots + 1} messages between head ${head} and tail ${slots - 1}, but only ${slots} slots`,
    );
  });

  test('publishHeader writes the magic last: everything else is in place before it', () => {
    const { memory, geometry } = unpublished();
    expect(memory.subarray(0, L.MAGIC_LENGTH).every((byte) => byte === 0)).toBe(true);
    expect(memory.readUInt32LE(L.VERSION_OFFSET)).toBe(L.FORMAT_VERSION);
    publishHeader(memory);
    expect(checkHeader(memory, geometry.fileLength).kind).toBe('ready');
  });
});
