/** mmapipc's public library API. */
export {
  RingFile,
  type RingFileOptions,
  type RingRole,
  type Message,
  type MessageClaim,
  type MessageView,
  type HeldViews,
  type HeldBatch,
  type WaitOptions,
} from './ring-file/ring-file.js';
export { type OpenRingOptions } from './ring-file/open.js';
export { Ring } from './ring/ring.js';
export {
  DEFAULT_SLOT_COUNT,
  DEFAULT_SLOT_SIZE,
  EXTENSION_RESERVE,
  FORMAT_VERSION,
  MAGIC,
  ringGeometry,
  type RingGeometry,
} from './layout/ring-layout.js';
export type { RingHeader } from './layout/header.js';
export * from './errors.js';
export { decodeOrigin, originOf, KIND_IMPORTED, type Origin } from './bridge/origin.js';
