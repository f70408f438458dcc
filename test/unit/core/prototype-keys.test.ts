/**
 * Topic names that collide with `Object.prototype` (`__proto__`, `constructor`, `toString`,
 * `hasOwnProperty`, all valid per API.md §1) through every layer that keys objects by topic: the
 * partition-set functions, every assignor, the consumer group (join to Stable, reports, restore from
 * JSON rows) and the classic embedded-protocol reader.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ASSIGNOR_NAMES, type GroupSpec, getAssignor, type MemberSpec } from "../../../src/assignors";
import { readAssignment, readSubscription } from "../../../src/core/classic/classic-protocol";
import type { ConsumerMember, ConsumerRecord } from "../../../src/core/consumer/consumer-group";
import {
  fromList,
  has,
  intersect,
  isSubset,
  minus,
  type PartitionMap,
  samePartitions,
  toList,
  union,
} from "../../../src/core/consumer/partitions";
import type { TopicPartitions } from "../../../src/core/group";
import { restoreGroup } from "../../../src/core/restore";
import { checkComplete } from "../assignors/assignment-checks";
import { PROTOTYPE_NAMES } from "../assignors/random-groups";
import { Harness } from "../consumer/harness";

const TOPICS = [...PROTOTYPE_NAMES, "orders"];

/** Every partition of `counts` told to exactly one member (by what the members were last told). */
function expectEachOnce(told: Map<string, TopicPartitions[]>, counts: Record<string, number>): void {
  const owner = new Map<string, string>();
  for (const [member, list] of told) {
    for (const { topic, partitions } of list) {
      for (const p of partitions) {
        const key = `${topic}/${p}`;
        expect(owner.get(key), `${key} told to ${owner.get(key)} and ${member}`).toBeUndefined();
        owner.set(key, member);
      }
    }
  }
  const expected = Object.entries(counts).flatMap(([t, n]) =>
    Array.from({ length: n }, (_, p) => `${t}/${p}`),
  );
  expect([...owner.keys()].sort()).toEqual(expected.sort());
}

describe("partition sets keyed by prototype names", () => {
  const topic = fc.constantFrom(...TOPICS, "a", "b");
  const list = fc.array(fc.record({ topic, partitions: fc.array(fc.nat(20), { maxLength: 6 }) }), {
    maxLength: 8,
  });
  /** The same set as keys `topic/partition`, the reference. */
  const keys = (l: TopicPartitions[]) =>
    new Set(l.flatMap((tp) => tp.partitions.map((p) => `${tp.topic}/${p}`)));
  const keysOf = (m: PartitionMap) => keys(toList(m));

  it("union, minus, intersect, subset, equality and membership agree with a set of keys", () => {
    fc.assert(
      fc.property(list, list, (la, lb) => {
        const a = fromList(la);
        const b = fromList(lb);
        const ka = keys(la);
        const kb = keys(lb);
        expect(keysOf(a)).toEqual(ka);
        expect(keysOf(union(a, b))).toEqual(new Set([...ka, ...kb]));
        expect(keysOf(minus(a, b))).toEqual(new Set([...ka].filter((k) => !kb.has(k))));
        expect(keysOf(intersect(a, b))).toEqual(new Set([...ka].filter((k) => kb.has(k))));
        expect(isSubset(a, b)).toBe([...ka].every((k) => kb.has(k)));
        expect(samePartitions(a, b)).toBe(ka.size === kb.size && [...ka].every((k) => kb.has(k)));
        for (const t of TOPICS) expect(has(a, t, 0)).toBe(ka.has(`${t}/0`));
      }),
    );
  });

  it("reads maps that inherit from Object.prototype (as JSON.parse makes them) by own keys only", () => {
    const parsed = JSON.parse('{"__proto__":[1,2],"orders":[0]}') as PartitionMap;
    const empty = {} as PartitionMap;
    expect(has(empty, "constructor", 0)).toBe(false);
    expect(has(parsed, "__proto__", 2)).toBe(true);
    expect(toList(minus(parsed, empty))).toEqual(toList(parsed));
    expect(toList(union(empty, parsed))).toEqual([
      { topic: "__proto__", partitions: [1, 2] },
      { topic: "orders", partitions: [0] },
    ]);
    expect(samePartitions(fromList([{ topic: "toString", partitions: [0] }]), empty)).toBe(false);
  });
});

describe("assignors with prototype-named topics", () => {
  const spec = (owned: (m: number) => MemberSpec["owned"]): GroupSpec => ({
    members: ["m0", "m1", "m2"].map((memberId, m) => ({ memberId, topics: TOPICS, owned: owned(m) })),
    topics: new Map(TOPICS.map((t) => [t, 5])),
  });
  const ownership: [string, (m: number) => MemberSpec["owned"]][] = [
    ["nothing owned", () => undefined],
    // JSON.parse and Object.fromEntries make `__proto__` an own key of an ordinary object.
    ["owned from JSON", (m) => JSON.parse(`{"__proto__":[${m}],"constructor":[${m},4],"toString":[3]}`)],
    ["owned in a null-prototype object", (m) => Object.assign(Object.create(null), { ["__proto__"]: [m] })],
  ];
  for (const name of ASSIGNOR_NAMES) {
    for (const [what, owned] of ownership) {
      it(`${name}, ${what}: every partition exactly once, only to subscribers`, () => {
        const group = spec(owned);
        checkComplete(group, getAssignor(name)!.assign(group));
      });
    }
  }
});

describe("the consumer group with prototype-named topics", () => {
  const counts = Object.fromEntries(TOPICS.map((t) => [t, 3]));

  /** Three members join and then heartbeat with exactly what they were told, until Stable. */
  function settle(serverAssignor?: string) {
    const h = new Harness();
    const told = new Map<string, { memberEpoch: number; assignment: { partitions: TopicPartitions[] } }>();
    for (const id of ["a", "b", "c"])
      told.set(id, h.join(id, counts, serverAssignor ? { serverAssignor } : {}));
    for (let round = 0; round < 10 && h.consumer.state !== "Stable"; round++) {
      for (const [id, last] of told) {
        told.set(
          id,
          h.must({
            memberId: id,
            memberEpoch: last.memberEpoch,
            ownedPartitions: last.assignment.partitions,
          }),
        );
      }
    }
    // One more round: a member learns partitions released after its own heartbeat at its next one.
    for (const [id, last] of told) {
      told.set(
        id,
        h.must({ memberId: id, memberEpoch: last.memberEpoch, ownedPartitions: last.assignment.partitions }),
      );
    }
    return { h, told };
  }

  for (const assignor of ["uniform", "range", "sticky"]) {
    it(`${assignor}: reaches Stable with every partition assigned exactly once`, () => {
      const { h, told } = settle(assignor);
      expect(h.consumer.state).toBe("Stable");
      expect(h.consumer.partitionCounts).toEqual(Object.assign(Object.create(null), counts));
      expectEachOnce(new Map([...told].map(([id, r]) => [id, r.assignment.partitions])), counts);
    });
  }

  it("takes ownedPartitions naming __proto__ (and topics it does not hold) as a report, not a crash", () => {
    const { h, told } = settle();
    const a = told.get("a")!;
    const reply = h.heartbeat({
      memberId: "a",
      memberEpoch: a.memberEpoch,
      ownedPartitions: [...a.assignment.partitions, { topic: "__proto__", partitions: [0] }],
    });
    expect(reply.ok).toBe(true);
    expect(h.consumer.state).toBe("Stable");
  });

  it("restores from JSON rows with the same assignment, and keeps assigning after a restore", () => {
    const { h, told } = settle();
    const rows = [...h.consumer.members.keys()].map((id) => h.consumer.memberRecord(id));
    const copy = restoreGroup(
      JSON.parse(JSON.stringify(h.consumer.toRecord())) as ConsumerRecord,
      JSON.parse(JSON.stringify(rows)) as ConsumerMember[],
      h.now,
    );
    expect(copy.describe()).toEqual(h.consumer.describe());
    h.group = copy;
    // A fourth member joins the restored group: everything still lands exactly once.
    told.set("d", h.join("d", counts));
    for (let round = 0; round < 10; round++) {
      for (const [id, last] of told) {
        told.set(
          id,
          h.must({
            memberId: id,
            memberEpoch: last.memberEpoch,
            ownedPartitions: last.assignment.partitions,
          }),
        );
      }
    }
    expect(h.consumer.state).toBe("Stable");
    expectEachOnce(new Map([...told].map(([id, r]) => [id, r.assignment.partitions])), counts);
    expect(told.get("d")!.assignment.partitions.length).toBeGreaterThan(0);
  });
});

describe("the classic embedded consumer protocol with prototype-named topics", () => {
  it("reads subscriptions and assignments naming them", () => {
    expect(readSubscription(JSON.stringify({ topics: ["constructor", "__proto__", "toString"] }))).toEqual([
      "__proto__",
      "constructor",
      "toString",
    ]);
    const assignment = JSON.stringify({ partitions: [{ topic: "__proto__", partitions: [0, 1] }] });
    expect(readAssignment(assignment)).toEqual([{ topic: "__proto__", partitions: [0, 1] }]);
  });

  it("does not take fields from a __proto__ key of the document", () => {
    expect(typeof readSubscription('{"__proto__":{"topics":["a"]}}')).toBe("string");
    expect(readAssignment('{"__proto__":{"partitions":[{"topic":"a","partitions":[0]}]}}')).toEqual([]);
  });
});
