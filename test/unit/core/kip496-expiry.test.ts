/**
 * KIP-496 with a fake clock: in a group with members, the offsets of topics no member subscribes to
 * expire OFFSETS_RETENTION_MS after their commit, judged by the subscriptions at the time of the
 * check. Follows Kafka's OffsetMetadataManagerTest.testCleanupExpiredOffsets and
 * ClassicGroupTest.testOffsetExpirationCondition.
 */

import { describe, expect, it } from "vitest";
import { ClassicGroup, type ClassicMember } from "../../../src/core/classic/classic-group";
import { expiryHint, type OffsetAges, planExpiry } from "../../../src/core/offsets";
import { Harness } from "../consumer/harness";

const NOW = 1_700_000_000_000;
const RETENTION = 7 * 86_400_000;

/** Offset ages as storage would answer them: per topic, the oldest commit; counts the questions. */
function ages(topics: Record<string, number>) {
  const asked = { any: 0, oldest: 0, topics: 0 };
  const all = Object.values(topics);
  const store: OffsetAges & { asked: typeof asked } = {
    asked,
    any: () => {
      asked.any++;
      return all.length > 0;
    },
    oldestCommit: () => {
      asked.oldest++;
      return all.length ? Math.min(...all) : null;
    },
    topicCommits: () => {
      asked.topics++;
      return new Map(Object.entries(topics));
    },
  };
  return store;
}

function classicMember(memberId: string, topics: string[], protocolType = "consumer"): ClassicMember {
  return {
    memberId,
    groupInstanceId: null,
    clientId: "c",
    clientHost: "h",
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    protocolType,
    protocols: [{ name: "range", metadata: "" }],
    assignment: "",
    subscribedTopics: protocolType === "consumer" ? topics : null,
    assignedPartitions: protocolType === "consumer" ? [] : null,
  };
}

function classicGroup(state: string, protocolType: string, members: ClassicMember[]): ClassicGroup {
  return new ClassicGroup(
    {
      groupId: "g",
      type: "classic",
      emptySince: members.length === 0 ? NOW : null,
      state,
      generationId: 3,
      protocolType,
      protocolName: "range",
      leaderId: members[0]?.memberId ?? null,
    } as ConstructorParameters<typeof ClassicGroup>[0],
    members,
  );
}

/** The epoch `consumerGroup` left its member at. */
let epoch = 0;

/** A consumer-protocol group whose member `m1` subscribes to `topics`, at `NOW`. */
function consumerGroup(topics: string[]): Harness {
  const h = new Harness();
  h.now = NOW;
  epoch = h.join("m1", Object.fromEntries(topics.map((t) => [t, 2]))).memberEpoch;
  return h;
}

describe("KIP-496: offsets of unsubscribed topics in a group with members", () => {
  it("testCleanupExpiredOffsets: a consumer group expires only the unsubscribed topic, from each commit", () => {
    const h = consumerGroup(["s"]);
    const g = h.group!;
    const a = ages({ s: NOW - RETENTION, u: NOW });
    expect(planExpiry(g, a, NOW + RETENTION - 1, RETENTION)).toEqual({ expire: null, next: NOW + RETENTION });
    expect(planExpiry(g, a, NOW + RETENTION, RETENTION)).toEqual({
      expire: { committedUpTo: NOW, topics: ["u"] },
      next: null,
    });
    // The subscribed topic is never due, however old: with nothing else, no deadline at all.
    expect(planExpiry(g, ages({ s: 0 }), NOW + 100 * RETENTION, RETENTION)).toEqual({
      expire: null,
      next: null,
    });
  });

  it("testCleanupExpiredOffsets: the earliest of several unsubscribed topics is the next deadline", () => {
    const g = consumerGroup(["s"]).group!;
    const a = ages({ s: NOW, u: NOW + 20, v: NOW + 10 });
    expect(planExpiry(g, a, NOW + 5, RETENTION)).toEqual({ expire: null, next: NOW + 10 + RETENTION });
    expect(planExpiry(g, a, NOW + 15 + RETENTION, RETENTION)).toEqual({
      expire: { committedUpTo: NOW + 15, topics: ["v"] },
      next: null,
    });
  });

  it("judges subscriptions at the time of the check: a re-subscription before expiry keeps the offsets", () => {
    const h = consumerGroup(["s"]);
    const a = ages({ s: NOW, u: NOW });
    expect(planExpiry(h.group!, a, NOW + 1, RETENTION).next).toBe(NOW + RETENTION);
    h.advance(1000);
    h.must({
      memberId: "m1",
      memberEpoch: epoch,
      subscribedTopics: [
        { name: "s", partitions: 2 },
        { name: "u", partitions: 2 },
      ],
    });
    expect(planExpiry(h.group!, a, NOW + RETENTION, RETENTION)).toEqual({ expire: null, next: null });
  });

  it("testOffsetExpirationCondition: a Stable classic group of protocol type consumer ages unsubscribed topics", () => {
    const g = classicGroup("Stable", "consumer", [classicMember("m1", ["s"])]);
    const a = ages({ s: NOW - RETENTION, u: NOW });
    expect(planExpiry(g, a, NOW + RETENTION, RETENTION)).toEqual({
      expire: { committedUpTo: NOW, topics: ["u"] },
      next: null,
    });
  });

  it("testOffsetExpirationCondition: a rebalancing classic group, or one of another protocol type, keeps all", () => {
    const a = ages({ s: 0, u: 0 });
    for (const state of ["PreparingRebalance", "CompletingRebalance"]) {
      const g = classicGroup(state, "consumer", [classicMember("m1", ["s"])]);
      expect(planExpiry(g, a, NOW + RETENTION, RETENTION)).toEqual({ expire: null, next: null });
    }
    const connect = classicGroup("Stable", "connect", [classicMember("m1", [], "connect")]);
    expect(planExpiry(connect, a, NOW + RETENTION, RETENTION)).toEqual({ expire: null, next: null });
    // Neither asks storage anything.
    expect(a.asked).toEqual({ any: 0, oldest: 0, topics: 0 });
  });

  it("arms the alarm after a step that wrote rows, from what storage remembers, and not otherwise", () => {
    const g = consumerGroup(["s"]).group!;
    const a = ages({ s: NOW, u: NOW });
    expect(expiryHint(g, true, NOW, RETENTION, a, true)).toBe(NOW + RETENTION);
    // A topic that just lost its last subscriber and is already overdue: the alarm runs now.
    expect(expiryHint(g, false, NOW + RETENTION + 5, RETENTION, a, true)).toBe(NOW + RETENTION + 5);
    // A step that wrote nothing changed no subscription: no question to storage.
    const quiet = ages({ s: NOW, u: NOW });
    expect(expiryHint(g, false, NOW, RETENTION, quiet, false)).toBeNull();
    expect(quiet.asked.topics).toBe(0);
    // All committed topics subscribed: nothing to arm.
    expect(expiryHint(g, true, NOW, RETENTION, ages({ s: NOW }), true)).toBeNull();
  });
});
