/** What a RingFile is opened with: its role, group and sending options. */
import type { GroupStart } from '../ring/groups.js';
import type { Gap } from '../ring/member.js';
import { ROLE_RECEIVER, ROLE_SENDER } from '../layout/ring-layout.js';
import type { OpenRingOptions } from './open.js';

export type RingRole = 'sender' | 'receiver' | 'both' | 'observer';

export interface RingFileOptions extends OpenRingOptions {
  /** What this process will do; recorded for `mmapipc stat` (default 'both'). */
  readonly role?: RingRole;
  /** Stamp messages with the time they were sent (default true). */
  readonly stamp?: boolean;
  /** msync the mapping after every send, so messages reach the disk before send returns. */
  readonly sync?: boolean;
  /** The consumer group to receive for (default "default"); created if it does not exist. */
  readonly group?: string;
  /** Where a group created by this open starts: 'latest' (default), 'earliest' or a sequence number. */
  readonly from?: GroupStart;
  /** A group created by this open is lossy: it never holds senders back, and reports gaps. */
  readonly lossy?: boolean;
  /** Called for each gap a lossy group finds (messages overwritten before it read them). */
  readonly onGap?: (gap: Gap) => void;
}

/** The role bits a participant entry records for each role (docs/format.md §2.2). */
export const ROLE_BITS: Record<RingRole, number> = {
  sender: ROLE_SENDER,
  receiver: ROLE_RECEIVER,
  both: ROLE_SENDER | ROLE_RECEIVER,
  observer: 0,
};
