/**
 * What the consumer group tells the outside, read from its member rows alone: its description (the
 * admin routes, API.md §6), who owns each partition, a commit's epoch check (API.md §3), the notices
 * pushed to members' sockets and what a removed member is told. Nothing here changes the group, so
 * none of it touches the group's journals; the group decides when each is asked for.
 */

import type { CohortError } from "../errors.ts";
import { type CommitAuth, type GroupDescription, type MemberDescription, partitionKey } from "../group.ts";
import {
  type AssignmentNotice,
  type ConsumerGroupState,
  type ConsumerMember,
  LEFT_STATIC_EPOCH,
} from "./consumer-member.ts";
import { toList, union } from "./partitions.ts";

/** Why a member left the group, as data for the shell: its watch sockets are told and closed. */
export type RemovalReason = "session" | "rebalance" | "left";

/** A member removed from the group, with the code its next heartbeat would get (Kafka's). */
export interface MemberRemoval {
  memberId: string;
  code: "UNKNOWN_MEMBER_ID" | "FENCED_INSTANCE_ID";
  message: string;
}

/** The group as a description reads it: its public epoch, assignor, state and members. */
export interface DescribedGroup {
  readonly groupId: string;
  readonly state: ConsumerGroupState;
  readonly groupEpoch: number;
  readonly assignor: string;
  readonly members: ReadonlyMap<string, ConsumerMember>;
}

export function describeGroup(group: DescribedGroup): GroupDescription {
  const members: MemberDescription[] = [...group.members.values()].map((m) => ({
    memberId: m.memberId,
    groupInstanceId: m.groupInstanceId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    memberEpoch: m.left ? LEFT_STATIC_EPOCH : m.memberEpoch,
    state: m.left ? "Left" : m.state,
    assignment: toList(m.assigned),
  }));
  return {
    groupId: group.groupId,
    type: "consumer",
    state: group.state,
    groupEpoch: group.groupEpoch,
    protocolType: "consumer",
    assignor: group.assignor,
    leaderId: null,
    members,
  };
}

/** Partition key -> the member holding it, assigned or being revoked. */
export function ownersByPartition(members: Iterable<ConsumerMember>): Map<string, string> {
  const owners = new Map<string, string>();
  for (const m of members) {
    for (const [topic, ps] of Object.entries(union(m.assigned, m.revoking))) {
      for (const p of ps) owners.set(partitionKey(topic, p), m.memberId);
    }
  }
  return owners;
}

/** API.md §3, consumer group: the member must exist and commit under its current epoch. */
export function commitError(
  members: ReadonlyMap<string, ConsumerMember>,
  auth: CommitAuth,
): CohortError | null {
  const member = members.get(auth.memberId ?? "");
  if (!member) {
    return {
      code: "UNKNOWN_MEMBER_ID",
      message: `member ${auth.memberId || "(none)"} is not in the group`,
    };
  }
  const epoch = auth.memberEpoch ?? auth.generationId;
  if (member.left || epoch !== member.memberEpoch) {
    return {
      code: "STALE_MEMBER_EPOCH",
      message: `epoch ${epoch ?? "(none)"} is not member ${member.memberId}'s current epoch ${member.left ? LEFT_STATIC_EPOCH : member.memberEpoch}`,
    };
  }
  return null;
}

/**
 * The notices for the members in `ids` that are in `notices` and still present and not away;
 * `reconcile` set for those in `retargeted`. The caller forgets the notices.
 */
export function assignmentNotices(
  members: ReadonlyMap<string, ConsumerMember>,
  ids: Iterable<string>,
  notices: ReadonlySet<string>,
  retargeted: ReadonlySet<string>,
): AssignmentNotice[] {
  const out: AssignmentNotice[] = [];
  for (const id of ids) {
    const m = members.get(id);
    if (!m || m.left || !notices.has(id)) continue;
    const notice: AssignmentNotice = {
      memberId: id,
      memberEpoch: m.memberEpoch,
      assignment: toList(m.assigned),
    };
    if (retargeted.has(id)) notice.reconcile = true;
    out.push(notice);
  }
  return out;
}

export function removal(m: ConsumerMember, reason: RemovalReason, sessionTimeoutMs: number): MemberRemoval {
  const why = {
    session: `sent no heartbeat within the session timeout (${sessionTimeoutMs} ms)`,
    rebalance: `kept partitions to revoke past its rebalance timeout (${m.rebalanceTimeoutMs} ms)`,
    left: "left the group (memberEpoch -1)",
  }[reason];
  return { memberId: m.memberId, code: "UNKNOWN_MEMBER_ID", message: `member ${m.memberId} ${why}` };
}

/** The away static member whose instance `memberId` took over: its old id is fenced. */
export function replacedStatic(away: ConsumerMember, memberId: string): MemberRemoval {
  return {
    memberId: away.memberId,
    code: "FENCED_INSTANCE_ID",
    message: `static instance ${away.groupInstanceId} is now held by member ${memberId}`,
  };
}
