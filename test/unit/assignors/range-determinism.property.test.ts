/**
 * `range` through the consumer group core: the target depends only on the members (ids, instance ids,
 * subscriptions) and the partition counts, never on the joins, leaves, subscription changes,
 * acknowledged ownership and restarts that led there (Kafka's server-side range since KAFKA-16944).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { getAssignor, type MemberSpec } from "../../../src/assignors";
import { ConsumerGroup } from "../../../src/core/consumer/consumer-group";
import type { HeartbeatRequest } from "../../../src/core/consumer/consumer-heartbeat";
import type { PartitionMap } from "../../../src/core/consumer/partitions";
import type { TopicPartitions } from "../../../src/core/group";
import { Harness } from "../consumer/harness";

const COUNTS: Record<string, number> = { t1: 3, t2: 3, t3: 2, t4: 5 };

/** A group whose members all ask for `range`, heartbeating as well-behaved clients do. */
class RangeGroup {
  readonly h = new Harness();
  private readonly epochs = new Map<string, number>();
  private readonly owned = new Map<string, TopicPartitions[]>();

  private send(memberId: string, req: Partial<HeartbeatRequest>): void {
    const epoch = this.epochs.get(memberId) ?? 0;
    const r = this.h.must({
      memberId,
      memberEpoch: epoch,
      ownedPartitions: this.owned.get(memberId) ?? [],
      serverAssignor: "range",
      ...req,
    });
    this.epochs.set(memberId, r.memberEpoch);
    this.owned.set(memberId, r.assignment.partitions);
  }

  join(memberId: string, topics: readonly string[], instanceId: string | null = null): void {
    this.epochs.delete(memberId);
    this.owned.delete(memberId);
    this.send(memberId, {
      memberEpoch: 0,
      groupInstanceId: instanceId,
      subscribedTopics: topics.map((name) => ({ name, partitions: COUNTS[name]! })),
      ownedPartitions: [],
    });
  }

  subscribe(memberId: string, topics: readonly string[]): void {
    const instanceId = this.h.member(memberId)!.groupInstanceId;
    this.send(memberId, {
      groupInstanceId: instanceId,
      subscribedTopics: topics.map((name) => ({ name, partitions: COUNTS[name]! })),
    });
  }

  heartbeat(memberId: string): void {
    this.send(memberId, { groupInstanceId: this.h.member(memberId)!.groupInstanceId });
  }

  leave(memberId: string): void {
    const instanceId = this.h.member(memberId)!.groupInstanceId;
    this.h.must({ memberId, memberEpoch: instanceId === null ? -1 : -2, groupInstanceId: instanceId });
    this.epochs.delete(memberId);
    this.owned.delete(memberId);
  }

  /** Heartbeats every live member a few rounds, so ownership follows the target. */
  settle(): void {
    for (let round = 0; round < 4; round++)
      for (const id of this.liveIds()) {
        if (!this.h.member(id)!.left) this.heartbeat(id);
      }
  }

  /** Rebuilds the core from its persisted rows, as the Durable Object does after an eviction. */
  restart(): void {
    if (!(this.h.group instanceof ConsumerGroup)) return;
    const g = this.h.group;
    const members = [...g.memberIds()].map((id) => structuredClone(g.memberRecord(id)!));
    this.h.group = new ConsumerGroup(structuredClone(g.toRecord()), members, this.h.now);
  }

  liveIds(): string[] {
    return this.h.group instanceof ConsumerGroup ? [...this.h.group.memberIds()] : [];
  }

  targets(): Record<string, Record<string, number[]>> {
    const out: Record<string, Record<string, number[]>> = {};
    for (const id of this.liveIds()) out[id] = plainMap(this.h.member(id)!.target);
    return out;
  }

  /** The same members and topics assigned from nothing. */
  fromScratch(): Record<string, Record<string, number[]>> {
    const specs: MemberSpec[] = this.liveIds().map((id) => {
      const m = this.h.member(id)!;
      return { memberId: id, instanceId: m.groupInstanceId, topics: m.subscribedTopics };
    });
    const counts = new Map(
      Object.entries(this.h.group instanceof ConsumerGroup ? this.h.group.partitionCounts : {}),
    );
    const result = getAssignor("range")!.assign({ members: specs, topics: counts });
    const out: Record<string, Record<string, number[]>> = {};
    for (const [id, byTopic] of result) {
      out[id] = {};
      for (const [t, ps] of byTopic) if (ps.length > 0) out[id][t] = ps;
    }
    return out;
  }
}

function plainMap(map: PartitionMap): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const t of Object.keys(map).sort()) if (map[t]!.length > 0) out[t] = [...map[t]!];
  return out;
}

describe("range in the consumer group, after a history (Kafka's tests, joins one at a time)", () => {
  it("testReassignmentWhenOneMemberAddedAfterInitialAssignmentWithTwoMembersTwoTopics", () => {
    const g = new RangeGroup();
    g.join("A", ["t1", "t2"]);
    g.join("B", ["t1", "t2"]);
    g.settle();
    g.join("C", ["t1", "t2"]);
    g.settle();
    expect(g.targets()).toEqual({
      A: { t1: [0], t2: [0] },
      B: { t1: [1], t2: [1] },
      C: { t1: [2], t2: [2] },
    });
  });

  it("testFirstAssignmentNumMembersGreaterThanNumPartitions", () => {
    const g = new RangeGroup();
    for (const id of ["A", "B", "C"]) {
      g.join(id, ["t1", "t3"]);
      g.settle();
    }
    expect(g.targets()).toEqual({
      A: { t1: [0], t3: [0] },
      B: { t1: [1], t3: [1] },
      C: { t1: [2] },
    });
  });

  it("testMixedStaticMembership", () => {
    const g = new RangeGroup();
    g.join("B", ["t4"]);
    g.settle();
    g.join("C", ["t4"], "instanceC");
    g.settle();
    g.join("A", ["t4"], "instanceA");
    g.settle();
    const expected = { t4A: { t4: [0, 1] }, t4C: { t4: [2, 3] }, t4B: { t4: [4] } };
    expect(g.targets()).toEqual({ A: expected.t4A, B: expected.t4B, C: expected.t4C });
    // A leaves temporarily and comes back under a new member id: nothing moves.
    g.leave("A");
    g.join("A1", ["t4"], "instanceA");
    g.settle();
    expect(g.targets()).toEqual({ A1: expected.t4A, B: expected.t4B, C: expected.t4C });
  });

  it("testStaticMembership (the replacement step)", () => {
    const g = new RangeGroup();
    g.join("B", ["t1"], "instanceB");
    g.settle();
    g.join("A", ["t1"], "instanceA");
    g.settle();
    expect(g.targets()).toEqual({ A: { t1: [0, 1] }, B: { t1: [2] } });
    g.leave("A");
    g.join("A1", ["t1"], "instanceA");
    g.settle();
    expect(g.targets()).toEqual({ A1: { t1: [0, 1] }, B: { t1: [2] } });
  });

  it("testReassignmentWhenMultipleSubscriptionsRemovedAfterInitialAssignmentWithThreeMembersTwoTopics", () => {
    const g = new RangeGroup();
    g.join("A", ["t1", "t2"]);
    g.join("B", ["t2"]);
    g.join("C", ["t2", "t3"]);
    g.settle();
    g.subscribe("A", ["t1"]);
    g.subscribe("B", ["t1", "t2", "t3"]);
    g.subscribe("C", ["t2"]);
    g.settle();
    expect(g.targets()).toEqual({
      A: { t1: [0, 1] },
      B: { t1: [2], t2: [0, 1], t3: [0, 1] },
      C: { t2: [2] },
    });
  });
});

type Step =
  | { kind: "join"; who: number; topics: string[]; static: boolean }
  | { kind: "leave"; who: number }
  | { kind: "subscribe"; who: number; topics: string[] }
  | { kind: "heartbeat"; who: number }
  | { kind: "settle" }
  | { kind: "restart" };

const topicSet = fc.subarray(Object.keys(COUNTS), { minLength: 1 });
const who = fc.nat(5);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("join" as const), who, topics: topicSet, static: fc.boolean() }),
  fc.record({ kind: fc.constant("leave" as const), who }),
  fc.record({ kind: fc.constant("subscribe" as const), who, topics: topicSet }),
  fc.record({ kind: fc.constant("heartbeat" as const), who }),
  fc.constant({ kind: "settle" as const }),
  fc.constant({ kind: "restart" as const }),
);

describe("range determinism", () => {
  it("gives the same target as a from-scratch assignment whatever history led to the members", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const g = new RangeGroup();
        let generation = 0;
        for (const s of steps) {
          const live = g.liveIds().filter((id) => !g.h.member(id)!.left);
          if (s.kind === "join") {
            // A static member rejoins under a new member id (a restart of the client).
            const instanceId = s.static ? `i${s.who}` : null;
            const held = instanceId === null || !g.h.group ? undefined : g.h.consumer.byInstance(instanceId);
            if (held && !held.left) continue;
            g.join(`m${s.who}-${++generation}`, s.topics, instanceId);
          } else if (s.kind === "restart") {
            g.restart();
          } else if (s.kind === "settle") {
            g.settle();
          } else if (live.length > 0) {
            const id = live[s.who % live.length]!;
            if (s.kind === "leave") g.leave(id);
            else if (s.kind === "subscribe") g.subscribe(id, s.topics);
            else g.heartbeat(id);
          }
        }
        expect(g.targets()).toEqual(g.fromScratch());
      }),
      { numRuns: 300 },
    );
  });
});
