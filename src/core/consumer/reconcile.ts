/**
 * Per-member reconciliation of KIP-848, as a pure function (Kafka's `CurrentAssignmentBuilder`): moves
 * one member from its current assignment towards the group's target, one safe step at a time.
 *
 * - A member that must give up partitions first keeps only the partitions it retains, at its current
 *   epoch (UnrevokedPartitions); the ones it gives up stay owned by it until a heartbeat no longer
 *   reports them in `ownedPartitions`.
 * - Only then does it move to the target epoch and receive the partitions nobody else owns; partitions
 *   another member still owns are withheld (UnreleasedPartitions) and handed over once released.
 *
 * So a partition never appears in two members' `assigned ∪ revoking` at once: revoke before assign.
 */

import {
  intersect,
  isEmpty,
  minus,
  noPartitions,
  overlaps,
  type PartitionMap,
  partitionsOf,
  samePartitions,
  union,
} from "./partitions.ts";

export type MemberState = "Stable" | "UnrevokedPartitions" | "UnreleasedPartitions";

export interface MemberAssignment {
  memberEpoch: number;
  state: MemberState;
  /** Partitions the member may use now: what its responses and pushes list. */
  assigned: PartitionMap;
  /** Partitions the member was told to give up and has not yet reported released. */
  revoking: PartitionMap;
}

/** Whether `topic`-`partition` is owned (assigned or being revoked) by a member other than this one. */
export type OwnedByOther = (topic: string, partition: number) => boolean;

/**
 * The member's next assignment. `reported` is the `ownedPartitions` of the member's heartbeat being
 * handled now, or undefined when the member did not report (another member's event, the alarm, or a
 * heartbeat that omitted it). Returns `current` itself when nothing changes.
 */
export function reconcile(
  current: MemberAssignment,
  targetEpoch: number,
  target: PartitionMap,
  ownedByOther: OwnedByOther,
  reported?: PartitionMap,
): MemberAssignment {
  switch (current.state) {
    case "UnrevokedPartitions":
      // Revocation is acknowledged only by a report that no longer holds any revoked partition.
      if (reported === undefined || overlaps(reported, current.revoking)) return current;
      return nextAssignment(current, targetEpoch, target, ownedByOther);
    case "UnreleasedPartitions":
      return nextAssignment(current, targetEpoch, target, ownedByOther);
    case "Stable":
      if (current.memberEpoch === targetEpoch) return current;
      return nextAssignment(current, targetEpoch, target, ownedByOther);
  }
}

function nextAssignment(
  current: MemberAssignment,
  targetEpoch: number,
  target: PartitionMap,
  ownedByOther: OwnedByOther,
): MemberAssignment {
  const kept = intersect(current.assigned, target);
  const toRevoke = minus(current.assigned, target);
  if (!isEmpty(toRevoke)) {
    // Nothing new until the revocation is acknowledged; the epoch stays so the member cannot commit
    // under the new epoch while it still holds partitions that now belong to others.
    return settle(current, {
      memberEpoch: current.memberEpoch,
      state: "UnrevokedPartitions",
      assigned: kept,
      revoking: toRevoke,
    });
  }
  const wanted = minus(target, current.assigned);
  const free = noPartitions();
  const unreleased = noPartitions();
  for (const [topic, ps] of Object.entries(wanted)) {
    for (const p of ps) {
      const bucket = ownedByOther(topic, p) ? unreleased : free;
      const list = partitionsOf(bucket, topic) ?? [];
      list.push(p);
      bucket[topic] = list;
    }
  }
  return settle(current, {
    memberEpoch: targetEpoch,
    state: isEmpty(unreleased) ? "Stable" : "UnreleasedPartitions",
    assigned: union(kept, free),
    revoking: noPartitions(),
  });
}

/** `next`, or `current` itself when they are equal, so callers detect "no change" by identity. */
function settle(current: MemberAssignment, next: MemberAssignment): MemberAssignment {
  const same =
    current.memberEpoch === next.memberEpoch &&
    current.state === next.state &&
    samePartitions(current.assigned, next.assigned) &&
    samePartitions(current.revoking, next.revoking);
  return same ? current : next;
}
