/**
 * A new ring's identity: random bytes from node:crypto, which is loaded only when a ring is
 * created (loading it costs about 2 ms of every command's start, and opening an existing ring,
 * what a one-shot `send` does, needs none).
 */
import { createRequire } from 'node:module';
import { RING_ID_LENGTH } from '../layout/ring-layout.js';

const require = createRequire(import.meta.url);

export function newRingId(): Buffer {
  return (require('node:crypto') as typeof import('node:crypto')).randomBytes(RING_ID_LENGTH);
}
