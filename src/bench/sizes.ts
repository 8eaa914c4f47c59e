/**
 * Message sizes of a throughput run: every message `size` bytes, or drawn from a named
 * distribution. Both sides of a run compute the same sizes from the same seed, so the receiver
 * knows each message's length before it arrives.
 *
 * 'log-normal': payloads as they come (JSON documents, log records, the odd file): median 200 B,
 * σ = 1.5 (of the natural log), so that 64 KiB sits at about the 99.99th percentile; a draw above
 * 64 KiB is cut to 64 KiB and one below the payload's 12-byte minimum is raised to it. The table
 * of TABLE_LENGTH sizes is drawn once from a seeded generator (mulberry32, Box-Muller), and
 * sender s's message q has size table[(q + s * SENDER_STRIDE) mod TABLE_LENGTH].
 */
/** The smallest message the bench sends: its sequence and sender fields (payload.ts). */
export const MIN_MESSAGE_SIZE = 12;

export const SIZE_DISTRIBUTIONS = ['log-normal'] as const;
export type SizeDistribution = (typeof SIZE_DISTRIBUTIONS)[number];

export const LOG_NORMAL = {
  medianBytes: 200,
  sigma: 1.5,
  maxBytes: 64 * 1024,
  seed: 18,
} as const;

const TABLE_LENGTH = 1 << 16;
const TABLE_MASK = TABLE_LENGTH - 1;
/** Senders start this far apart in the table, so that four senders do not send the same sizes. */
const SENDER_STRIDE = 7919;

/** A small seeded generator (mulberry32): uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let logNormalTable: Uint32Array | undefined;

/** The log-normal table (drawn once per process). */
function logNormal(): Uint32Array {
  if (logNormalTable) return logNormalTable;
  const random = mulberry32(LOG_NORMAL.seed);
  const mu = Math.log(LOG_NORMAL.medianBytes);
  const table = new Uint32Array(TABLE_LENGTH);
  for (let i = 0; i < TABLE_LENGTH; i++) {
    // Box-Muller; 1 - u keeps the logarithm's argument above 0.
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const bytes = Math.round(Math.exp(mu + LOG_NORMAL.sigma * normal));
    table[i] = Math.min(LOG_NORMAL.maxBytes, Math.max(MIN_MESSAGE_SIZE, bytes));
  }
  logNormalTable = table;
  return table;
}

/** The sizes of one run's messages. */
export class MessageSizes {
  /** Every message's size, or -1 when they vary. */
  readonly fixed: number;
  /** The largest message of the run. */
  readonly largest: number;
  readonly #table: Uint32Array | undefined;

  constructor(size: number, distribution?: SizeDistribution) {
    if (distribution === undefined) {
      this.fixed = size;
      this.largest = size;
      return;
    }
    this.fixed = -1;
    this.#table = logNormal();
    this.largest = LOG_NORMAL.maxBytes;
  }

  /** The size of sender `sender`'s message `sequence`. */
  at(sender: number, sequence: number): number {
    return this.fixed >= 0 ? this.fixed : this.#table![(sequence + sender * SENDER_STRIDE) & TABLE_MASK]!;
  }

  /** Payload bytes of `count` messages of `sender` from sequence `first`. */
  bytes(sender: number, count: number, first = 0): number {
    if (this.fixed >= 0) return this.fixed * count;
    let total = 0;
    for (let q = first; q < first + count; q++) total += this.at(sender, q);
    return total;
  }
}

/** The mean message size of a distribution (one table's worth), for docs and reports. */
export function meanSize(distribution: SizeDistribution): number {
  const table = distribution === 'log-normal' ? logNormal() : new Uint32Array(1);
  let total = 0;
  for (const size of table) total += size;
  return total / table.length;
}

/** The sizes of a run's config: `size` bytes each, or its distribution's. */
export function sizesOf(config: { readonly size: number; readonly distribution?: SizeDistribution }): MessageSizes {
  return new MessageSizes(config.size, config.distribution);
}
