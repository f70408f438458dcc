/**
 * The consumer group's target refresh at a new group epoch: the assignor's answer from the target
 * index where it has one (uniform-target.ts for a homogeneous `uniform` group, indexed-target.ts for
 * the others: only the members whose target moves), the full recompute over every member's map
 * otherwise; then the moved targets written into the member rows and the target index.
 *
 * It sees the group only through `TargetState` (members, slots, target index) and marks rows changed
 * through the group's own `touch`, so the group's journals, deadlines and notices stay the group's.
 */

import { partitionsGained } from "../history.ts";
import type { ConsumerMember } from "./consumer-member.ts";
import { indexedTargets } from "./indexed-target.ts";
import type { MemberSlots, PartitionIndex } from "./partition-index.ts";
import { type PartitionMap, samePartitions } from "./partitions.ts";
import { computeTarget } from "./target-assignment.ts";
import { homogeneousLayout, uniformTargets } from "./uniform-target.ts";

/** What a refresh reads and moves: the members by id, their slots, and whose target holds each partition. */
export interface TargetState {
  readonly members: ReadonlyMap<string, ConsumerMember>;
  readonly slots: MemberSlots;
  readonly targets: PartitionIndex;
}

/** What the target is computed for: the members in group order, the assignor, the partition counts. */
export interface TargetRequest {
  readonly members: readonly ConsumerMember[];
  readonly assignor: string;
  readonly counts: Readonly<Record<string, number>>;
}

/** The new targets: from the index, only the members whose target moves; else every member. */
export function nextTargets(state: TargetState, request: TargetRequest): Map<string, PartitionMap> {
  const { members, assignor, counts } = request;
  return (
    uniformFromIndex(state, request) ??
    indexedFromIndex(state, request) ??
    computeTarget(members, counts, assignor)
  );
}

/**
 * Gives each member in `next` whose target differs its new target, in its row (marked with `touch`)
 * and in the target index. Returns those members and how many partitions they gained in all.
 */
export function moveTargets(
  state: TargetState,
  next: Map<string, PartitionMap>,
  touch: (memberId: string) => void,
): { moved: string[]; partitionsMoved: number } {
  const moved: string[] = [];
  let partitionsMoved = 0;
  for (const [id, target] of next) {
    const m = state.members.get(id)!;
    if (samePartitions(target, m.target)) continue;
    partitionsMoved += partitionsGained(m.target, target);
    const slot = state.slots.of(id);
    state.targets.remove(m.target, slot);
    state.targets.add(target, slot);
    m.target = target;
    moved.push(id);
    touch(id);
  }
  return { moved, partitionsMoved };
}

/**
 * The `uniform` assignor's targets for a group whose members all subscribe to the same topics, from
 * the target index (uniform-target.ts): only the members whose target moves. Null otherwise.
 */
function uniformFromIndex(
  { members: byId, slots, targets }: TargetState,
  { members, assignor, counts }: TargetRequest,
): Map<string, PartitionMap> | null {
  const layout = assignor === "uniform" ? homogeneousLayout(members, counts) : null;
  if (layout === null) return null;
  const order = Int32Array.from(members, (m) => slots.of(m.memberId));
  const slotTargets = uniformTargets(order, slots.capacity, layout, targets, (slot) => {
    return byId.get(slots.id(slot)!)!.target;
  });
  return byMemberId(slots, slotTargets);
}

/**
 * The assignor's targets for any other group, from the target index (indexed-target.ts): only the
 * members whose target moves. Null for an assignor with no indexed form.
 */
function indexedFromIndex(
  { members: byId, slots, targets }: TargetState,
  { members, assignor, counts }: TargetRequest,
): Map<string, PartitionMap> | null {
  const slotTargets = indexedTargets(
    assignor,
    members,
    counts,
    (id) => slots.of(id),
    slots.capacity,
    targets,
    (slot) => byId.get(slots.id(slot)!)!.target,
  );
  return byMemberId(slots, slotTargets);
}

function byMemberId(
  slots: MemberSlots,
  slotTargets: Map<number, PartitionMap> | null,
): Map<string, PartitionMap> | null {
  if (slotTargets === null) return null;
  const out = new Map<string, PartitionMap>();
  for (const [slot, target] of slotTargets) out.set(slots.id(slot)!, target);
  return out;
}
