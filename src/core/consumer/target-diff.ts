/**
 * The targets that change when an assignor's answer (partition -> member) is compared with the
 * target index: each changed member's partitions to lose and to gain, per topic, applied to its
 * current target. Members whose target does not move are never touched, so a rebalance that moves
 * ten partitions rewrites the maps of the members concerned, not of the whole group.
 */
import { noPartitions, type PartitionMap } from "./partitions.ts";

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

    // Per slot: its runs of entries per topic, walked against its current target, both in name order.
    const runTopic: string[] = [];
    const runFirst: number[] = [];
    const runEnd: number[] = [];
    const runOrder: number[] = [];
    for (let slot = 0; slot < capacity; slot++) {
      const first = start[slot]!;
      const end = start[slot + 1]!;
      if (first === end) continue;
      runTopic.length = runFirst.length = runEnd.length = runOrder.length = 0;
      for (let i = first; i < end; ) {
        const topic = topics[sorted[i]!]!;
        let j = i + 1;
        while (j < end && topics[sorted[j]!] === topic) j++;
        runOrder.push(runTopic.length);
        runTopic.push(topic);
        runFirst.push(i);
        runEnd.push(j);
        i = j;
      }
      if (!ascending(runOrder.map((r) => runTopic[r]!)))
        runOrder.sort((a, b) => (runTopic[a]! < runTopic[b]! ? -1 : 1));
      const current = targetOf(slot);
      const names = Object.keys(current);
      if (!ascending(names)) names.sort();
      const next = noPartitions();
      let r = 0;
      for (let n = 0; n <= names.length; n++) {
        const name = names[n];
        // Topics only the runs name (gains in a topic the target did not hold) come first.
        for (; r < runOrder.length && (name === undefined || runTopic[runOrder[r]!]! < name); r++) {
          const run = runOrder[r]!;
          const list = merged([], sorted, runFirst[run]!, runEnd[run]!, partitions, gains);
          if (list.length > 0) next[runTopic[run]!] = list;
        }
        if (name === undefined) break;
        const keep = current[name]!;
        if (r < runOrder.length && runTopic[runOrder[r]!] === name) {
          const run = runOrder[r++]!;
          const list = merged(keep, sorted, runFirst[run]!, runEnd[run]!, partitions, gains);
          if (list.length > 0) next[name] = list;
        } else next[name] = keep;
      }
      out.set(slot, next);
    }
    return out;
  }
}

function ascending(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) if (!(names[i - 1]! < names[i]!)) return false;
  return true;
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
