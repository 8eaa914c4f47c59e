import { truncateUtf8 } from '../../src/cli/utf8.js';

/** Byte offsets where a character of `text` starts, plus its end: the only legal cut points. */
function boundaries(text: string): number[] {
  const cuts = [0];
  for (const character of text) cuts.push(cuts[cuts.length - 1]! + Buffer.byteLength(character));
  return cuts;
}

describe('truncateUtf8', () => {
  test.each([
    ['2-byte', 'é'],
    ['3-byte', '€'],
    ['4-byte', '🙂'],
    ['mixed', 'aé€🙂b'],
  ])('never cuts inside a %s character, at every cut point', (_what, characters) => {
    for (let prefix = 0; prefix < 4; prefix++) {
      const text = `${'a'.repeat(prefix)}${characters}${characters}z`;
      const bytes = Buffer.from(text, 'utf8');
      const cuts = boundaries(text);
      for (let limit = 0; limit <= bytes.length + 1; limit++) {
        const cut = truncateUtf8(bytes, limit);
        const expected = Math.max(...cuts.filter((c) => c <= limit));
        expect({ limit, length: cut.length }).toEqual({ limit, length: expected });
        expect(bytes.subarray(0, cut.length).equals(cut)).toBe(true);
        expect(Buffer.from(cut.toString('utf8'), 'utf8').equals(cut)).toBe(true);
      }
    }
  });

  test('returns a message that fits unchanged', () => {
    const bytes = Buffer.from('héllo');
    expect(truncateUtf8(bytes, bytes.length)).toBe(bytes);
  });
});
