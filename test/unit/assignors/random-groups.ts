/**
 * Random consumer groups for the assignor property tests. fast-check draws the shape and a seed;
 * a small seeded PRNG fills in thousands of partitions quickly (drawing each one through
 * fast-check would dominate the runtime).
 */
import fc from "fast-check";
import type { GroupSpec, MemberSpec } from "../../../src/assignors";

export type Ownership = "none" | "valid" | "messy";

/** Topic names that are keys of `Object.prototype`: a plain object keyed by topic breaks on them. */
export const PROTOTYPE_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];

export interface GroupShape {
  seed: number;
  members: number;
  topics: number;
  partitions: number;
  heterogeneous: boolean;
  ownership: Ownership;
}

export function shapeArbitrary(max: { members: number; topics: number; partitions: number }) {
  return fc.record({
    seed: fc.integer(),
    members: fc.integer({ min: 0, max: max.members }),
    topics: fc.integer({ min: 1, max: max.topics }),
    partitions: fc.integer({ min: 0, max: max.partitions }),
    heterogeneous: fc.boolean(),
    ownership: fc.constantFrom<Ownership>("none", "valid", "messy"),
  });
}

/** mulberry32: tiny, seedable, good enough to spread partitions and members. */
export function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

export function buildGroup(shape: GroupShape): GroupSpec {
  const rnd = prng(shape.seed);
  // Some groups name their first topics after Object.prototype's keys (valid topic names, API.md §1).
  const special = shape.seed % 3 === 0 ? PROTOTYPE_NAMES : [];
  const names = Array.from(
    { length: shape.topics },
    (_, i) => special[i] ?? `topic-${(i * 7919) % 1000}-${i}`,
  );
  const counts = new Array<number>(shape.topics).fill(0);
  for (let p = 0; p < shape.partitions; p++) counts[rnd(shape.topics)]!++;
  const topics = new Map(names.map((name, i) => [name, counts[i]!]));
  // An unsubscribed topic in the map, and (heterogeneous) a subscribed topic missing from it.
  topics.set("unsubscribed", 3);

  const members: MemberSpec[] = [];
  for (let i = 0; i < shape.members; i++) {
    const subscription = shape.heterogeneous ? names.filter(() => rnd(3) > 0) : names;
    if (shape.heterogeneous && rnd(10) === 0) subscription.push("missing-topic");
    members.push({
      memberId: `m-${rnd(1_000_000)}-${i}`,
      instanceId: rnd(4) === 0 ? `instance-${rnd(1000)}-${i}` : null,
      topics: shape.heterogeneous ? subscription : names,
    });
  }
  if (shape.ownership !== "none" && members.length > 0) {
    const owned = members.map(() => new Map<string, number[]>());
    for (const [name, count] of topics) {
      for (let p = 0; p < count; p++) {
        if (rnd(5) === 0) continue;
        const m = rnd(members.length);
        if (shape.ownership === "valid" && !members[m]!.topics.includes(name)) continue;
        addOwned(owned[m]!, name, p);
        // Stale generations: a second member still reporting the same partition.
        if (shape.ownership === "messy" && rnd(8) === 0) addOwned(owned[rnd(members.length)]!, name, p);
      }
    }
    if (shape.ownership === "messy") {
      for (const map of owned) {
        if (rnd(3) === 0) addOwned(map, names[rnd(names.length)]!, 100_000 + rnd(10));
        if (rnd(5) === 0) addOwned(map, names[rnd(names.length)]!, -1);
        if (rnd(5) === 0) addOwned(map, names[rnd(names.length)]!, 0.5);
        if (rnd(5) === 0) addOwned(map, "deleted-topic", 0);
      }
    }
    members.forEach((m, i) => {
      m.owned = Object.fromEntries(owned[i]!);
    });
  }
  return { members, topics };
}

function addOwned(map: Map<string, number[]>, topic: string, partition: number): void {
  const list = map.get(topic);
  if (list) list.push(partition);
  else map.set(topic, [partition]);
}
