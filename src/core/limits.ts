/**
 * Size limits that no schema can check alone, because they depend on the group's state or on the
 * configuration: how many partitions a consumer group assigns in all, and how many KIP-394 member ids
 * a classic group holds for members that have not joined yet. Each check runs before anything
 * changes and names the limit it enforces (API.md §1: a refused request changes nothing).
 *
 * Why GROUP_MAX_PARTITIONS bounds everything a consumer group keeps: a member's assignment, its
 * revocations and its target each hold at most the group's partitions, every partition is in at most
 * one member's assignment or revocation and one target, and responses list a member's assignment. So
 * memory, rows and responses grow with this one number, whatever the clients send. Largest-count-wins
 * (API.md §5) stays, but a client can inflate a count only within it, and only while some member
 * subscribes to the topic (counts of topics nobody subscribes to are dropped at the next epoch).
 */

import type { ClassicGroup } from "./classic/classic-group.ts";
import type { Config } from "./config.ts";
import { own } from "./dict.ts";
import type { CohortError } from "./errors.ts";

/**
 * Topics with partitions a consumer group assigns. The group row holds each one's count and is
 * rewritten at every group epoch: 10,000 names of at most 249 characters keep it about 2.6 MB.
 */
export const MAX_GROUP_TOPICS = 10_000;

/** What the check reads of a group that assigns partitions (consumer and share groups alike). */
export interface AssigningGroup {
  partitionCounts: Readonly<Record<string, number>>;
  members: ReadonlyMap<string, { readonly subscribedTopics: readonly string[] }>;
}

/** What the check reads of a heartbeat (a share heartbeat reports no owned partitions). */
export interface AssigningHeartbeat {
  memberId?: string | undefined;
  memberEpoch: number;
  subscribedTopics?: readonly { name: string; partitions: number }[] | undefined;
  ownedPartitions?: readonly { partitions: readonly number[] }[] | undefined;
}

/**
 * A consumer (or share) heartbeat that would make the group assign more than GROUP_MAX_PARTITIONS partitions
 * (its subscription and partition counts with everyone else's), or that reports owning more than
 * that, is refused with INVALID_REQUEST. A group already over the limit (the limit was lowered) may
 * still take heartbeats that do not raise its total. O(topics in the request and the group): a steady
 * heartbeat repeating its subscription (as the SDK sends it) does not visit the other members.
 */
export function checkConsumerLimits(
  group: AssigningGroup,
  req: AssigningHeartbeat,
  config: Config,
): CohortError | null {
  const max = config.groupMaxPartitions;
  let owned = 0;
  for (const tp of req.ownedPartitions ?? []) owned += tp.partitions.length;
  if (owned > max) {
    return {
      code: "INVALID_REQUEST",
      message: `ownedPartitions lists ${owned} partitions, over GROUP_MAX_PARTITIONS (${max})`,
    };
  }
  if (!req.subscribedTopics || req.memberEpoch < 0) return null;
  // The counts hold exactly the topics someone subscribes to (the target refresh drops the others).
  const counts = group.partitionCounts;
  const count = (t: string) => own(counts, t) ?? 0;
  let now = 0;
  for (const t of Object.keys(counts)) now += counts[t]!;
  const asked = new Map<string, number>();
  for (const { name, partitions } of req.subscribedTopics)
    asked.set(name, Math.max(partitions, asked.get(name) ?? 0));
  let after = now;
  let topics = Object.keys(counts).length;
  for (const [t, n] of asked) {
    after += Math.max(0, n - count(t));
    if (n > 0 && count(t) === 0) topics++;
  }
  // Topics this member stops subscribing to no longer count, unless another member keeps them.
  const member = group.members.get(req.memberId ?? "");
  const dropped = new Set((member?.subscribedTopics ?? []).filter((t) => !asked.has(t)));
  if (dropped.size > 0) {
    for (const m of group.members.values()) {
      if (m !== member) for (const t of m.subscribedTopics) dropped.delete(t);
    }
    for (const t of dropped) {
      after -= count(t);
      if (count(t) > 0) topics--;
    }
  }
  if (topics > MAX_GROUP_TOPICS && topics > Object.keys(counts).length) {
    return {
      code: "INVALID_REQUEST",
      message: `the group would assign partitions of ${topics} topics, over ${MAX_GROUP_TOPICS} topics per group`,
    };
  }
  if (after <= max || after <= now) return null;
  return {
    code: "INVALID_REQUEST",
    message: `the group would assign ${after} partitions, over GROUP_MAX_PARTITIONS (${max}): subscribe to fewer topics or partitions`,
  };
}

/**
 * KIP-394 member ids handed out and not yet used are held for a session each; a classic group holds at
 * most GROUP_MAX_SIZE of them, as it holds at most that many members (409 GROUP_MAX_SIZE_REACHED).
 */
export function checkPendingMemberIds(group: ClassicGroup, config: Config): CohortError | null {
  if (group.pendingMembers.size < config.groupMaxSize) return null;
  return {
    code: "GROUP_MAX_SIZE_REACHED",
    message: `the group holds GROUP_MAX_SIZE (${config.groupMaxSize}) member ids not yet joined; retry after their session timeout`,
  };
}
