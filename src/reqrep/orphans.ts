/**
 * Requests orphaned by dead servers when no server of their group is left: recovery hands a dead
 * member's run only to an idle member of the same group, so without one they would stay claimed
 * (and `stat` would show them held) until a server comes back. The client that finds the group
 * empty joins it for a moment, takes over each dead server's run, answers it "given up" (its
 * client, if alive, learns it at once) and finishes it. It takes nothing that was not orphaned.
 */
import { KIND_REQUEST, ReplyStatus } from '../layout/request-layout.js';
import type { OpenHandle } from './handle.js';
import { hasGroup } from './liveness.js';
import { ReplySender } from './replies.js';
import { decodeRequest } from './wire.js';

/** Takes over and finishes the runs dead members of `group` left; returns how many requests. */
export function releaseOrphans(path: string, group: string, open: OpenHandle): number {
  let member;
  try {
    const look = open(path, { role: 'sender', create: false });
    const exists = hasGroup(look, group);
    look.close();
    if (!exists) return 0;
    member = open(path, { role: 'receiver', group, create: false });
  } catch {
    return 0; // the ring is gone, or full of participants: nothing we can do now
  }
  const replies = new ReplySender(path, open);
  let released = 0;
  try {
    while (member.recover().adopted > 0) {
      const held = member.hold(1);
      if (!held) continue;
      for (const message of held.messages) {
        const header = message.kind === KIND_REQUEST ? decodeRequest(message.extension) : undefined;
        // Fire and forget: a full reply ring is not worth waiting for here.
        if (header) void replies.send({ ...header, deadline: -1 }, ReplyStatus.givenUp, message.deliveries, Buffer.alloc(0));
        released++;
      }
      held.ack();
    }
  } finally {
    member.close();
    replies.close();
  }
  return released;
}
