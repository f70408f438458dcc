/**
 * The simple share assignor (Kafka 4.1's SimpleAssignor rules): ⌈M/P⌉ members per partition, member
 * loads within one, only subscribed partitions, heterogeneous subscriptions balanced per topic,
 * sticky (a member keeps what it holds while balance allows), deterministic.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { simpleShareAssignor } from "../../../src/assignors/simple-share";
import type { Assignment, GroupSpec, MemberSpec } from "../../../src/assignors/types";

const assign = (members: MemberSpec[], topics: Record<string, number>): Assignment =>
  simpleShareAssignor.assign({ members, topics: new Map(Object.entries(topics)) });

const ownedOf = (a: Assignment, id: string): Record<string, number[]> => Object.fromEntries(a.get(id) ?? []);

const load = (a: Assignment, id: string) =>
  [...(a.get(id)?.values() ?? [])].reduce((n, ps) => n + ps.length, 0);

/** Members of each partition of `topics`. */
function sharing(a: Assignment): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [id, byTopic] of a)
    for (const [t, ps] of byTopic)
      for (const p of ps) out.set(`${t}:${p}`, [...(out.get(`${t}:${p}`) ?? []), id]);
  return out;
}

describe("examples", () => {
  it("more members than partitions: each partition is shared by ⌈M/P⌉ members", () => {
    const members = ["a", "b", "c", "d", "e"].map((id) => ({ memberId: id, topics: ["t"] }));
    const a = assign(members, { t: 2 });
    const shared = sharing(a);
    expect(shared.get("t:0")!.length).toBe(3);
    expect(shared.get("t:1")!.length).toBe(3);
    // 6 slots over 5 members: loads 1 or 2, and every member gets work.
    for (const m of members) expect([1, 2]).toContain(load(a, m.memberId));
  });

  it("fewer members than partitions: partitions are exclusive and loads within one", () => {
    const a = assign(
      ["a", "b", "c"].map((id) => ({ memberId: id, topics: ["t", "u"] })),
      { t: 4, u: 3 },
    );
    expect([...sharing(a).values()].every((ids) => ids.length === 1)).toBe(true);
    expect(sharing(a).size).toBe(7);
    expect(["a", "b", "c"].map((id) => load(a, id)).sort()).toEqual([2, 2, 3]);
  });

  it("one member takes everything; a member subscribed to nothing gets nothing", () => {
    expect(ownedOf(assign([{ memberId: "a", topics: ["t"] }], { t: 3 }), "a")).toEqual({ t: [0, 1, 2] });
    const a = assign(
      [
        { memberId: "a", topics: ["t"] },
        { memberId: "b", topics: [] },
      ],
      { t: 3 },
    );
    expect(ownedOf(a, "b")).toEqual({});
    expect(ownedOf(a, "a")).toEqual({ t: [0, 1, 2] });
  });

  it("heterogeneous: each topic is balanced among its subscribers (Kafka's M3 example)", () => {
    const a = assign(
      [
        { memberId: "m1", topics: ["t1"] },
        { memberId: "m2", topics: ["t2"] },
        { memberId: "m3", topics: ["t1", "t2"] },
      ],
      { t1: 4, t2: 4 },
    );
    expect(ownedOf(a, "m1").t1!.length).toBe(2);
    expect(ownedOf(a, "m3").t1!.length).toBe(2);
    expect(ownedOf(a, "m2").t2!.length).toBe(2);
    expect(ownedOf(a, "m3").t2!.length).toBe(2);
  });

  it("sticky: a member that joins takes partitions from the others without reshuffling them", () => {
    const first = assign(
      ["a", "b"].map((id) => ({ memberId: id, topics: ["t"] })),
      { t: 6 },
    );
    const next = assign(
      [
        { memberId: "a", topics: ["t"], owned: ownedOf(first, "a") },
        { memberId: "b", topics: ["t"], owned: ownedOf(first, "b") },
        { memberId: "c", topics: ["t"] },
      ],
      { t: 6 },
    );
    for (const id of ["a", "b"]) {
      const kept = next
        .get(id)!
        .get("t")!
        .filter((p) => first.get(id)!.get("t")!.includes(p));
      expect(kept.length).toBe(2);
    }
    expect(load(next, "c")).toBe(2);
  });

  it("ignores owned partitions of topics the member left, or that do not exist", () => {
    const a = assign([{ memberId: "a", topics: ["t"], owned: { gone: [0], t: [7, 1] } }], { t: 2 });
    expect(ownedOf(a, "a")).toEqual({ t: [0, 1] });
  });
});

// ---- properties over random groups ----

const groupArb = fc
  .record({
    topics: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 4 }),
    members: fc.array(
      fc.record({ subs: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), sticky: fc.boolean() }),
      { minLength: 1, maxLength: 30 },
    ),
    homogeneous: fc.boolean(),
    seed: fc.integer(),
  })
  .map(({ topics, members, homogeneous, seed }) => {
    const counts = Object.fromEntries(topics.map((n, i) => [`t${i}`, n]));
    const names = Object.keys(counts);
    const specs: MemberSpec[] = members.map((m, i) => ({
      memberId: `m${i}`,
      topics: homogeneous ? names : names.filter((_, j) => m.subs[j]),
    }));
    return { spec: { members: specs, topics: new Map(Object.entries(counts)) } as GroupSpec, members, seed };
  });

function checkBalance(spec: GroupSpec, a: Assignment): void {
  const homogeneous = spec.members.every(
    (m) => [...m.topics].sort().join() === [...spec.members[0]!.topics].sort().join(),
  );
  const shared = sharing(a);
  // Only subscribed, existing partitions.
  for (const m of spec.members)
    for (const [t, ps] of a.get(m.memberId) ?? []) {
      expect(m.topics).toContain(t);
      for (const p of ps) expect(p).toBeLessThan(spec.topics.get(t)!);
      expect(new Set(ps).size).toBe(ps.length);
    }
  const pools: { members: MemberSpec[]; partitions: string[] }[] = [];
  if (homogeneous) {
    const ts = spec.members[0]!.topics;
    pools.push({
      members: [...spec.members],
      partitions: ts.flatMap((t) => Array.from({ length: spec.topics.get(t) ?? 0 }, (_, p) => `${t}:${p}`)),
    });
  } else
    for (const [t, n] of spec.topics)
      pools.push({
        members: spec.members.filter((m) => m.topics.includes(t)),
        partitions: Array.from({ length: n }, (_, p) => `${t}:${p}`),
      });
  for (const pool of pools) {
    const M = pool.members.length;
    const P = pool.partitions.length;
    if (M === 0 || P === 0) continue;
    const s = Math.ceil(M / P);
    // Every partition shared by exactly ⌈M/P⌉ members.
    for (const key of pool.partitions) expect(shared.get(key)?.length ?? 0).toBe(s);
    // Loads within one (within the pool).
    const inPool = new Set(pool.partitions);
    const loads = pool.members.map((m) => {
      let n = 0;
      for (const [t, ps] of a.get(m.memberId) ?? []) for (const p of ps) if (inPool.has(`${t}:${p}`)) n++;
      return n;
    });
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
  }
}

describe("properties", () => {
  it("every partition gets ⌈M/P⌉ members, loads within one, only subscriptions; also from a stale current state", () => {
    fc.assert(
      fc.property(groupArb, ({ spec, members, seed }) => {
        const first = simpleShareAssignor.assign(spec);
        checkBalance(spec, first);
        // Deterministic.
        expect(JSON.stringify([...simpleShareAssignor.assign(spec)].map(([k, v]) => [k, [...v]]))).toBe(
          JSON.stringify([...first].map(([k, v]) => [k, [...v]])),
        );
        // Owned partitions from some other layout (shuffled by the seed), some members without any.
        const stale: GroupSpec = {
          ...spec,
          members: spec.members.map((m, i) => ({
            ...m,
            owned: members[i]!.sticky
              ? ownedOf(first, spec.members[(i + (seed >>> 0)) % spec.members.length]!.memberId)
              : {},
          })),
        };
        checkBalance(stale, simpleShareAssignor.assign(stale));
      }),
      { numRuns: 300 },
    );
  });

  it("stable: recomputing from its own answer changes nothing", () => {
    fc.assert(
      fc.property(groupArb, ({ spec }) => {
        const first = simpleShareAssignor.assign(spec);
        const again = simpleShareAssignor.assign({
          ...spec,
          members: spec.members.map((m) => ({ ...m, owned: ownedOf(first, m.memberId) })),
        });
        for (const m of spec.members) expect(ownedOf(again, m.memberId)).toEqual(ownedOf(first, m.memberId));
      }),
      { numRuns: 200 },
    );
  });

  it("sticky on a join with exclusive partitions: each member keeps min(held, its new share)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 60 }), (m, p) => {
        fc.pre(m + 1 <= p);
        const ids = Array.from({ length: m }, (_, i) => `m${i}`);
        const first = assign(
          ids.map((id) => ({ memberId: id, topics: ["t"] })),
          { t: p },
        );
        const next = assign(
          [
            ...ids.map((id) => ({ memberId: id, topics: ["t"], owned: ownedOf(first, id) })),
            { memberId: "new", topics: ["t"] },
          ],
          { t: p },
        );
        const floor = Math.floor(p / (m + 1));
        for (const id of ids) {
          const kept = (next.get(id)!.get("t") ?? []).filter((x) => first.get(id)!.get("t")!.includes(x));
          expect(kept.length).toBeGreaterThanOrEqual(Math.min(load(first, id), floor));
        }
      }),
      { numRuns: 200 },
    );
  });
});
