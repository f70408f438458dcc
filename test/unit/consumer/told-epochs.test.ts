/**
 * A member is held only to epochs it was told (Kafka moves a member's epoch only in that member's own
 * heartbeat response). Members here are black boxes: they know what their responses and, if they
 * listen, their pushes said — nothing else. While their session is alive and they send only what they
 * were told, their heartbeats are never fenced and their commits are never stale.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromList, type PartitionMap, toList } from "../../../src/core/consumer/partitions";
import { partitionKey } from "../../../src/core/group";
import { CONFIG, Harness } from "./harness";

interface Known {
  memberId: string;
  epoch: number;
  owned: PartitionMap;
  listens: boolean;
  alive: boolean;
  lastBeat: number;
}

const TOPICS = ["t", "u"] as const;

class Fleet {
  readonly h = new Harness();
  readonly members = new Map<string, Known>();
  readonly refusals: string[] = [];

  join(memberId: string, topics: readonly string[], listens: boolean): void {
    const r = this.h.heartbeat({
      memberId,
      memberEpoch: 0,
      subscribedTopics: topics.map((name) => ({ name, partitions: name === "t" ? 6 : 4 })),
      ownedPartitions: [],
      rebalanceTimeoutMs: 60_000,
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    this.members.set(memberId, {
      memberId,
      epoch: r.value.memberEpoch,
      owned: fromList(r.value.assignment.partitions),
      listens,
      alive: true,
      lastBeat: this.h.now,
    });
    this.deliver();
  }

  beat(k: Known): void {
    const r = this.h.heartbeat({
      memberId: k.memberId,
      memberEpoch: k.epoch,
      ownedPartitions: toList(k.owned),
    });
    if (!r.ok) {
      this.refusals.push(`heartbeat ${k.memberId}@${k.epoch}: ${r.error.code}`);
      this.members.delete(k.memberId);
      return;
    }
    k.epoch = r.value.memberEpoch;
    k.owned = fromList(r.value.assignment.partitions);
    k.lastBeat = this.h.now;
    this.deliver();
  }

  commit(k: Known): void {
    const refused = this.h.consumer.checkMemberCommit(
      { memberId: k.memberId, memberEpoch: k.epoch },
      this.h.now,
    );
    if (refused) this.refusals.push(`commit ${k.memberId}@${k.epoch}: ${refused.code}`);
  }

  leave(k: Known): void {
    expect(this.h.heartbeat({ memberId: k.memberId, memberEpoch: -1 }).ok).toBe(true);
    this.members.delete(k.memberId);
    this.deliver();
  }

  /** Pushes reach only the members that listen; a push tells the epoch and assignment it carries. */
  deliver(): void {
    if (!this.h.group) return;
    for (const n of this.h.consumer.takeNotices()) {
      const k = this.members.get(n.memberId);
      if (!k?.listens || !k.alive) continue;
      k.epoch = n.memberEpoch;
      k.owned = fromList(n.assignment);
    }
  }

  advance(ms: number): void {
    this.h.advance(ms);
    this.h.alarm();
    this.deliver();
    for (const id of [...this.members.keys()]) if (!this.h.consumer.members.has(id)) this.members.delete(id);
  }

  /** No partition is held by two members by what they were told. */
  checkExclusive(): void {
    const seen = new Map<string, string>();
    for (const k of this.members.values()) {
      for (const [topic, ps] of Object.entries(k.owned)) {
        for (const p of ps) {
          const key = partitionKey(topic, p);
          expect(seen.get(key), `${key} told to ${seen.get(key)} and ${k.memberId}`).toBeUndefined();
          seen.set(key, k.memberId);
        }
      }
    }
  }
}

describe("a member is held only to the epochs it was told", () => {
  it("one join into 1,000 settled members refuses none of their next commits", () => {
    const fleet = new Fleet();
    for (let i = 0; i < 1000; i++) fleet.join(`m${i}`, ["t"], false);
    // Everyone heartbeats until the group is Stable and each knows its settled epoch.
    for (let round = 0; round < 3; round++) for (const k of [...fleet.members.values()]) fleet.beat(k);
    expect(fleet.h.consumer.state).toBe("Stable");
    fleet.join("newcomer", ["t"], false);
    for (const k of fleet.members.values()) fleet.commit(k);
    expect(fleet.refusals).toEqual([]);
  });

  it("a join into 100 settled members notifies only those whose target moved", () => {
    const fleet = new Fleet();
    for (let i = 0; i < 100; i++) fleet.join(`m${i}`, ["t"], true);
    for (let round = 0; round < 3; round++) for (const k of [...fleet.members.values()]) fleet.beat(k);
    fleet.h.consumer.takeNotices();
    const targets = new Map([...fleet.h.consumer.members].map(([id, m]) => [id, JSON.stringify(m.target)]));
    fleet.h.heartbeat({
      memberId: "newcomer",
      memberEpoch: 0,
      subscribedTopics: [{ name: "t", partitions: 6 }],
      ownedPartitions: [],
    });
    const moved = [...fleet.h.consumer.members]
      .filter(([id, m]) => id !== "newcomer" && targets.get(id) !== JSON.stringify(m.target))
      .map(([id]) => id);
    const notified = fleet.h.consumer.takeNotices().filter((n) => n.memberId !== "newcomer");
    expect(notified.map((n) => n.memberId).sort()).toEqual(moved.sort());
    expect(notified.every((n) => n.reconcile === true)).toBe(true);
    expect(moved.length).toBeLessThanOrEqual(6);
  });

  it("accepts an older epoch only as a lost response: the member's previous epoch, never one it was not told", () => {
    const h = new Harness();
    h.join("a", { t: 6 });
    h.join("b", { t: 6 });
    h.join("c", { t: 6 });
    const told = h.must({
      memberId: "a",
      memberEpoch: 1,
      ownedPartitions: [{ topic: "t", partitions: [0, 1, 2, 3, 4, 5] }],
    });
    expect(told.memberEpoch).toBe(1);
    const moved = h.must({ memberId: "a", memberEpoch: 1, ownedPartitions: told.assignment.partitions });
    expect(moved.memberEpoch).toBe(3);
    // a was told epochs 1 and 3, never 2.
    const never = h.heartbeat({
      memberId: "a",
      memberEpoch: 2,
      ownedPartitions: moved.assignment.partitions,
    });
    expect(!never.ok && never.error.code).toBe("FENCED_MEMBER_EPOCH");
    const lost = h.heartbeat({ memberId: "a", memberEpoch: 1, ownedPartitions: moved.assignment.partitions });
    expect(lost.ok && lost.value.memberEpoch).toBe(3);
  });

  it("fences a static instance id sent by another member (FENCED_INSTANCE_ID, Kafka's throwIfInstanceIdIsFenced)", () => {
    const h = new Harness();
    h.join("s1", { t: 2 }, { groupInstanceId: "i1" });
    const other = h.heartbeat({ memberId: "x", memberEpoch: 1, groupInstanceId: "i1", ownedPartitions: [] });
    expect(!other.ok && other.error.code).toBe("FENCED_INSTANCE_ID");
    const otherLeaves = h.heartbeat({ memberId: "x", memberEpoch: -2, groupInstanceId: "i1" });
    expect(!otherLeaves.ok && otherLeaves.error.code).toBe("FENCED_INSTANCE_ID");
    // s1 away (-2), its instance taken over by s2: s1's next heartbeat is fenced the same way.
    h.must({ memberId: "s1", memberEpoch: -2, groupInstanceId: "i1" });
    h.join("s2", { t: 2 }, { groupInstanceId: "i1" });
    const zombie = h.heartbeat({
      memberId: "s1",
      memberEpoch: 1,
      groupInstanceId: "i1",
      ownedPartitions: [],
    });
    expect(!zombie.ok && zombie.error.code).toBe("FENCED_INSTANCE_ID");
    const unknownLeave = h.heartbeat({ memberId: "y", memberEpoch: -2, groupInstanceId: "nobody" });
    expect(!unknownLeave.ok && unknownLeave.error.code).toBe("UNKNOWN_MEMBER_ID");
    const noInstance = h.heartbeat({ memberId: "s2", memberEpoch: -2 });
    expect(!noInstance.ok && noInstance.error.code).toBe("INVALID_REQUEST");
  });

  it("refuses a join that reports owned partitions (INVALID_REQUEST, as Kafka)", () => {
    const h = new Harness();
    const r = h.heartbeat({
      memberId: "a",
      memberEpoch: 0,
      subscribedTopics: [{ name: "t", partitions: 2 }],
      ownedPartitions: [{ topic: "t", partitions: [0] }],
    });
    expect(!r.ok && r.error.code).toBe("INVALID_REQUEST");
    expect(h.group).toBeNull();
  });

  it("a settled member learns a new epoch only from its own heartbeat; its next commit uses it", () => {
    const fleet = new Fleet();
    fleet.join("a", ["t"], false);
    fleet.join("b", ["t"], false);
    for (let round = 0; round < 3; round++) for (const k of [...fleet.members.values()]) fleet.beat(k);
    const a = fleet.members.get("a")!;
    const before = a.epoch;
    fleet.join("c", ["t"], false);
    fleet.commit(a);
    // First told to revoke (at the epoch it has), then, once it reported the revocation, the new epoch.
    fleet.beat(a);
    expect(a.epoch).toBe(before);
    fleet.commit(a);
    fleet.beat(a);
    expect(a.epoch).toBeGreaterThan(before);
    fleet.commit(a);
    expect(fleet.refusals).toEqual([]);
  });

  it("over 300 random schedules of churn, well-behaved members are never fenced or stale", () => {
    const step = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant("join" as const),
          topics: fc.integer({ min: 1, max: 3 }),
          listens: fc.boolean(),
        }),
      },
      { weight: 6, arbitrary: fc.record({ kind: fc.constant("beat" as const), who: fc.nat() }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant("commit" as const), who: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("leave" as const), who: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("die" as const), who: fc.nat() }) },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant("advance" as const),
          ms: fc.integer({ min: 100, max: 4_000 }),
        }),
      },
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 20, maxLength: 250 }), (steps) => {
        const fleet = new Fleet();
        let joined = 0;
        for (const s of steps) {
          const alive = [...fleet.members.values()].filter((k) => k.alive);
          const pick = "who" in s && alive.length > 0 ? alive[s.who % alive.length] : undefined;
          if (s.kind === "join" && fleet.members.size < 8) {
            fleet.join(
              `m${joined++}`,
              TOPICS.filter((_, i) => s.topics & (1 << i)),
              s.listens,
            );
          } else if (s.kind === "beat" && pick) fleet.beat(pick);
          else if (s.kind === "commit" && pick) fleet.commit(pick);
          else if (s.kind === "leave" && pick) fleet.leave(pick);
          else if (s.kind === "die" && pick) pick.alive = false;
          else if (s.kind === "advance") {
            fleet.advance(s.ms);
            // A live member heartbeats well within its session (45 s) however the clock moved.
            for (const k of [...fleet.members.values()])
              if (k.alive && fleet.h.now - k.lastBeat > CONFIG.consumerSessionTimeoutMs / 3) fleet.beat(k);
          }
          fleet.checkExclusive();
        }
        expect(fleet.refusals).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
