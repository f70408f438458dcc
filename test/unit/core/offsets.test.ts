/**
 * The pure offset rules with a fake clock: who may commit, what a commit and a reset write, lag, and
 * KIP-211 expiry to the millisecond.
 */

import { describe, expect, it } from "vitest";
import { ClassicGroup, type ClassicMember } from "../../../src/core/classic/classic-group";
import { DEFAULT_CONFIG } from "../../../src/core/config";
import {
  checkCommitter,
  checkOffsetDelete,
  expiryHint,
  lagReport,
  type OffsetRow,
  planCommit,
  planExpiry,
  planReset,
} from "../../../src/core/offsets";

const NOW = 1_700_000_000_000;
const DAY = 86_400_000;

function member(memberId: string, topics: string[], owned: Record<string, number[]> = {}): ClassicMember {
  return {
    memberId,
    groupInstanceId: null,
    clientId: "c",
    clientHost: "h",
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: "" }],
    assignment: "",
    subscribedTopics: topics,
    assignedPartitions: Object.entries(owned).map(([topic, partitions]) => ({ topic, partitions })),
  };
}

function stableGroup(members: ClassicMember[], generationId = 3): ClassicGroup {
  return new ClassicGroup(
    {
      groupId: "g",
      type: "classic",
      emptySince: null,
      state: "Stable",
      generationId,
      protocolType: "consumer",
      protocolName: "range",
      leaderId: members[0]?.memberId ?? null,
    },
    members,
  );
}

const row = (
  topic: string,
  partition: number,
  offset: number,
  committedAt: number,
  logEndOffset: number | null = null,
): OffsetRow => ({
  topic,
  partition,
  offset,
  metadata: "",
  leaderEpoch: null,
  committedAt,
  logEndOffset,
});

describe("checkCommitter", () => {
  it("accepts a simple commit only on a missing or memberless group", () => {
    expect(checkCommitter(null, {}, NOW)).toBeNull();
    expect(checkCommitter(ClassicGroup.simple("g", NOW), {}, NOW)).toBeNull();
    expect(checkCommitter(stableGroup([member("m1", ["t"])]), {}, NOW)?.code).toBe("UNKNOWN_MEMBER_ID");
  });

  it("applies the classic rules to member commits", () => {
    const g = stableGroup([member("m1", ["t"])], 3);
    expect(checkCommitter(null, { memberId: "m1", generationId: 1 }, NOW)?.code).toBe("UNKNOWN_MEMBER_ID");
    expect(checkCommitter(g, { memberId: "m2", generationId: 3 }, NOW)?.code).toBe("UNKNOWN_MEMBER_ID");
    expect(checkCommitter(g, { memberId: "m1", generationId: 2 }, NOW)?.code).toBe("ILLEGAL_GENERATION");
    expect(checkCommitter(g, { memberId: "m1", generationId: 3 }, NOW)).toBeNull();
  });
});

describe("planCommit", () => {
  it("writes one row per partition, the last entry winning, stamped with now", () => {
    const plan = planCommit(
      null,
      {
        offsets: [
          { topic: "t", partition: 0, offset: 1 },
          { topic: "t", partition: 0, offset: 2, metadata: "x", leaderEpoch: 4, logEndOffset: 9 },
        ],
      },
      NOW,
      DEFAULT_CONFIG,
    );
    expect(plan).toEqual({
      ok: true,
      value: [
        {
          topic: "t",
          partition: 0,
          offset: 2,
          metadata: "x",
          leaderEpoch: 4,
          committedAt: NOW,
          logEndOffset: 9,
        },
      ],
    });
  });

  it("refuses the whole commit when one entry's metadata is too large", () => {
    const config = { ...DEFAULT_CONFIG, offsetMetadataMaxBytes: 3 };
    const plan = planCommit(
      null,
      {
        offsets: [
          { topic: "t", partition: 0, offset: 1, metadata: "abc" },
          { topic: "t", partition: 1, offset: 1, metadata: "abcd" },
        ],
      },
      NOW,
      config,
    );
    expect(plan.ok ? null : plan.error.code).toBe("OFFSET_METADATA_TOO_LARGE");
  });
});

describe("planReset", () => {
  const rows = [row("t", 0, 50, NOW, 100), row("t", 1, 5, NOW, 20), row("t", 2, 8, NOW)];

  it("refuses while the group has members", () => {
    const plan = planReset(stableGroup([member("m1", ["t"])]), rows, { topic: "t", to: "earliest" }, NOW);
    expect(plan.ok ? null : plan.error.code).toBe("NON_EMPTY_GROUP");
  });

  it("clamps shifts and explicit offsets into [0, logEndOffset]", () => {
    const up = planReset(null, rows, { topic: "t", to: "shift", shiftBy: 60 }, NOW);
    expect(up.ok && up.value.changes.map((c) => c.newOffset)).toEqual([100, 20, 68]);
    const down = planReset(null, rows, { topic: "t", to: "shift", shiftBy: -60 }, NOW);
    expect(down.ok && down.value.changes.map((c) => c.newOffset)).toEqual([0, 0, 0]);
    const to = planReset(null, rows, { topic: "t", to: "offset", offset: 70 }, NOW);
    expect(to.ok && to.value.changes.map((c) => c.newOffset)).toEqual([70, 20, 70]);
  });

  it("never shifts past the largest offset (2^53 - 1), whatever the shift", () => {
    const far = [row("t", 0, 10, NOW), row("t", 1, Number.MAX_SAFE_INTEGER - 1, NOW)];
    const up = planReset(null, far, { topic: "t", to: "shift", shiftBy: Number.MAX_SAFE_INTEGER }, NOW);
    expect(up.ok && up.value.changes.map((c) => c.newOffset)).toEqual([
      Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER,
    ]);
  });

  it("resets partitions with no commit, reporting previousOffset -1, and keeps the reported log end", () => {
    const plan = planReset(null, rows, { topic: "t", to: "earliest", partitions: [1, 7] }, NOW);
    expect(plan.ok && plan.value.changes).toEqual([
      { topic: "t", partition: 1, previousOffset: 5, newOffset: 0 },
      { topic: "t", partition: 7, previousOffset: -1, newOffset: 0 },
    ]);
    expect(plan.ok && plan.value.rows[0]?.logEndOffset).toBe(20);
  });

  it("cannot reset to latest without a reported log end, nor shift what was never committed", () => {
    expect(planReset(null, rows, { topic: "t", to: "latest" }, NOW).ok).toBe(false);
    expect(planReset(null, rows, { topic: "t", to: "shift", shiftBy: 1, partitions: [9] }, NOW).ok).toBe(
      false,
    );
  });
});

describe("lagReport", () => {
  it("names each partition's owner and includes assigned partitions without commits", () => {
    const g = stableGroup([member("m1", ["t"], { t: [0, 1] }), member("m2", ["t"], { t: [2] })]);
    const report = lagReport(g, [row("t", 0, 10, NOW, 15), row("t", 2, 3, NOW, 3), row("u", 0, 1, NOW, 10)]);
    expect(report.totalLag).toBe(14);
    expect(
      report.partitions.map((p) => [p.topic, p.partition, p.committedOffset, p.lag, p.memberId]),
    ).toEqual([
      ["t", 0, 10, 5, "m1"],
      ["t", 1, -1, null, "m1"],
      ["t", 2, 3, 0, "m2"],
      ["u", 0, 1, 9, null],
    ]);
  });
});

describe("KIP-211 expiry", () => {
  const retention = 7 * DAY;

  /** Offset ages as storage would answer them, counting the questions asked. */
  const ages = (oldest: number | null) => {
    const asked = { any: 0, oldest: 0 };
    return {
      asked,
      any: () => {
        asked.any++;
        return oldest !== null;
      },
      oldestCommit: () => {
        asked.oldest++;
        return oldest;
      },
      topicCommits: () => new Map<string, number>(),
    };
  };

  it("ages a simple group's offsets from each commit, to the millisecond", () => {
    const g = ClassicGroup.simple("g", NOW);
    expect(planExpiry(g, ages(NOW), NOW + retention - 1, retention)).toEqual({
      expire: null,
      next: NOW + retention,
    });
    expect(planExpiry(g, ages(NOW), NOW + retention, retention)).toEqual({
      expire: { committedUpTo: NOW },
      next: null,
    });
    expect(planExpiry(g, ages(null), NOW + retention, retention)).toEqual({ expire: null, next: null });
    expect(expiryHint(g, true, NOW + 5, retention)).toBe(NOW + 5 + retention);
    expect(expiryHint(g, false, NOW + 5, retention)).toBeNull();
  });

  it("ages every offset of a group that had members from when it became Empty, without reading ages", () => {
    const g = new ClassicGroup({
      groupId: "g",
      type: "classic",
      emptySince: NOW + 100,
      state: "Empty",
      generationId: 4,
      protocolType: "consumer",
      protocolName: "range",
      leaderId: null,
    });
    const a = ages(NOW - 30 * DAY);
    expect(planExpiry(g, a, NOW + 100 + retention - 1, retention)).toEqual({
      expire: null,
      next: NOW + 100 + retention,
    });
    expect(planExpiry(g, a, NOW + 100 + retention, retention)).toEqual({
      expire: { committedUpTo: null },
      next: null,
    });
    expect(a.asked.oldest).toBe(0);
    expect(planExpiry(g, ages(null), NOW + 100 + retention, retention)).toEqual({ expire: null, next: null });
    expect(expiryHint(g, false, NOW, retention)).toBe(NOW + 100 + retention);
  });

  it("never expires the offsets of a group with members, and asks storage nothing", () => {
    const g = stableGroup([member("m1", ["t"])]);
    const a = ages(0);
    expect(planExpiry(g, a, NOW + 100 * DAY, retention)).toEqual({ expire: null, next: null });
    expect(a.asked).toEqual({ any: 0, oldest: 0 });
    expect(expiryHint(g, true, NOW, retention)).toBeNull();
  });
});

describe("checkOffsetDelete", () => {
  it("refuses unknown groups, subscribed topics, and members it cannot read", () => {
    expect(checkOffsetDelete(null, "t")?.code).toBe("GROUP_ID_NOT_FOUND");
    const g = stableGroup([member("m1", ["t"])]);
    expect(checkOffsetDelete(g, "t")?.code).toBe("GROUP_SUBSCRIBED_TO_TOPIC");
    expect(checkOffsetDelete(g, "u")).toBeNull();
    const opaque = new ClassicGroup(
      {
        groupId: "g",
        type: "classic",
        emptySince: null,
        state: "Stable",
        generationId: 1,
        protocolType: "connect",
        protocolName: "x",
        leaderId: "m1",
      },
      [{ ...member("m1", []), protocolType: "connect", subscribedTopics: null }],
    );
    expect(checkOffsetDelete(opaque, "u")?.code).toBe("NON_EMPTY_GROUP");
  });
});
