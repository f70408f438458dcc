/**
 * The targets that change when an assignor's answer (partition -> member) is compared with the
 * target index: each changed member's partitions to lose and to gain, per topic, applied to its
 * current target. Members whose target does not move are never touched, so a rebalance that moves
 * ten partitions rewrites the maps of the members concerned, not of the whole group.
 */
import { noPartitions, type PartitionMap, partitionsOf } from "./partitions.ts";

export class TargetChanges {
  // One entry per partition that changes hands, in the order noted: flat arrays, because a rebalance
  // of `range` or `roundrobin` moves partitions of most members and per-member maps were its cost.
  private readonly slots: number[] = [];
  private readonly topics: string[] = [];
  private readonly partitions: number[] = [];
  private readonly gains: boolean[] = [];

  /** `slot` gives up `p` of `topic`; per slot, calls come topic by topic, in ascending `p`. */
  lose(slot: number, topic: string, p: number): void {
    this.note(slot, topic, p, false);
  }

  /** `slot` gains `p` of `topic`, which its target does not hold; ordered as `lose`, together with it. */
  gain(slot: number, topic: string, p: number): void {
    this.note(slot, topic, p, true);
  }

  private note(slot: number, topic: string, p: number, gain: boolean): void {
    this.slots.push(slot);
    this.topics.push(topic);
    this.partitions.push(p);
    this.gains.push(gain);
  }

  /** The new target of every slot that lost or gained something. */
  targets(targetOf: (slot: number) => PartitionMap): Map<number, PartitionMap> {
    const { slots, topics, partitions, gains } = this;
    const out = new Map<number, PartitionMap>();
    if (slots.length === 0) return out;
    // A stable counting sort by slot: each slot's entries stay topic by topic, ascending.
    let capacity = 0;
    for (const slot of slots) capacity = Math.max(capacity, slot + 1);
    const start = new Int32Array(capacity + 1);
    for (const slot of slots) start[slot + 1]!++;
    for (let s = 0; s < capacity; s++) start[s + 1]! += start[s]!;
    const fill = start.slice(0, capacity);
    const sorted = new Int32Array(slots.length);
    for (let e = 0; e < slots.length; e++) sorted[fill[slots[e]!]!++] = e;

    for (let slot = 0; slot < capacity; slot++) {
      const first = start[slot]!;
      const end = start[slot + 1]!;
      if (first === end) continue;
      const current = targetOf(slot);
      // The runs of entries per topic, and the topics of the new target in name order.
      const runs = new Map<string, [number, number]>();
      for (let i = first; i < end; ) {
        const topic = topics[sorted[i]!]!;
        let j = i + 1;
        while (j < end && topics[sorted[j]!] === topic) j++;
        runs.set(topic, [i, j]);
        i = j;
      }
      let names = Object.keys(current);
      for (const topic of runs.keys()) {
        if (partitionsOf(current, topic) === undefined) {
          names = [...new Set([...names, ...runs.keys()])];
          break;
        }
      }
      names.sort();
      const next = noPartitions();
      for (const topic of names) {
        const keep = partitionsOf(current, topic) ?? [];
        const run = runs.get(topic);
        if (run === undefined) {
          next[topic] = keep;
          continue;
        }
        const list = merged(keep, sorted, run[0], run[1], partitions, gains);
        if (list.length > 0) next[topic] = list;
      }
      out.set(slot, next);
    }
    return out;
  }
}

/**
 * `keep` with the run's losses taken out and its gains put in, for a run ascending in partition whose
 * losses are in `keep` and gains are not. Lists of topics without a run are shared with the current
 * target: partition lists are never changed in place (every operation in partitions.ts builds new ones).
 */
function merged(
  keep: readonly number[],
  sorted: Int32Array,
  first: number,
  end: number,
  partitions: readonly number[],
  gains: readonly boolean[],
): number[] {
  const list: number[] = [];
  let i = first;
  for (const p of keep) {
    for (; i < end && partitions[sorted[i]!]! < p; i++)
      if (gains[sorted[i]!]) list.push(partitions[sorted[i]!]!);
    if (i < end && partitions[sorted[i]!] === p) {
      i++;
      continue;
    }
    list.push(p);
  }
  for (; i < end; i++) if (gains[sorted[i]!]) list.push(partitions[sorted[i]!]!);
  return list;
}
