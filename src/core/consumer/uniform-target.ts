/**
 * The `uniform` assignor's answer for a homogeneous group, computed from the target index instead of
 * from every member's target map: the same quota fill as `assignUniform` (members in group order,
 * current targets as the claims), then a diff against the previous targets so only members whose
 * target moved get a new map. One member joining 10,000 at 100,000 partitions moves ~10 partitions:
 * the work is two typed-array passes over the partitions, not 10,000 maps rebuilt and compared.
 */
import { QuotaFill } from "../../assignors/quota-fill.ts";
import { own } from "../dict.ts";
import type { PartitionIndex } from "./partition-index.ts";
import type { PartitionMap } from "./partitions.ts";
import { TargetChanges } from "./target-diff.ts";

/** Topics in name order with their partition counts (> 0): partition g of the whole is topic t's g - start[t]. */
export type Layout = readonly (readonly [topic: string, partitions: number])[];

/**
 * The layout of a group whose members all subscribe to the same topics (sorted, with the counts the
 * assignor would use), or null when subscriptions differ: the uniform fast path is for those groups.
 */
export function homogeneousLayout(
  members: readonly { subscribedTopics: readonly string[] }[],
  counts: Readonly<Record<string, number>>,
): Layout | null {
  if (members.length === 0) return null;
  const topics = members[0]!.subscribedTopics;
  for (const m of members) {
    const other = m.subscribedTopics;
    if (other !== topics && (other.length !== topics.length || other.some((t, i) => t !== topics[i])))
      return null;
  }
  return [...new Set(topics)]
    .sort()
    .map((t): [string, number] => {
      const n = own(counts, t) ?? 0;
      return [t, n > 0 ? Math.floor(Math.min(n, 0x3fffffff)) : 0];
    })
    .filter(([, n]) => n > 0);
}

/**
 * New targets of the members whose target changes, by slot; null when some current target lies outside
 * the layout (a topic dropped from the subscription), which the caller leaves to the general path.
 */
export function uniformTargets(
  order: Int32Array,
  capacity: number,
  layout: Layout,
  targets: PartitionIndex,
  targetOf: (slot: number) => PartitionMap,
): Map<number, PartitionMap> | null {
  const names = new Set(layout.map(([topic]) => topic));
  for (const topic of targets.usedTopics()) if (!names.has(topic)) return null;
  const start = new Int32Array(layout.length + 1);
  layout.forEach(([, n], t) => {
    start[t + 1] = start[t]! + n;
  });
  const total = start[layout.length]!;
  const claimedBy = new Int32Array(total).fill(-1);
  for (let t = 0; t < layout.length; t++) {
    const [topic, n] = layout[t]!;
    const slots = targets.slotsOf(topic);
    if (slots === undefined) continue;
    for (let p = n; p < slots.length; p++) if (slots[p] !== -1) return null;
    claimedBy.set(slots.subarray(0, Math.min(n, slots.length)), start[t]!);
  }
  const owner = new Int32Array(total).fill(-1);
  new QuotaFill(capacity).fill(owner, claimedBy, 0, total, order);

  const changes = new TargetChanges();
  for (let t = 0; t < layout.length; t++) {
    const topic = layout[t]![0];
    for (let g = start[t]!; g < start[t + 1]!; g++) {
      const before = claimedBy[g]!;
      const after = owner[g]!;
      if (before === after) continue;
      if (before >= 0) changes.lose(before, topic, g - start[t]!);
      if (after >= 0) changes.gain(after, topic, g - start[t]!);
    }
  }
  return changes.targets(targetOf);
}
