/**
 * The classic protocol's cooperative rebalance (KIP-429) as the SDK runs it, in plain Node: members
 * join with the subscription metadata of classic-assignment.ts reporting what they own, the leader runs
 * `cooperative-sticky` through `leaderAssignments`, each member revokes only what moved away and asks
 * for a follow-up round when it revoked anything. Checked over random joins and leaves with fast-check:
 * no partition is ever owned twice, partitions that stay are never revoked, the group settles within
 * two rounds, balanced within one, and every stayer keeps as much of what it owned as balance allows.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  assignedPartitions,
  leaderAssignments,
  rebalanceProtocol,
  subscriptionMetadata,
} from "../../../src/client/classic-assignment.ts";
import { keyOf, minus, type TopicPartition } from "../../../src/client/partitions.ts";

type Owned = Map<string, TopicPartition[]>;

interface RebalanceResult {
  rounds: number;
  /** Per member, every partition it revoked during the rebalance. */
  revoked: Map<string, TopicPartition[]>;
}

/** Runs join/sync rounds until no member revoked anything (the follow-up round's answer). */
function rebalance(topics: Record<string, number>, owned: Owned): RebalanceResult {
  const revoked = new Map<string, TopicPartition[]>([...owned.keys()].map((m) => [m, []]));
  for (let rounds = 1; rounds <= 5; rounds++) {
    const members = [...owned].map(([memberId, tps]) => ({
      memberId,
      metadata: subscriptionMetadata(topics, tps),
    }));
    const assignments = leaderAssignments("cooperative-sticky", members);
    // The new owners, against what everyone owned when it joined: no hand-over within a round.
    const reportedBy = new Map<string, string>();
    for (const [m, tps] of owned) for (const tp of tps) reportedBy.set(keyOf(tp), m);
    let anyRevoked = false;
    for (const { memberId, assignment } of assignments) {
      const assigned = assignedPartitions(assignment);
      for (const tp of assigned) {
        const holder = reportedBy.get(keyOf(tp));
        if (holder !== undefined && holder !== memberId)
          throw new Error(`${keyOf(tp)} given to ${memberId} while ${holder} still owns it`);
      }
      const gaveUp = minus(owned.get(memberId)!, assigned);
      if (gaveUp.length > 0) anyRevoked = true;
      revoked.get(memberId)!.push(...gaveUp);
      owned.set(memberId, assigned);
    }
    if (!anyRevoked) return { rounds, revoked };
  }
  throw new Error("no settled assignment after 5 rounds");
}

function checkSettled(topics: Record<string, number>, owned: Owned): void {
  const seen = new Set<string>();
  for (const tps of owned.values())
    for (const tp of tps) {
      expect(seen.has(keyOf(tp)), `${keyOf(tp)} owned twice`).toBe(false);
      seen.add(keyOf(tp));
    }
  const total = Object.values(topics).reduce((a, b) => a + b, 0);
  if (owned.size > 0) expect(seen.size).toBe(total);
  const loads = [...owned.values()].map((tps) => tps.length);
  if (loads.length > 0) expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
}

const partitionsOf = (topic: string, ps: number[]) => ps.map((partition) => ({ topic, partition }));

describe("rebalanceProtocol", () => {
  it("is cooperative only when every offered assignor is (Kafka's rule for upgrades)", () => {
    expect(rebalanceProtocol(["cooperative-sticky"])).toBe("cooperative");
    expect(rebalanceProtocol(["cooperative-sticky", "range"])).toBe("eager");
    expect(rebalanceProtocol(["range"])).toBe("eager");
    expect(rebalanceProtocol([])).toBe("eager");
  });
});

describe("cooperative classic rebalance", () => {
  it("a third member joining two: each revokes one partition, the newcomer gets two in the follow-up round", () => {
    const topics = { orders: 6 };
    const owned: Owned = new Map([
      ["a", partitionsOf("orders", [0, 1, 2])],
      ["b", partitionsOf("orders", [3, 4, 5])],
      ["c", []],
    ]);
    const { rounds, revoked } = rebalance(topics, owned);
    expect(rounds).toBe(2);
    expect(revoked.get("a")).toHaveLength(1);
    expect(revoked.get("b")).toHaveLength(1);
    expect(revoked.get("c")).toEqual([]);
    expect(owned.get("c")).toHaveLength(2);
    checkSettled(topics, owned);
  });

  it("a member leaving: its partitions move at once, nobody revokes anything (one round)", () => {
    const topics = { orders: 6 };
    const owned: Owned = new Map([
      ["b", partitionsOf("orders", [2, 3])],
      ["c", partitionsOf("orders", [4, 5])],
    ]);
    const { rounds, revoked } = rebalance(topics, owned);
    expect(rounds).toBe(1);
    expect([...revoked.values()].flat()).toEqual([]);
    expect(owned.get("b")).toHaveLength(3);
    checkSettled(topics, owned);
  });

  it("over random joins and leaves: never owned twice, stayers revoke only what moves, settles balanced", () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant("join" as const), count: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant("leave" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(
        fc.record({
          partitions: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 }),
          steps: fc.array(step, { minLength: 1, maxLength: 8 }),
        }),
        ({ partitions, steps }) => {
          const topics = Object.fromEntries(partitions.map((n, t) => [`t${t}`, n]));
          const total = partitions.reduce((a, b) => a + b, 0);
          const owned: Owned = new Map();
          let next = 0;
          for (const s of steps) {
            if (s.kind === "join") for (let i = 0; i < s.count; i++) owned.set(`m${next++}`, []);
            else if (owned.size > 0) owned.delete([...owned.keys()][s.pick % owned.size]!);
            if (owned.size === 0) continue;
            const before = new Map([...owned].map(([m, tps]) => [m, tps.slice()]));
            const { rounds, revoked } = rebalance(topics, owned);
            expect(rounds).toBeLessThanOrEqual(2);
            checkSettled(topics, owned);
            const quota = Math.floor(total / owned.size);
            for (const [m, had] of before) {
              const kept = new Set(owned.get(m)!.map(keyOf));
              // Revoked means moved away: nothing revoked is owned again at the end.
              for (const tp of revoked.get(m)!) expect(kept.has(keyOf(tp))).toBe(false);
              // Sticky: a member keeps what it owned up to its share.
              const stayed = had.filter((tp) => kept.has(keyOf(tp))).length;
              expect(stayed).toBeGreaterThanOrEqual(Math.min(had.length, quota));
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
