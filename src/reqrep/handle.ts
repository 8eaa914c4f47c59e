/**
 * What request/reply needs of an open ring, and how it opens one. RingFile provides both (it
 * passes its own opener in), so this folder never imports RingFile: the imports stay one way.
 */
import type { RingHeader } from '../layout/header.js';
import type { WaitOptions } from '../ring/blocking.js';
import type { GroupStart } from '../ring/groups.js';
import type { Liveness } from '../ring/participants.js';
import type { RecoveryReport } from '../ring/recovery.js';
import type { HeldBatch, Message, Ring } from '../ring/ring.js';

export interface RingHandle {
  readonly path: string;
  readonly header: RingHeader;
  readonly ring: Ring;
  readonly maxMessageLength: number;
  readonly closed: boolean;
  tryReceive(): Message | null;
  receiveAsync(options?: WaitOptions): Promise<Message | null>;
  waitForMessage(options?: WaitOptions): Promise<boolean>;
  waitForRoom(options?: WaitOptions & { readonly length?: number }): Promise<boolean>;
  hold(max: number): HeldBatch | null;
  removeGroup(name: string): unknown;
  /** Whether participant entry `index`'s process is alive (its entry lock, docs/format.md §5.2). */
  liveness(index: number): Liveness;
  /** Runs recovery now (takes over dead members' runs of this handle's group when idle). */
  recover(): RecoveryReport;
  resetGroup(name: string, to: GroupStart): number;
  close(): void;
}

export interface HandleOptions {
  readonly role: 'sender' | 'receiver';
  readonly group?: string;
  readonly create?: boolean;
  readonly id?: Buffer;
  readonly mode?: number;
  readonly slots?: number;
  readonly slotSize?: number;
  readonly groups?: number;
}

export type OpenHandle = (path: string, options: HandleOptions) => RingHandle;
