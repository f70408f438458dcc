/**
 * Size limits on the pure core (README, Configuration): GROUP_MAX_PARTITIONS over a consumer group's
 * subscriptions and reports, refused before anything changes; KIP-394 member ids held for members
 * that have not joined, bounded by GROUP_MAX_SIZE; the configuration's ceilings.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readConfig } from "../../../src/core/config";
import { checkConsumerLimits } from "../../../src/core/limits";
import { CONFIG as CLASSIC_CONFIG, Driver } from "../classic/harness";
import { CONFIG, Harness } from "../consumer/harness";

const MAX = 1000;
const limited = { ...CONFIG, groupMaxPartitions: MAX };

/** The group's persisted and in-memory state, to show a refusal changed nothing. */
const snapshot = (h: Harness) =>
  JSON.stringify([h.consumer.toRecord(), [...h.consumer.members.values()], h.consumer.nextDeadline()]);

describe("GROUP_MAX_PARTITIONS", () => {
  it("refuses a join whose topics add up to more, naming the limit, and creates no group", () => {
    const h = new Harness("g", null, limited);
    const r = h.heartbeat({
      memberId: "a",
      memberEpoch: 0,
      subscribedTopics: [
        { name: "t", partitions: 600 },
        { name: "u", partitions: 401 },
      ],
      ownedPartitions: [],
    });
    expect(r.ok ? null : r.error.code).toBe("INVALID_REQUEST");
    expect(r.ok ? "" : r.error.message).toContain("GROUP_MAX_PARTITIONS (1000)");
    expect(h.group).toBeNull();
  });

  it("takes a group at exactly the limit, and refuses another member's count that would pass it", () => {
    const h = new Harness("g", null, limited);
    h.join("a", { t: 600, u: 400 });
    const before = snapshot(h);
    // Inflating a shared topic's count past the total is refused and changes nothing...
    const inflate = h.heartbeat({
      memberId: "b",
      memberEpoch: 0,
      subscribedTopics: [{ name: "t", partitions: 601 }],
      ownedPartitions: [],
    });
    expect(inflate.ok ? null : inflate.error.code).toBe("INVALID_REQUEST");
    expect(snapshot(h)).toBe(before);
    // ...as is a new topic; a member joining within the total is taken.
    expect(
      h.heartbeat({
        memberId: "b",
        memberEpoch: 0,
        subscribedTopics: [{ name: "v", partitions: 1 }],
        ownedPartitions: [],
      }).ok,
    ).toBe(false);
    expect(h.join("b", { t: 600 }).memberEpoch).toBeGreaterThan(0);
    expect(h.consumer.memberCount).toBe(2);
  });

  it("lets a member move its subscription within the limit (its old topics no longer count)", () => {
    const h = new Harness("g", null, limited);
    const a = h.join("a", { t: 1000 });
    const moved = h.heartbeat({
      memberId: "a",
      memberEpoch: a.memberEpoch,
      subscribedTopics: [{ name: "u", partitions: 1000 }],
    });
    expect(moved.ok).toBe(true);
  });

  it("refuses ownedPartitions listing more partitions than the limit", () => {
    const h = new Harness("g", null, limited);
    const a = h.join("a", { t: 10 });
    const r = h.heartbeat({
      memberId: "a",
      memberEpoch: a.memberEpoch,
      ownedPartitions: [{ topic: "t", partitions: Array.from({ length: MAX + 1 }, (_, p) => p) }],
    });
    expect(r.ok ? "" : r.error.message).toContain("GROUP_MAX_PARTITIONS");
  });

  it("still takes heartbeats of a group already over a lowered limit, if they do not raise its total", () => {
    const h = new Harness("g", null, { ...limited, groupMaxPartitions: 5000 });
    const a = h.join("a", { t: 3000 });
    const lowered = new Harness("g", h.group, limited);
    const same = lowered.heartbeat({
      memberId: "a",
      memberEpoch: a.memberEpoch,
      subscribedTopics: [{ name: "t", partitions: 3000 }],
    });
    expect(same.ok).toBe(true);
    const more = lowered.heartbeat({
      memberId: "a",
      memberEpoch: a.memberEpoch,
      subscribedTopics: [{ name: "t", partitions: 3001 }],
    });
    expect(more.ok).toBe(false);
  });
});

describe("topics per group", () => {
  it("refuses a subscription that would make the group assign more than 10,000 topics, changing nothing", () => {
    const h = new Harness();
    const topics = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ name: `t${from + i}`, partitions: 1 }));
    for (let m = 0; m < 10; m++) {
      h.must({
        memberId: `m${m}`,
        memberEpoch: 0,
        subscribedTopics: topics(m * 1000, 1000),
        ownedPartitions: [],
      });
    }
    const before = snapshot(h);
    const r = h.heartbeat({
      memberId: "x",
      memberEpoch: 0,
      subscribedTopics: topics(10_000, 1),
      ownedPartitions: [],
    });
    expect(r.ok ? "" : r.error.message).toContain("10000 topics per group");
    expect(snapshot(h)).toBe(before);
    // A topic the group already assigns, or one with no partitions, is still fine.
    expect(
      h.heartbeat({
        memberId: "y",
        memberEpoch: 0,
        subscribedTopics: [
          { name: "t0", partitions: 1 },
          { name: "new", partitions: 0 },
        ],
        ownedPartitions: [],
      }).ok,
    ).toBe(true);
  });
});

describe("GROUP_MAX_PARTITIONS, computed incrementally", () => {
  it("refuses exactly the heartbeats whose resulting subscriptions pass the limit (fast-check)", () => {
    const topic = fc.constantFrom("t0", "t1", "t2", "t3", "__proto__", "constructor");
    const subscription = fc.uniqueArray(
      fc.record({ name: topic, partitions: fc.integer({ min: 0, max: 400 }) }),
      {
        selector: (t) => t.name,
        maxLength: 4,
      },
    );
    fc.assert(
      fc.property(
        fc.array(subscription, { minLength: 1, maxLength: 5 }),
        subscription,
        fc.nat(5),
        (members, asked, who) => {
          const h = new Harness("g", null, CONFIG);
          members.forEach((topics, i) => {
            h.must({ memberId: `m${i}`, memberEpoch: 0, subscribedTopics: topics, ownedPartitions: [] });
          });
          const memberId = `m${who}`;
          const existing = h.consumer.members.get(memberId);
          // The naive total: every member's subscription, with this member's replaced, at the largest count.
          const pc = h.consumer.partitionCounts;
          const count = (t: string) => (Object.hasOwn(pc, t) ? pc[t]! : 0);
          const counts = new Map<string, number>();
          for (const m of h.consumer.members.values()) {
            if (m.memberId !== memberId) for (const t of m.subscribedTopics) counts.set(t, count(t));
          }
          for (const t of asked) counts.set(t.name, Math.max(t.partitions, count(t.name)));
          let naive = 0;
          for (const n of counts.values()) naive += n;
          let now = 0;
          for (const n of Object.values(h.consumer.partitionCounts)) now += n;
          const refused = checkConsumerLimits(
            h.consumer,
            { memberId, memberEpoch: existing ? existing.memberEpoch : 0, subscribedTopics: asked },
            limited,
          );
          expect(refused !== null).toBe(naive > MAX && naive > now);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("KIP-394 member ids not yet joined", () => {
  it("holds at most GROUP_MAX_SIZE of them (409 GROUP_MAX_SIZE_REACHED), and frees them with their session", () => {
    const d = new Driver({ ...CLASSIC_CONFIG, groupMaxSize: 5 });
    for (let i = 0; i < 5; i++) expect(d.code(d.join(""))).toBe("MEMBER_ID_REQUIRED");
    expect(d.group.pendingMembers.size).toBe(5);
    expect(d.code(d.join(""))).toBe("GROUP_MAX_SIZE_REACHED");
    expect(d.group.pendingMembers.size).toBe(5);
    d.advance(60_000);
    expect(d.group.pendingMembers.size).toBe(0);
    expect(d.code(d.join(""))).toBe("MEMBER_ID_REQUIRED");
  });
});

describe("configuration ceilings", () => {
  it("fails closed on a limit set past what keeps rows and memory bounded", () => {
    expect(readConfig({ GROUP_MAX_PARTITIONS: "150001" })).toMatchObject({ ok: false });
    expect(readConfig({ OFFSET_METADATA_MAX_BYTES: "262145" })).toMatchObject({ ok: false });
    expect(readConfig({ GROUP_MAX_PARTITIONS: "150000" })).toMatchObject({ ok: true });
    expect(readConfig({})).toMatchObject({ ok: true, config: { groupMaxPartitions: 100_000 } });
  });
});
