/**
 * The target a group computes from its indexes (uniform-target.ts for homogeneous `uniform`,
 * indexed-target.ts for everything else) is, after every event, exactly what the assignor's `assign`
 * gives over every member with their previous targets as `owned` — the full recompute the group ran
 * before. Random groups under random event sequences: joins with varied subscriptions (topics named
 * after Object.prototype's keys among them), rejoins, subscription changes, partition-count growth,
 * assignor votes, dynamic and static leaves, static takeovers, acknowledgements and session expiry.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ASSIGNOR_NAMES } from "../../../src/assignors";
import { ConsumerGroup, type ConsumerMember } from "../../../src/core/consumer/consumer-group";
import type { HeartbeatRequest } from "../../../src/core/consumer/consumer-heartbeat";
import { type PartitionMap, samePartitions, toList } from "../../../src/core/consumer/partitions";
import { computeTarget } from "../../../src/core/consumer/target-assignment";
import { Harness } from "./harness";

const IDS = 12;
const TOPICS = ["__proto__", "a", "b", "constructor", "d"] as const;

type Op =
  | { kind: "join"; id: number; topics: number; assignor: number; isStatic: boolean }
  | { kind: "beat"; id: number }
  | { kind: "subscribe"; id: number; topics: number }
  | { kind: "grow"; id: number; topic: number; by: number }
  | { kind: "vote"; id: number; assignor: number }
  | { kind: "leave"; id: number }
  | { kind: "staticLeave"; id: number }
  | { kind: "advance"; ms: number };

const id = fc.integer({ min: 0, max: IDS - 1 });
/** A bitmask of TOPICS; often the same few, so homogeneous groups (and groups that become so) are common. */
const topics = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(0b01011, 0b00110) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: (1 << TOPICS.length) - 1 }) },
);
/** Index into ASSIGNOR_NAMES, or past its end: no preference. */
const assignor = fc.integer({ min: 0, max: ASSIGNOR_NAMES.length });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("join" as const),
      id,
      topics,
      assignor,
      isStatic: fc.boolean(),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("beat" as const), id }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("subscribe" as const), id, topics }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("grow" as const),
      id,
      topic: fc.integer({ min: 0, max: TOPICS.length - 1 }),
      by: fc.integer({ min: 1, max: 5 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("vote" as const), id, assignor }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("leave" as const), id }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("staticLeave" as const), id }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.integer({ min: 1000, max: 25_000 }),
    }),
  },
);

/** Initial partition counts per topic; 0 is a topic that does not exist (yet). */
const counts = fc.array(fc.integer({ min: 0, max: 9 }), {
  minLength: TOPICS.length,
  maxLength: TOPICS.length,
});

interface World {
  h: Harness;
  /** Every member subscribes to this mask (a homogeneous group), or each to its own (-1). */
  everyone: number;
  counts: number[];
  /** Member id by test id (a static member's id changes when it rejoins after leaving). */
  memberIds: (string | undefined)[];
  joins: number;
}

const subscription = (w: World, mask: number) =>
  TOPICS.flatMap((name, t) =>
    (w.everyone >= 0 ? w.everyone : mask) & (1 << t) ? [{ name, partitions: w.counts[t]! }] : [],
  );
const assignorName = (i: number) => ASSIGNOR_NAMES[i] ?? "";

function apply(w: World, o: Op): void {
  const { h } = w;
  const memberId = "id" in o ? w.memberIds[o.id] : undefined;
  const m = memberId === undefined || !h.group ? undefined : h.member(memberId);
  const instance = "id" in o ? `instance-${o.id}` : undefined;
  const common = m ? { memberId: m.memberId, groupInstanceId: m.groupInstanceId } : undefined;
  /** A heartbeat of the member at its epoch, with `extra`; nothing if it is not in the group. */
  const speak = (extra: Partial<HeartbeatRequest>) => {
    if (m && common) h.heartbeat({ ...common, memberEpoch: m.memberEpoch, ...extra });
  };
  switch (o.kind) {
    case "join": {
      // A static member coming back after leaving rejoins under a new member id (a takeover).
      const rejoinAs = m && !m.left ? m.memberId : `m-${++w.joins}`;
      const r = h.heartbeat({
        memberId: rejoinAs,
        memberEpoch: 0,
        groupInstanceId: o.isStatic || m?.groupInstanceId ? (m?.groupInstanceId ?? instance) : null,
        subscribedTopics: subscription(w, o.topics),
        ownedPartitions: [],
        serverAssignor: assignorName(o.assignor),
      });
      if (r.ok) w.memberIds[o.id] = r.value.memberId;
      return;
    }
    case "beat":
      speak({ ownedPartitions: toList(m?.assigned ?? {}) });
      return;
    case "subscribe":
      speak({ subscribedTopics: subscription(w, o.topics) });
      return;
    case "grow":
      w.counts[o.topic]! += o.by;
      speak({
        subscribedTopics: (m?.subscribedTopics ?? []).map((name) => ({
          name,
          partitions: w.counts[TOPICS.indexOf(name as (typeof TOPICS)[number])] ?? 0,
        })),
      });
      return;
    case "vote":
      speak({ serverAssignor: assignorName(o.assignor) });
      return;
    case "leave":
      if (common) h.heartbeat({ ...common, memberEpoch: -1 });
      return;
    case "staticLeave":
      if (common?.groupInstanceId) h.heartbeat({ ...common, memberEpoch: -2 });
      return;
    case "advance":
      h.advance(o.ms);
      h.alarm();
      return;
  }
}

/** The full recompute: the assignor over every member, with the targets they held before the event. */
function fullRecompute(
  members: readonly ConsumerMember[],
  before: { byId: Map<string, PartitionMap>; byInstance: Map<string, PartitionMap> },
  partitionCounts: Record<string, number>,
  assignorName: string,
): Map<string, PartitionMap> {
  const inputs = members.map((m) => ({
    ...m,
    target:
      before.byId.get(m.memberId) ??
      (m.groupInstanceId ? before.byInstance.get(m.groupInstanceId) : undefined) ??
      {},
  }));
  return computeTarget(inputs, partitionCounts, assignorName);
}

describe("targets from the indexes", () => {
  it("equal the full recompute after every event, for every assignor", () => {
    let refreshes = 0;
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        counts,
        fc.oneof(fc.constant(-1), topics),
        fc.array(op, { minLength: 15, maxLength: 80 }),
        (initial, everyone, ops) => {
          const w: World = { h: new Harness(), everyone, counts: [...initial], memberIds: [], joins: 0 };
          for (const o of ops) {
            const group = w.h.group instanceof ConsumerGroup ? w.h.group : undefined;
            const before = {
              byId: new Map<string, PartitionMap>(),
              byInstance: new Map<string, PartitionMap>(),
              targetEpoch: group?.targetEpoch ?? 0,
            };
            for (const m of group?.members.values() ?? []) {
              before.byId.set(m.memberId, structuredClone(m.target));
              if (m.groupInstanceId) before.byInstance.set(m.groupInstanceId, structuredClone(m.target));
            }
            apply(w, o);
            const after = w.h.group;
            if (!(after instanceof ConsumerGroup)) continue;
            if (after.targetEpoch === before.targetEpoch) continue;
            refreshes++;
            const members = [...after.members.values()];
            const heterogeneous = new Set(members.map((m) => m.subscribedTopics.join())).size > 1;
            if (members.length >= 3)
              seen.add(`${after.assignor} ${heterogeneous ? "heterogeneous" : "homogeneous"}`);
            const expected = fullRecompute(members, before, after.partitionCounts, after.assignor);
            for (const m of members) {
              const want = expected.get(m.memberId)!;
              if (!samePartitions(m.target, want))
                expect({
                  op: o,
                  assignor: after.assignor,
                  member: m.memberId,
                  target: { ...m.target },
                }).toEqual({
                  op: o,
                  assignor: after.assignor,
                  member: m.memberId,
                  target: { ...want },
                });
            }
          }
        },
      ),
      { numRuns: 400 },
    );
    expect(refreshes).toBeGreaterThan(3000);
    // Every assignor was checked on groups of three or more, with and without uniform subscriptions.
    expect([...seen].sort()).toEqual(
      ASSIGNOR_NAMES.flatMap((a) => [`${a} heterogeneous`, `${a} homogeneous`]).sort(),
    );
  });

  it("equal the full recompute as 200 members with varied subscriptions join 10 topics of 200 partitions", () => {
    const names = Array.from({ length: 10 }, (_, t) => `topic-${t}`);
    for (const name of ASSIGNOR_NAMES) {
      const h = new Harness();
      let seed = 7;
      const next = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      for (let i = 0; i < 200; i++) {
        const group = h.group instanceof ConsumerGroup ? h.group : undefined;
        const byId = new Map([...(group?.members.values() ?? [])].map((m) => [m.memberId, m.target]));
        const picked = [...new Set(Array.from({ length: 1 + next(5) }, () => names[next(10)]!))];
        h.join(`${next(1e9).toString(36)}-${i}`, Object.fromEntries(picked.map((t) => [t, 200])), {
          serverAssignor: name,
        });
        // Every tenth join, everyone acknowledges: targets and assignments drift apart otherwise.
        if (i % 10 === 9)
          for (const m of [...h.consumer.members.values()])
            h.must({ memberId: m.memberId, memberEpoch: m.memberEpoch, ownedPartitions: toList(m.assigned) });
        if (i % 3 !== 0) continue;
        const after = h.consumer;
        const members = [...after.members.values()];
        const want = fullRecompute(members, { byId, byInstance: new Map() }, after.partitionCounts, name);
        const wrong = members.filter((m) => !samePartitions(m.target, want.get(m.memberId)!));
        expect(
          wrong.map((m) => m.memberId),
          `${name} after ${i + 1} joins`,
        ).toEqual([]);
      }
    }
  });
});
