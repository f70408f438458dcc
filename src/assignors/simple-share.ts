/**
 * The share groups' assignor (Kafka 4.1's `SimpleAssignor` for KIP-932: its homogeneous and
 * heterogeneous assignment builders, rewritten). In a share group records, not partitions, are
 * exclusive, so a partition may go to several members: with M members and P partitions each partition
 * gets ⌈M/P⌉ members (no more; exactly that many, as ⌈M/P⌉·P slots cover every member), and the
 * members' partition counts differ by at most one. Balance first, then stickiness: what a member holds
 * stays with it while its count and the partition's sharing allow.
 *
 * A homogeneous group (every member subscribes to the same topics) balances all its partitions as one
 * pool; a heterogeneous one balances each topic among the members that subscribe to it, as Kafka does,
 * handing each topic's extra partitions to the members that have the fewest so far.
 *
 * Deterministic (members in the group's order, partitions ascending), unlike Kafka's hash-map walk.
 */

import { own } from "../core/dict.ts";
import type { Assignment, Assignor, GroupSpec, MemberSpec } from "./types.ts";

/** One balancing problem: members sharing a list of partitions. */
interface Pool {
  members: number[];
  partitions: [topic: string, partition: number][];
}

export const simpleShareAssignor: Assignor = {
  name: "simple",
  assign(group: GroupSpec): Assignment {
    const out: Assignment = new Map(group.members.map((m) => [m.memberId, new Map<string, number[]>()]));
    const totals = new Array<number>(group.members.length).fill(0);
    for (const pool of pools(group)) {
      const chosen = balance(pool, group.members, totals);
      for (const [slot, taken] of chosen) {
        const byTopic = out.get(group.members[slot]!.memberId)!;
        for (const [topic, p] of taken) {
          const list = byTopic.get(topic);
          if (list) list.push(p);
          else byTopic.set(topic, [p]);
        }
      }
    }
    for (const byTopic of out.values()) for (const list of byTopic.values()) list.sort((a, b) => a - b);
    return out;
  },
};

const partitionsOf = (topic: string, count: number): [string, number][] =>
  Array.from({ length: count }, (_, p) => [topic, p] as [string, number]);

function pools(group: GroupSpec): Pool[] {
  const count = (t: string) => Math.max(0, group.topics.get(t) ?? 0);
  const sets = group.members.map((m) => [...new Set(m.topics)].sort());
  const first = sets[0]?.join("\n");
  if (sets.every((s) => s.join("\n") === first)) {
    const topics = sets[0] ?? [];
    return [{ members: sets.map((_, i) => i), partitions: topics.flatMap((t) => partitionsOf(t, count(t))) }];
  }
  const byTopic = new Map<string, number[]>();
  sets.forEach((topics, i) => {
    for (const t of topics) {
      const list = byTopic.get(t);
      if (list) list.push(i);
      else byTopic.set(t, [i]);
    }
  });
  return [...byTopic.keys()]
    .sort()
    .map((t) => ({ members: byTopic.get(t)!, partitions: partitionsOf(t, count(t)) }));
}

/**
 * Gives each pool member its share of the pool's partitions: ⌈M/P⌉ members per partition, counts
 * within one. `totals` (what each member got from earlier pools) is raised, and breaks ties for the
 * extra partitions so heterogeneous members end up as even as the topics allow.
 */
function balance(
  pool: Pool,
  specs: readonly MemberSpec[],
  totals: number[],
): Map<number, [string, number][]> {
  const M = pool.members.length;
  const P = pool.partitions.length;
  const result = new Map<number, [string, number][]>();
  if (M === 0 || P === 0) return result;
  const sharing = Math.ceil(M / P);
  const index = new Map(pool.partitions.map(([t, p], i) => [`${t}:${p}`, i]));
  // What each member holds now, within this pool (duplicates and partitions outside it dropped).
  const owned = pool.members.map((slot) => {
    const held = new Set<number>();
    const map = specs[slot]!.owned;
    if (map)
      for (const t of Object.keys(map))
        for (const p of own(map, t) ?? []) {
          const i = index.get(`${t}:${p}`);
          if (i !== undefined) held.add(i);
        }
    return [...held].sort((a, b) => a - b);
  });
  // Desired counts: ⌈M/P⌉·P slots over M members; the extra ones to those who hold most (fewer moves),
  // then to those with the fewest partitions from other pools, then in group order.
  const slots = sharing * P;
  const base = Math.floor(slots / M);
  const order = pool.members
    .map((_, k) => k)
    .sort(
      (a, b) =>
        owned[b]!.length - owned[a]!.length || totals[pool.members[a]!]! - totals[pool.members[b]!]! || a - b,
    );
  const desired = new Array<number>(M).fill(base);
  for (let r = 0; r < slots % M; r++) desired[order[r]!]!++;

  const holders = pool.partitions.map(() => new Set<number>());
  const holds = pool.members.map(() => new Set<number>());
  const give = (k: number, i: number) => {
    holds[k]!.add(i);
    holders[i]!.add(k);
  };
  // Keep: current holdings while the member's count and the partition's sharing allow.
  for (let k = 0; k < M; k++)
    for (const i of owned[k]!) if (holds[k]!.size < desired[k]! && holders[i]!.size < sharing) give(k, i);
  fill(pool, sharing, desired, holders, holds, give);
  for (let k = 0; k < M; k++) {
    const slot = pool.members[k]!;
    totals[slot]! += holds[k]!.size;
    result.set(
      slot,
      [...holds[k]!].sort((a, b) => a - b).map((i) => pool.partitions[i]!),
    );
  }
  return result;
}

/**
 * Fills every partition to `sharing` members and every member to its desired count. Both totals are
 * ⌈M/P⌉·P, so while a partition lacks members some member lacks partitions. When every member still
 * short already holds that partition, one of them takes a partition it lacks instead, from a member
 * that moves to the short partition: each step adds one assignment, so the loop ends balanced.
 */
function fill(
  pool: Pool,
  sharing: number,
  desired: number[],
  holders: Set<number>[],
  holds: Set<number>[],
  give: (k: number, i: number) => void,
): void {
  const short = desired.map((_, k) => k).filter((k) => holds[k]!.size < desired[k]!);
  let cursor = 0;
  const stillShort = (k: number) => holds[k]!.size < desired[k]!;
  for (let i = 0; i < pool.partitions.length; i++) {
    while (holders[i]!.size < sharing) {
      // From a rotating cursor, so the new assignments spread; filled members leave the list.
      let picked = -1;
      for (let n = 0; n < short.length && picked < 0; ) {
        const at = (cursor + n) % short.length;
        const k = short[at]!;
        if (!stillShort(k)) {
          short[at] = short[short.length - 1]!;
          short.pop();
          continue;
        }
        if (!holds[k]!.has(i)) {
          picked = k;
          cursor = at + 1;
        } else n++;
      }
      if (picked >= 0) {
        give(picked, i);
        continue;
      }
      const k = short.find(stillShort)!;
      const q = pool.partitions.findIndex((_, j) => !holds[k]!.has(j));
      if (holders[q]!.size < sharing) {
        give(k, q);
        continue;
      }
      const x = [...holders[q]!].find((m) => !holders[i]!.has(m))!;
      holds[x]!.delete(q);
      holders[q]!.delete(x);
      give(x, i);
      give(k, q);
    }
  }
}
