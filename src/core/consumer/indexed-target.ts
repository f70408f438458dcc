/**
 * Any server assignor's answer computed from the target index rather than from every member's target
 * map: the general path of the target assignment (heterogeneous subscriptions, and `range`,
 * `roundrobin`, `sticky`, `cooperative-sticky`). The assignor's own interning (`buildGroupModel`)
 * orders the members and lays out the partitions as it always does, but its current ownership comes
 * from the target index in typed arrays, not from the members' maps; the assignor's typed-array core
 * (`Assignor.indexed`) then runs unchanged, and its answer is diffed against the index (target-diff.ts),
 * so only members whose target moves get a new map. The answer is the assignor's `assign` on the same
 * group with the targets as `owned`, partition for partition (test/unit/consumer/indexed-target.property.test.ts).
 *
 * What still grows with the group per event: interning the members (order, and for Kafka order a
 * sort by id), a pass over the partitions to read the index, the assignor's own passes over the
 * partitions and its (member, topic) pairs, and the diff. `range` and `roundrobin` move the partitions
 * of every member after the one that joins (their answer depends on member order, not on ownership):
 * those members' maps are rebuilt because their targets do change.
 */

import { buildGroupModel, type GroupModel } from "../../assignors/group-model.ts";
import { DEFAULT_SERVER_ASSIGNOR, getAssignor } from "../../assignors/index.ts";
import type { MemberSpec } from "../../assignors/types.ts";
import type { PartitionIndex } from "./partition-index.ts";
import type { PartitionMap } from "./partitions.ts";
import { TargetChanges } from "./target-diff.ts";

interface SlotSpec extends MemberSpec {
  slot: number;
}

export interface IndexedMember {
  memberId: string;
  groupInstanceId: string | null;
  subscribedTopics: readonly string[];
}

/**
 * New targets of the members whose target changes, by slot; null when the assignor has no indexed
 * form (the caller runs it over the members' maps). `members` in group order, `counts` the partition
 * counts of the subscribed topics, `targets` the index of the current targets (disjoint, as every
 * assignor's answer is), `targetOf` a slot's current target.
 */
export function indexedTargets(
  assignorName: string,
  members: readonly IndexedMember[],
  counts: Readonly<Record<string, number>>,
  slotOf: (memberId: string) => number,
  capacity: number,
  targets: PartitionIndex,
  targetOf: (slot: number) => PartitionMap,
): Map<number, PartitionMap> | null {
  const indexed = (getAssignor(assignorName) ?? getAssignor(DEFAULT_SERVER_ASSIGNOR))?.indexed;
  if (indexed === undefined) return null;
  const specs = members.map(
    (m): SlotSpec => ({
      memberId: m.memberId,
      instanceId: m.groupInstanceId,
      topics: m.subscribedTopics,
      slot: slotOf(m.memberId),
    }),
  );
  const base = buildGroupModel({ members: specs, topics: new Map(Object.entries(counts)) }, indexed.order);
  const slotAt = Int32Array.from(base.members, (m) => (m as SlotSpec).slot);
  const rankOf = new Int32Array(capacity).fill(-1);
  for (let r = 0; r < slotAt.length; r++) rankOf[slotAt[r]!] = r;

  const model = withIndexedOwnership(base, targets, rankOf);
  if (model === null) return null;
  const owner = indexed.owners(model);

  const { topicNames, topicStart, heldBy } = model;
  const changes = new TargetChanges();
  for (let t = 0; t < topicNames.length; t++) {
    const topic = topicNames[t]!;
    const start = topicStart[t]!;
    const end = topicStart[t + 1]!;
    for (let g = start; g < end; g++) {
      const before = heldBy![g]!;
      const after = owner[g]!;
      if (before === after) continue;
      if (before >= 0) changes.lose(slotAt[before]!, topic, g - start);
      if (after >= 0) changes.gain(slotAt[after]!, topic, g - start);
    }
    // Target partitions past the topic's count (it was dropped and came back with fewer): given up.
    const slots = targets.slotsOf(topic);
    if (slots !== undefined)
      for (let p = end - start; p < slots.length; p++) if (slots[p]! >= 0) changes.lose(slots[p]!, topic, p);
  }
  // Targets in topics nobody subscribes to any more: given up.
  for (const topic of targets.usedTopics()) {
    if (base.topicIndex.has(topic)) continue;
    const slots = targets.slotsOf(topic)!;
    for (let p = 0; p < slots.length; p++) if (slots[p]! >= 0) changes.lose(slots[p]!, topic, p);
  }
  return changes.targets(targetOf);
}

/**
 * The model with its ownership read from the target index, as `buildGroupModel` would have read it
 * from the targets as `owned`: a partition is claimed by its holder if the holder subscribes to its
 * topic; `heldBy` keeps every holder (cooperative-sticky withholds by it, and the diff starts from it).
 * Null if the index names a slot that is not a member (never, while the index is kept in step).
 */
function withIndexedOwnership(
  base: GroupModel,
  targets: PartitionIndex,
  rankOf: Int32Array,
): GroupModel | null {
  const { topicNames, topicStart, subscriptionOf, subscriptionTopics } = base;
  const heldBy = new Int32Array(base.partitionTotal).fill(-1);
  const claimedBy = new Int32Array(base.partitionTotal).fill(-1);
  const claimCount = new Int32Array(base.memberCount);
  // Subscription flags per subscription id, built for the subscriptions that hold something.
  const flags: (Uint8Array | undefined)[] = [];
  for (let t = 0; t < topicNames.length; t++) {
    const slots = targets.slotsOf(topicNames[t]!);
    if (slots === undefined) continue;
    const start = topicStart[t]!;
    const held = Math.min(topicStart[t + 1]! - start, slots.length);
    for (let p = 0; p < held; p++) {
      const slot = slots[p]!;
      if (slot < 0) continue;
      const r = slot < rankOf.length ? rankOf[slot]! : -1;
      if (r < 0) return null;
      heldBy[start + p] = r;
      const sub = subscriptionOf[r]!;
      let subscribed = flags[sub];
      if (subscribed === undefined) {
        subscribed = new Uint8Array(topicNames.length);
        for (const x of subscriptionTopics[sub]!) subscribed[x] = 1;
        flags[sub] = subscribed;
      }
      if (subscribed[t] === 0) continue;
      claimedBy[start + p] = r;
      claimCount[r]!++;
    }
  }
  return { ...base, claimedBy, claimCount, heldBy };
}
