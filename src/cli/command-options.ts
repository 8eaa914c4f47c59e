/**
 * What argv becomes for the commands that work on either file layout (send, receive, stat,
 * peek). Both the command files and the layout-specific code under classic/ read these, so they
 * live here, below both: commands import classic/, never the other way round.
 */
import type { Layout } from './classic/layout-option.js';
import type { RingCliOptions } from './ring-options.js';
import type { Lang } from './texts.js';
import type { InputFraming } from './input-framing.js';
import type { OutputFraming } from './output-framing.js';

export interface SendOptions extends RingCliOptions {
  count?: number;
  /** Milliseconds. */
  interval?: number;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  null?: boolean;
  whole?: boolean;
  framing?: InputFraming;
  truncate?: boolean;
  demo?: boolean;
  sync?: boolean;
  lang?: Lang;
  layout?: Layout;
}

export interface ReceiveOptions extends RingCliOptions {
  count?: number;
  follow?: boolean;
  /** Milliseconds. */
  interval?: number;
  json?: boolean;
  null?: boolean;
  framing?: OutputFraming;
  /** Take messages in runs into a pipe, without waiting for the reader (faster; see receive --help). */
  batch?: boolean;
  verbose?: boolean;
  demo?: boolean;
  lang?: Lang;
  layout?: Layout;
}

export interface StatOptions {
  /** One path per --file given; none: $MMAPIPC_FILE or the default ring. */
  file?: string[];
  json?: boolean;
  prometheus?: boolean;
  watch?: boolean;
  /** ms between --watch rounds. */
  interval?: number;
  /** --prometheus: write the exposition to this file atomically instead of stdout. */
  output?: string;
  layout?: Layout;
}

export interface PeekOptions {
  file?: string;
  count?: number;
  json?: boolean;
  layout?: Layout;
  group?: string;
}
