/**
 * The targets that change when an assignor's answer (partition -> member) is compared with the
 * target index: each changed member's partitions to lose and to gain, per topic, applied to its
 * current target. Members whose target does not move are never touched, so a rebalance that moves
 * ten partitions rewrites the maps of the members concerned, not of the whole group.
 */
import { noPartitions, type PartitionMap, partitionsOf } from "./partitions.ts";

export class TargetChanges {
  private readonly gained = new Map<number, PartitionMap>();
  private readonly lost = new Map<number, PartitionMap>();

  /** `slot` gives up `p` of `topic`; per slot and topic, calls must come in ascending `p`. */
  lose(slot: number, topic: string, p: number): void {
    note(this.lost, slot, topic, p);
  }

  /** `slot` gains `p` of `topic`, which its target does not hold; ascending per slot and topic. */
  gain(slot: number, topic: string, p: number): void {
    note(this.gained, slot, topic, p);
  }

  /** The new target of every slot that lost or gained something. */
  targets(targetOf: (slot: number) => PartitionMap): Map<number, PartitionMap> {
    const out = new Map<number, PartitionMap>();
    for (const slot of new Set([...this.gained.keys(), ...this.lost.keys()])) {
      const lose = this.lost.get(slot) ?? noPartitions();
      out.set(slot, apply(targetOf(slot), lose, this.gained.get(slot) ?? noPartitions()));
    }
    return out;
  }
}

function note(into: Map<number, PartitionMap>, slot: number, topic: string, p: number): void {
  let map = into.get(slot);
  if (map === undefined) {
    map = noPartitions();
    into.set(slot, map);
  }
  const list = partitionsOf(map, topic) ?? [];
  if (list.length === 0) map[topic] = list;
  list.push(p);
}

/** `(current − lose) ∪ gain` for sorted lists where `lose ⊆ current` and `gain` is disjoint from it. */
function apply(current: PartitionMap, lose: PartitionMap, gain: PartitionMap): PartitionMap {
  const topics = [...new Set([...Object.keys(current), ...Object.keys(gain)])].sort();
  const out = noPartitions();
  for (const topic of topics) {
    const keep = partitionsOf(current, topic) ?? [];
    const drop = partitionsOf(lose, topic) ?? [];
    const add = partitionsOf(gain, topic) ?? [];
    const list: number[] = [];
    let d = 0;
    let a = 0;
    for (const p of keep) {
      while (d < drop.length && drop[d]! < p) d++;
      if (d < drop.length && drop[d] === p) continue;
      while (a < add.length && add[a]! < p) list.push(add[a++]!);
      list.push(p);
    }
    while (a < add.length) list.push(add[a++]!);
    if (list.length > 0) out[topic] = list;
  }
  return out;
}
