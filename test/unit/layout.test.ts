import { checkHeader, publishHeader, writeHeader } from '../../src/layout/header.js';
import { MAX_WINDOW_LENGTH, dataWindows } from '../../src/layout/data-windows.js';
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
    expect(L.GROUP_CAPACITY_OFFSET).toBe(L.SLOT_STRIDE_OFFSET + L.WORD);
    expect(L.CREATED_AT_OFFSET).toBe(L.GROUP_CAPACITY_OFFSET + L.WORD);
    expect(L.CREATOR_PID_OFFSET).toBe(L.CREATED_AT_OFFSET + 8);
    expect(L.DATA_OFFSET_OFFSET).toBe(L.CREATOR_PID_OFFSET + L.WORD);
    expect(L.CREATOR_START_OFFSET).toBe(L.DATA_OFFSET_OFFSET + L.WORD);
    expect(L.RING_ID_OFFSET).toBe(L.CREATOR_START_OFFSET + 8);
    expect(L.FILE_LENGTH_OFFSET).toBe(L.RING_ID_OFFSET + L.RING_ID_LENGTH);
    expect(L.FILE_LENGTH_OFFSET + 8).toBeLessThanOrEqual(L.TAIL_OFFSET);
    // docs/format.md §2.1: the offsets an independent reader uses.
    expect([L.DATA_OFFSET_OFFSET, L.CREATOR_START_OFFSET, L.RING_ID_OFFSET, L.FILE_LENGTH_OFFSET]).toEqual([44, 48, 56, 72]);
    for (const offset of [L.CREATED_AT_OFFSET, L.CREATOR_START_OFFSET, L.LAST_ACTIVITY_OFFSET, L.FILE_LENGTH_OFFSET]) expect(offset % 8).toBe(0);
  });

  test('hot words written by different sides sit in blocks of their own; the tail is an 8-aligned u64', () => {
    expect(L.BLOCK_LENGTH).toBe(2 * L.CACHE_LINE_LENGTH);
    const blocks = [L.TAIL_OFFSET, L.MEMBERS_WAITING_OFFSET, L.SENDERS_WAITING_OFFSET, L.RELEASED_SLOTS_OFFSET];
    expect(blocks).toEqual([128, 256, 384, 512]);
    expect(blocks).toEqual([1, 2, 3, 4].map((n) => n * L.BLOCK_LENGTH));
    expect(L.TAIL_OFFSET % 8).toBe(0);
    expect(L.MESSAGES_SENT_OFFSET).toBe(L.TAIL_OFFSET + L.CACHE_LINE_LENGTH);
    expect(L.REDELIVERED_OFFSET).toBe(L.RELEASED_SLOTS_OFFSET + L.WORD);
    expect(L.LAST_ACTIVITY_OFFSET).toBe(L.RELEASED_SLOTS_OFFSET + 2 * L.WORD);
    expect(L.PARTICIPANTS_OFFSET).toBe(1024);
    expect(L.PARTICIPANTS_OFFSET).toBe(L.RELEASED_SLOTS_OFFSET + 4 * L.BLOCK_LENGTH);
  });

  test('the participant table (64 x 128 bytes) is followed by the group table at 9216', () => {
    expect([L.PARTICIPANT_CAPACITY, L.PARTICIPANT_LENGTH]).toEqual([64, 128]);
    expect(L.GROUPS_OFFSET).toBe(L.PARTICIPANTS_OFFSET + L.PARTICIPANT_CAPACITY * L.PARTICIPANT_LENGTH);
    expect(L.GROUPS_OFFSET).toBe(9216);
    expect(L.participantOffset(0)).toBe(L.PARTICIPANTS_OFFSET);
    expect(L.participantOffset(63)).toBe(L.PARTICIPANTS_OFFSET + 63 * L.PARTICIPANT_LENGTH);
    expect(L.groupOffset(0)).toBe(L.GROUPS_OFFSET);
    expect(L.groupOffset(3)).toBe(L.GROUPS_OFFSET + 3 * L.GROUP_LENGTH);
  });

  test('participant entry fields fit the entry; its positions (u64) and times (f64) are 8-aligned', () => {
    const fields = [
      [L.PARTICIPANT_PID, 4],
      [L.PARTICIPANT_ROLE, 4],
      [L.PARTICIPANT_START, 8],
      [L.PARTICIPANT_ATTACHED_AT, 8],
      [L.PARTICIPANT_GENERATION, 4],
      [L.PARTICIPANT_GROUP, 4],
      [L.PARTICIPANT_INTENT_START, 8],
      [L.PARTICIPANT_INTENT_COUNT, 4],
      [L.PARTICIPANT_RUN_COUNT, 4],
      [L.PARTICIPANT_RUN_START, 8],
      [L.PARTICIPANT_RUN_DELIVERIES, 4],
      [L.PARTICIPANT_INTENT_SINCE, 8],
      [L.PARTICIPANT_RUN_SINCE, 8],
    ] as const;
    const bytes = new Array<number>(L.PARTICIPANT_LENGTH).fill(0);
    for (const [offset, size] of fields) {
      expect(offset % size).toBe(0);
      expect(offset + size).toBeLessThanOrEqual(L.PARTICIPANT_LENGTH);
      for (let i = offset; i < offset + size; i++) bytes[i]!++;
    }
    expect(bytes.every((count) => count <= 1)).toBe(true); // no two fields overlap
  });

  test('group entry fields fit the entry; the dispatch word (u64) and creation time (f64) are 8-aligned', () => {
    const fields = [
      [L.GROUP_STATE, 4],
      [L.GROUP_FLAGS, 4],
      [L.GROUP_DISPATCH, 8],
      [L.GROUP_GENERATION, 4],
      [L.GROUP_REDELIVERED, 4],
      [L.GROUP_MISSED, 4],
      [L.GROUP_GAPS, 4],
      [L.GROUP_NAME_LENGTH, 4],
      [L.GROUP_NAME, L.GROUP_NAME_MAX],
      [L.GROUP_CREATED_AT, 8],
    ] as const;
    const bytes = new Array<number>(L.GROUP_LENGTH).fill(0);
    for (const [offset, size] of fields) {
      expect(offset % (size === L.GROUP_NAME_MAX ? L.WORD : size)).toBe(0);
      expect(offset + size).toBeLessThanOrEqual(L.GROUP_LENGTH);
      for (let i = offset; i < offset + size; i++) bytes[i]!++;
    }
    expect(bytes.every((count) => count <= 1)).toBe(true);
  });

  test('message header fields follow one another and keep the payload 8-aligned', () => {
    expect(L.SLOT_LENGTH).toBe(0);
    expect(L.SLOT_SPAN).toBe(L.SLOT_LENGTH + L.WORD);
    expect(L.SLOT_PID).toBe(L.SLOT_SPAN + L.WORD);
    expect(L.SLOT_SHAPE).toBe(L.SLOT_PID + L.WORD);
    expect(L.SLOT_SENT_AT).toBe(L.SLOT_SHAPE + L.WORD);
    expect(L.SLOT_OWNER).toBe(L.SLOT_SENT_AT + 8);
    expect(L.SLOT_RESERVED).toBe(L.SLOT_OWNER + L.WORD);
    expect(L.SLOT_HEADER_LENGTH).toBe(32);
    expect(L.SLOT_HEADER_LENGTH).toBe(L.SLOT_RESERVED + L.WORD);
    expect(L.SLOT_SENT_AT % 8).toBe(0);
    expect(L.SLOT_HEADER_LENGTH % L.SLOT_ALIGNMENT).toBe(0);
  });

  test('sequence words: q + 1 in 30 bits, bit 30 a skip record', () => {
    expect(L.SEQUENCE_VALUE_MASK).toBe(2 ** 30 - 1);
    expect(L.SEQUENCE_SKIP_BIT).toBe(2 ** 30);
    expect(L.SEQUENCE_RELEASED_BIT).toBe(L.SEQUENCE_SKIP_BIT);
    // seqValue must tell q, q - N and q - 2N apart.
    expect(2 * L.MAX_SLOT_COUNT).toBeLessThan(2 ** 30);
    expect([0, 1, 41].map(L.seqValue)).toEqual([1, 2, 42]);
    expect(L.seqValue(2 ** 30 - 2)).toBe(2 ** 30 - 1);
    expect(L.seqValue(2 ** 30 - 1)).toBe(0); // wraps in 30 bits
    expect(L.seqValue(2 ** 30)).toBe(1);
    expect(L.seqValue(2 ** 32 + 5)).toBe(6);
    expect(L.seqValue(-1)).toBe(0);
    expect(L.seqValue(-3)).toBe(2 ** 30 - 2); // the fresh slot 1 of a 4-slot ring: position 1 - 4
  });

  test('owner tags name an entry and its generation', () => {
    expect(L.ownerTag(-1, 5)).toBe(0);
    expect(L.ownerTag(0, 0)).toBe(1);
    expect(L.ownerTag(63, 1)).toBe((1 << L.OWNER_GENERATION_SHIFT) | 64);
    expect(L.ownerTag(2, L.OWNER_GENERATION_MASK + 3)).toBe((2 << L.OWNER_GENERATION_SHIFT) | 3); // generation mod 2^23
    expect(L.PARTICIPANT_CAPACITY).toBeLessThanOrEqual(L.OWNER_ENTRY_MASK);
  });

  test('the tail word: 56 bits of position under an 8-bit gate epoch', () => {
    expect(L.EPOCH_UNIT).toBe(1n << 56n);
    expect(L.POSITION_MASK).toBe((1n << 56n) - 1n);
    expect(BigInt(L.MAX_POSITION)).toBeLessThan(L.POSITION_MASK);
  });
});

describe('ringGeometry', () => {
  test('the default ring is the tutorial one: 100 slots of 64 bytes, room for 8 groups, a 12,288-byte header', () => {
    const geometry = geometryOf(L.DEFAULT_SLOT_COUNT, L.DEFAULT_SLOT_SIZE);
    expect(L.DEFAULT_GROUP_CAPACITY).toBe(8);
    // docs/format.md §2: 100 sequence words (400 bytes, padded to 448), then 100 slots of 96 bytes: 22,336 bytes.
    expect(geometry).toEqual({
      slotCount: 100,
      slotSize: 64,
      slotStride: 96,
      groupCapacity: 8,
      headerLength: 12288,
      dataOffset: 12288 + 448,
      fileLength: 22336,
      dataLength: 100 * 96,
      maxSpan: 100,
      maxMessageLength: 100 * 96 - 32 - 40,
    });
    expect(geometry.maxMessageLength).toBeGreaterThanOrEqual(4096); // issue 18: a default ring takes 4 KiB messages
  });

  test('a message takes as many slots as its header and payload need', () => {
    const geometry = geometryOf(100, 64);
    expect([0, 64, 65, 160, 161, 9568].map((length) => L.spanOf(geometry, length))).toEqual([1, 1, 2, 2, 3, 100]);
  });

  test('a ring of 1 MiB holds ten thousand 50-byte messages, or one 512 KiB message', () => {
    const slots = Math.floor((1 << 20) / 96);
    const geometry = geometryOf(slots, 64);
    expect(L.spanOf(geometry, 50)).toBe(1);
    expect(slots).toBeGreaterThanOrEqual(10_000);
    expect(geometry.maxMessageLength).toBeGreaterThanOrEqual(512 * 1024);
  });

  test.each([
    [1, 12288],
    [8, 12288],
    [24, 12288],
    [25, 16384],
    [64, 20480],
  ])('with room for %i groups the header is %i bytes: align4096(9216 + G x 128)', (groups, length) => {
    expect(L.headerLengthFor(groups)).toBe(length);
    expect(geometryOf(4, 8, groups).headerLength).toBe(length);
    expect(length % L.PAGE_LENGTH).toBe(0);
    expect(length).toBeGreaterThanOrEqual(L.groupOffset(groups));
  });

  test.each([1, 2, 7, 8, 9, 63, 64, 65, 100, 1000])('slot stride for %i-byte slots is the header plus payload, 8-aligned', (size) => {
    const geometry = geometryOf(3, size);
    expect(geometry.slotStride % L.SLOT_ALIGNMENT).toBe(0);
    expect(geometry.slotStride).toBeGreaterThanOrEqual(L.SLOT_HEADER_LENGTH + size);
    expect(geometry.slotStride - (L.SLOT_HEADER_LENGTH + size)).toBeLessThan(L.SLOT_ALIGNMENT);
    expect(geometry.dataOffset).toBe(geometry.headerLength + L.CACHE_LINE_LENGTH);
    expect(geometry.fileLength).toBe(geometry.dataOffset + 3 * geometry.slotStride);
    expect(L.slotOffsetOf(geometry, 2)).toBe(geometry.dataOffset + 2 * geometry.slotStride);
    expect(L.sequenceOffsetOf(geometry, 2)).toBe(geometry.headerLength + 2 * L.WORD);
  });

  test('the largest slot count, slot size and group capacity are accepted on their own (within 4 GiB)', () => {
    expect(typeof L.ringGeometry(Math.floor((2 ** 32 - 2 ** 20) / 44), 1)).toBe('object');
    expect(typeof L.ringGeometry(L.MIN_SLOT_COUNT, L.MAX_SLOT_SIZE)).toBe('object');
    expect(typeof L.ringGeometry(L.MIN_SLOT_COUNT, 1, L.MAX_GROUP_CAPACITY)).toBe('object');
  });

  test.each([0, 1, -1, 1.5, NaN, L.MAX_SLOT_COUNT + 1])('refuses slot count %p with a reason', (slots) => {
    expect(L.ringGeometry(slots, 64)).toBe(`slot count must be an integer from ${L.MIN_SLOT_COUNT} to ${L.MAX_SLOT_COUNT}, got ${slots}`);
  });

  test.each([0, -1, 2.5, L.MAX_SLOT_SIZE + 1])('refuses slot size %p with a reason', (size) => {
    expect(L.ringGeometry(10, size)).toBe(`slot size must be an integer from 1 to ${L.MAX_SLOT_SIZE} bytes, got ${size}`);
  });

  test.each([0, -1, 1.5, L.MAX_GROUP_CAPACITY + 1])('refuses group capacity %p with a reason', (groups) => {
    expect(L.ringGeometry(10, 8, groups)).toBe(`group capacity must be an integer from 1 to ${L.MAX_GROUP_CAPACITY}, got ${groups}`);
  });

  test('refuses a ring whose file would pass the 1 TiB file length limit', () => {
    const slots = 2 ** 20;
    const need = L.headerLengthFor(L.DEFAULT_GROUP_CAPACITY) + L.alignUp(slots * 4, 64) + slots * (L.SLOT_HEADER_LENGTH + L.MAX_SLOT_SIZE);
    expect(L.MAX_FILE_LENGTH).toBe(2 ** 40);
    expect(L.ringGeometry(slots, L.MAX_SLOT_SIZE)).toBe(`${slots} slots of ${L.MAX_SLOT_SIZE} bytes need ${need} bytes, more than the ${2 ** 40}-byte (1 TiB) limit of a ring file`);
  });

  test('a ring whose slots pass 4 GiB: a message spans at most 2 GiB of slots', () => {
    // 1 MiB strides: 5120 slots are 5 GiB of data; 2 GiB is 2048 of them.
    const geometry = geometryOf(5120, 2 ** 20 - L.SLOT_HEADER_LENGTH);
    expect(geometry.slotStride).toBe(2 ** 20);
    expect(geometry.dataLength).toBe(5 * 2 ** 30);
    expect(geometry.fileLength).toBe(geometry.dataOffset + 5 * 2 ** 30);
    expect(geometry.maxSpan).toBe(L.MAX_SPAN_LENGTH / 2 ** 20);
    expect(geometry.maxMessageLength).toBe(2 ** 31 - L.SLOT_HEADER_LENGTH - 40); // less the extension reserve (docs/format.md §2)
  });
});

describe('data windows', () => {
  test('a ring whose slots fit a window has one window over all of them', () => {
    const geometry = geometryOf(100, 64);
    expect(dataWindows(geometry)).toEqual([{ firstSlot: 0, homeEnd: 100, offset: geometry.dataOffset, length: 100 * 96 }]);
  });

  test('a bigger one has 4 GiB windows overlapping by the largest message, the last one ending with the ring', () => {
    const geometry = geometryOf(5120, 2 ** 20 - L.SLOT_HEADER_LENGTH);
    const windowSlots = Math.floor(MAX_WINDOW_LENGTH / 2 ** 20); // 4095
    const step = windowSlots - geometry.maxSpan; // 2047
    expect(dataWindows(geometry)).toEqual([
      { firstSlot: 0, homeEnd: step, offset: geometry.dataOffset, length: windowSlots * 2 ** 20 },
      { firstSlot: step, homeEnd: 5120, offset: geometry.dataOffset + step * 2 ** 20, length: (5120 - step) * 2 ** 20 },
    ]);
  });

  test('every message starting in a window\'s home range ends inside it', () => {
    const geometry = geometryOf(60_000, 300_000); // 18 GB of slots
    const windows = dataWindows(geometry);
    expect(windows.length).toBeGreaterThan(2);
    for (const window of windows) {
      expect(window.length).toBeLessThanOrEqual(MAX_WINDOW_LENGTH);
      const lastStart = window.homeEnd - 1;
      const end = Math.min(lastStart + geometry.maxSpan, geometry.slotCount);
      expect((end - window.firstSlot) * geometry.slotStride).toBeLessThanOrEqual(window.length);
    }
    // Home ranges tile the ring: each slot has exactly one window to be read through.
    windows.slice(1).forEach((window, k) => expect(window.firstSlot).toBe(windows[k]!.homeEnd));
    expect(windows.at(-1)!.homeEnd).toBe(geometry.slotCount);
    expect(windows.at(-1)!.offset + windows.at(-1)!.length).toBe(geometry.fileLength);
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

  test('a published header reads back as ready with its geometry, creator and ring id', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    expect(memory.subarray(L.MAGIC_OFFSET, L.MAGIC_OFFSET + L.MAGIC_LENGTH).toString('latin1')).toBe(L.MAGIC);
    expect(checkHeader(memory, geometry.fileLength)).toEqual({
      kind: 'ready',
      header: { ...geometry, version: L.FORMAT_VERSION, ...CREATOR, id: '0'.repeat(32) },
    });
    expect(L.FORMAT_VERSION).toBe(3);
  });

  test('the ring id given at creation is read back in hex', () => {
    const geometry = geometryOf(slots, slotSize);
    const memory = Buffer.from(new SharedArrayBuffer(geometry.fileLength));
    const id = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    writeHeader(memory, geometry, { ...CREATOR, id });
    publishHeader(memory);
    expect(checkHeader(memory, geometry.fileLength)).toMatchObject({ kind: 'ready', header: { id: id.toString('hex') } });
  });

  test('writeHeader starts slot i as the skip record of position i - N (free for position i), the tail at 0', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    for (let i = 0; i < slots; i++) {
      expect(memory.readInt32LE(L.sequenceOffsetOf(geometry, i))).toBe(L.seqValue(i - slots) | L.SEQUENCE_SKIP_BIT);
    }
    expect(memory.readBigUInt64LE(L.TAIL_OFFSET)).toBe(0n);
  });

  test('writeHeader creates the default group: lossless, active, generation 1, from position 0', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    const group = L.groupOffset(0);
    expect(memory.readUInt32LE(group + L.GROUP_STATE)).toBe(L.GROUP_ACTIVE);
    expect(memory.readUInt32LE(group + L.GROUP_FLAGS)).toBe(0);
    expect(memory.readUInt32LE(group + L.GROUP_GENERATION)).toBe(1);
    expect(memory.readBigUInt64LE(group + L.GROUP_DISPATCH)).toBe(0n);
    const nameLength = memory.readUInt32LE(group + L.GROUP_NAME_LENGTH);
    expect(memory.toString('utf8', group + L.GROUP_NAME, group + L.GROUP_NAME + nameLength)).toBe(L.DEFAULT_GROUP);
    for (let index = 1; index < geometry.groupCapacity; index++) {
      expect(memory.readUInt32LE(L.groupOffset(index) + L.GROUP_STATE)).toBe(L.GROUP_FREE);
    }
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

  test('a ring magic in a file shorter than a page is truncated', () => {
    const { memory } = ringMemory(slots, slotSize);
    const length = L.PAGE_LENGTH - 1;
    expect(reasonOf(memory, length)).toBe(`truncated ring file (${length} bytes, the header alone needs at least ${L.PAGE_LENGTH})`);
  });

  test.each([1, 2])('a file of format version %i is named as such, with what to do about it', (version) => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    memory.writeUInt32LE(version, L.VERSION_OFFSET);
    const check = checkHeader(memory, geometry.fileLength);
    expect(check).toMatchObject({ kind: 'invalid', version });
    const reason = (check as { reason: string }).reason;
    expect(reason).toMatch(new RegExp(`format version ${version}\\b`));
    expect(reason).toMatch(/drain it with the mmapipc that made it, then remove it \(mmapipc rm\)/);
  });

  test('another format version is refused by number', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    memory.writeUInt32LE(L.FORMAT_VERSION + 1, L.VERSION_OFFSET);
    expect(checkHeader(memory, geometry.fileLength)).toEqual({
      kind: 'invalid',
      version: L.FORMAT_VERSION + 1,
      reason: `has ring format version ${L.FORMAT_VERSION + 1}, which this mmapipc does not know (it reads version ${L.FORMAT_VERSION}); use the mmapipc that made it`,
    });
  });

  test('an impossible slot count, slot size or group capacity is corrupt', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    memory.writeUInt32LE(0, L.SLOT_COUNT_OFFSET);
    expect(reasonOf(memory, geometry.fileLength)).toBe(`corrupt ring header: ${L.ringGeometry(0, slotSize)}`);
    memory.writeUInt32LE(slots, L.SLOT_COUNT_OFFSET);
    memory.writeUInt32LE(L.MAX_SLOT_SIZE + 1, L.SLOT_SIZE_OFFSET);
    expect(reasonOf(memory, geometry.fileLength)).toBe(`corrupt ring header: ${L.ringGeometry(slots, L.MAX_SLOT_SIZE + 1)}`);
    memory.writeUInt32LE(slotSize, L.SLOT_SIZE_OFFSET);
    memory.writeUInt32LE(0, L.GROUP_CAPACITY_OFFSET);
    expect(reasonOf(memory, geometry.fileLength)).toBe(`corrupt ring header: ${L.ringGeometry(slots, slotSize, 0)}`);
  });

  test('a group capacity that changes the header length does not add up', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    memory.writeUInt32LE(64, L.GROUP_CAPACITY_OFFSET);
    expect(reasonOf(memory, geometry.fileLength)).toBe(`corrupt ring header: header length is ${geometry.headerLength}, expected ${L.headerLengthFor(64)}`);
  });

  test.each([
    ['header length', L.HEADER_LENGTH_OFFSET, (g: L.RingGeometry) => g.headerLength],
    ['slot stride', L.SLOT_STRIDE_OFFSET, (g: L.RingGeometry) => g.slotStride],
    ['data offset', L.DATA_OFFSET_OFFSET, (g: L.RingGeometry) => g.dataOffset],
  ])('a %s that does not add up is corrupt', (field, offset, expected) => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    memory.writeUInt32LE(expected(geometry) + 8, offset);
    expect(reasonOf(memory, geometry.fileLength)).toBe(
      `corrupt ring header: ${field} is ${expected(geometry) + 8}, expected ${expected(geometry)}`,
    );
  });

  test('a recorded file length (u64) that does not add up is corrupt', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    memory.writeBigUInt64LE(BigInt(geometry.fileLength) + 2n ** 32n, L.FILE_LENGTH_OFFSET);
    expect(reasonOf(memory, geometry.fileLength)).toBe(`corrupt ring header: recorded file length is ${geometry.fileLength + 2 ** 32}, expected ${geometry.fileLength}`);
  });

  test('a file shorter than its slots need is truncated, a longer one does not add up', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    const need = `${slots} slots of ${slotSize} bytes need exactly ${geometry.fileLength}`;
    expect(reasonOf(memory, geometry.fileLength - 1)).toBe(`truncated ring file (${geometry.fileLength - 1} bytes, ${need})`);
    expect(reasonOf(memory, geometry.fileLength + 8)).toBe(`sizes do not add up (${geometry.fileLength + 8} bytes, ${need})`);
  });

  test('a tail position beyond 2^53 is corrupt; up to it, and whatever the gate epoch, it is not', () => {
    const { memory, geometry } = ringMemory(slots, slotSize);
    memory.writeBigUInt64LE(2n ** 53n + 2n, L.TAIL_OFFSET);
    expect(reasonOf(memory, geometry.fileLength)).toBe(`corrupt ring header: tail position ${2 ** 53 + 2} is beyond 2^53`);
    memory.writeBigUInt64LE(L.POSITION_MASK, L.TAIL_OFFSET);
    expect(reasonOf(memory, geometry.fileLength)).toMatch(/^corrupt ring header: tail position \d+ is beyond 2\^53$/);
    memory.writeBigUInt64LE(2n ** 53n, L.TAIL_OFFSET);
    expect(checkHeader(memory, geometry.fileLength).kind).toBe('ready');
    memory.writeBigUInt64LE((255n << 56n) | 7n, L.TAIL_OFFSET); // epoch 255, position 7
    expect(checkHeader(memory, geometry.fileLength).kind).toBe('ready');
  });

  test('publishHeader writes the magic last: everything else is in place before it', () => {
    const { memory, geometry } = unpublished();
    expect(memory.subarray(0, L.MAGIC_LENGTH).every((byte) => byte === 0)).toBe(true);
    expect(memory.readUInt32LE(L.VERSION_OFFSET)).toBe(L.FORMAT_VERSION);
    publishHeader(memory);
    expect(checkHeader(memory, geometry.fileLength).kind).toBe('ready');
  });
});
