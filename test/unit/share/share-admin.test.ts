/**
 * The admin side of a share group with a fake clock: describe's per-partition view, start offsets,
 * reset of an Empty group, OffsetDelete, the archived listing (cursor, retention, the 10,000 cap),
 * redrive above and below SPSO, the rows each writes, and the expiry of an Empty group's state.
 */

import { describe, expect, it } from "vitest";
import { ARCHIVE_LIMIT, ArchiveList } from "../../../src/core/share/share-archive";
import { entry, part, ShareHarness } from "./harness";

/** `a` alone on t-0 (log end 10), offsets 0..9 acquired; 2 and 5..6 rejected, 0..1 accepted. */
function withArchived(settings = {}) {
  const h = new ShareHarness({ sessionTimeoutMs: 3_600_000, ...settings });
  h.join("a", { t: 1 });
  h.take("a", 10, { partitions: [part("t", 0, 10)] });
  h.ack("a", [entry("t", 0, 0, 1, "accept"), entry("t", 0, 2, 2, "reject"), entry("t", 0, 5, 6, "reject")]);
  return h;
}

const listed = (h: ShareHarness, topic?: string, limit = 100, cursor?: string) => {
  const r = h.share.archived(topic, limit, cursor, h.now);
  if (!r.ok) throw new Error(r.error.code);
  return r.value;
};

describe("describe and offsets", () => {
  it("per partition: SPSO, SPEO, log end, counts in flight and lag", () => {
    const h = withArchived();
    expect(h.share.describe().partitions).toEqual([
      {
        topic: "t",
        partition: 0,
        startOffset: 3,
        endOffset: 10,
        logEndOffset: 10,
        acquired: 5,
        available: 0,
        acknowledged: 0,
        archived: 2,
        lag: 5,
      },
    ]);
    expect(h.share.startOffsets()).toEqual([
      { topic: "t", partition: 0, startOffset: 3, logEndOffset: 10, lag: 5 },
    ]);
    expect(h.share.startOffsets(["u"])).toEqual([]);
  });
});

describe("reset", () => {
  it("only while Empty; shift is refused; a dry run changes nothing", () => {
    const h = withArchived();
    expect(h.share.reset({ topic: "t", to: "earliest" }, h.now)).toMatchObject({
      ok: false,
      error: { code: "NON_EMPTY_GROUP" },
    });
    h.must({ memberId: "a", memberEpoch: -1 });
    expect(h.share.reset({ topic: "t", to: "shift", shiftBy: 1 }, h.now)).toMatchObject({
      ok: false,
      error: { code: "INVALID_REQUEST" },
    });
    const dry = h.share.reset({ topic: "t", to: "latest", dryRun: true }, h.now);
    expect(dry).toEqual({
      ok: true,
      value: [{ topic: "t", partition: 0, previousOffset: 3, newOffset: 10 }],
    });
    expect(h.share.dirty).toBe(false);
    expect(h.share.startOffsets()[0]!.startOffset).toBe(3);
  });

  it("clears in-flight state and the partition's archived listing; latest needs a reported log end", () => {
    const h = withArchived();
    h.must({ memberId: "a", memberEpoch: -1 });
    const r = h.share.reset({ topic: "t", partitions: [0, 1], to: "offset", offset: 99 }, h.now);
    expect(r).toMatchObject({
      ok: true,
      value: [{ newOffset: 10 }, { partition: 1, previousOffset: -1, newOffset: 99 }],
    });
    expect(
      h.share.describe().partitions.map((p) => [p.startOffset, p.endOffset, p.acquired + p.archived]),
    ).toEqual([
      [10, 10, 0],
      [99, 99, 0],
    ]);
    expect(listed(h).ranges).toEqual([]);
    const rows = h.share.dirtyShareRows();
    expect([...rows.partitions.keys()].sort()).toEqual(["t:0", "t:1"]);
    expect(rows.archivedRemoved.length).toBe(2);
    expect(h.share.reset({ topic: "u", partitions: [0], to: "latest" }, h.now)).toMatchObject({
      ok: false,
      error: { code: "INVALID_REQUEST" },
    });
  });
});

describe("deleteOffsets", () => {
  it("refused while a member subscribes to the topic; then the partitions' state and listing go", () => {
    const h = withArchived();
    expect(h.share.deleteOffsets("t", undefined)).toMatchObject({
      ok: false,
      error: { code: "GROUP_SUBSCRIBED_TO_TOPIC" },
    });
    h.must({ memberId: "a", memberEpoch: -1 });
    expect(h.share.isPinned()).toBe(true);
    expect(h.share.deleteOffsets("t", [3])).toEqual({ ok: true, value: 0 });
    expect(h.share.deleteOffsets("t", undefined)).toEqual({ ok: true, value: 1 });
    expect(h.share.dirtyShareRows().partitions.get("t:0")).toBeUndefined();
    expect(h.share.isPinned()).toBe(false);
  });
});

describe("archived listing", () => {
  it("lists ranges with reasons, by topic, partition and offset, in pages with an opaque cursor", () => {
    const h = withArchived();
    const all = listed(h);
    expect(all.ranges.map((r) => [r.firstOffset, r.lastOffset, r.reason, r.deliveryCount])).toEqual([
      [2, 2, "rejected", 1],
      [5, 6, "rejected", 1],
    ]);
    expect(all.nextCursor).toBeNull();
    const first = listed(h, "t", 1);
    expect(first.ranges.map((r) => r.firstOffset)).toEqual([2]);
    const second = listed(h, "t", 1, first.nextCursor!);
    expect(second.ranges.map((r) => r.firstOffset)).toEqual([5]);
    expect(second.nextCursor).toBeNull();
    expect(listed(h, "other").ranges).toEqual([]);
    expect(h.share.archived(undefined, 10, "not a cursor", h.now)).toMatchObject({
      ok: false,
      error: { code: "INVALID_REQUEST" },
    });
  });

  it("a range is listed for the retention, then the alarm drops it (a deadline of the group)", () => {
    const h = withArchived({ retentionMs: 60_000, sessionTimeoutMs: 3_600_000, lockDurationMs: 3_600_000 });
    expect(h.share.nextDeadline()).toBe(h.now + 60_000);
    h.pass(59_999);
    expect(listed(h).ranges.length).toBe(2);
    h.pass(1);
    expect(listed(h).ranges).toEqual([]);
    expect(h.rows.archived.size).toBe(0);
  });

  it(`keeps the newest ${ARCHIVE_LIMIT} ranges; the oldest leave (and their rows)`, () => {
    const list = new ArchiveList();
    const n = ARCHIVE_LIMIT + 5;
    list.add(
      Array.from({ length: n }, (_, i) => ({
        topic: "t",
        partition: 0,
        firstOffset: 2 * i,
        lastOffset: 2 * i,
        deliveryCount: 1,
        reason: "rejected" as const,
        archivedAt: 1000 + i,
      })),
    );
    expect(list.size).toBe(ARCHIVE_LIMIT);
    expect(list.all()[0]!.firstOffset).toBe(10);
    const rows = list.dirtyRows();
    expect(rows.added.length).toBe(ARCHIVE_LIMIT);
    expect(rows.removed.map((r) => r.firstOffset)).toEqual([0, 2, 4, 6, 8]);
    // Restored from more rows than the cap (the cap was lowered): trimmed, and the extra rows deleted.
    const restored = new ArchiveList(
      list.all().concat([{ ...list.all()[0]!, firstOffset: 1, archivedAt: 1 }]),
    );
    expect(restored.size).toBe(ARCHIVE_LIMIT);
    expect(restored.dirtyRows().removed).toEqual([{ topic: "t", partition: 0, firstOffset: 1 }]);
  });
});

describe("redrive", () => {
  it("archived offsets above SPSO become available with count 0; the listing loses them", () => {
    const h = withArchived();
    expect(h.share.redrive({ topic: "t", partition: 0, firstOffset: 5, lastOffset: 5 }, h.now)).toEqual({
      ok: true,
      value: { redriven: 1 },
    });
    expect(listed(h).ranges.map((r) => [r.firstOffset, r.lastOffset])).toEqual([
      [2, 2],
      [6, 6],
    ]);
    h.ack("a", [entry("t", 0, 3, 4, "accept"), entry("t", 0, 7, 9, "accept")]);
    expect(h.take("a", 10).records.map((r) => [r.firstOffset, r.lastOffset, r.deliveryCount])).toEqual([
      [5, 5, 1],
    ]);
  });

  it("below SPSO: SPSO moves back to the lowest redriven offset; acknowledged ones are not delivered again", () => {
    const h = withArchived();
    h.ack("a", [entry("t", 0, 3, 4, "accept"), entry("t", 0, 7, 9, "accept")]);
    expect(h.share.startOffsets()[0]!.startOffset).toBe(10);
    expect(h.share.redrive({ topic: "t" }, h.now)).toEqual({ ok: true, value: { redriven: 3 } });
    expect(h.share.startOffsets()[0]!.startOffset).toBe(2);
    expect(listed(h).ranges).toEqual([]);
    expect(h.take("a", 10).records.map((r) => [r.firstOffset, r.lastOffset])).toEqual([
      [2, 2],
      [5, 6],
    ]);
  });

  it("wakes a parked acquire", () => {
    const h = withArchived();
    h.ack("a", [entry("t", 0, 3, 4, "accept"), entry("t", 0, 7, 9, "accept")]);
    const { ticket } = h.acquire("a", 10, { maxWaitMs: 10_000 });
    h.share.redrive({ topic: "t", firstOffset: 2, lastOffset: 2 }, h.now);
    const done = h.share.takeCompletions().find((c) => c.ticket === ticket)!;
    expect(done.result.ok && done.result.value.records.map((r) => r.firstOffset)).toEqual([2]);
  });
});

describe("an Empty group's state", () => {
  it("is kept for the retention after the group became Empty, then cleared (the shell may delete it)", () => {
    const h = withArchived({ retentionMs: 3_600_000 });
    h.advance(1000);
    h.must({ memberId: "a", memberEpoch: -1 });
    const empty = h.now;
    expect(h.share.nextDeadline()).toBe(empty - 1000 + 3_600_000); // the listing's retention comes first
    h.pass(3_600_000);
    expect(h.share.isPinned()).toBe(false);
    expect(h.share.describe().partitions).toEqual([]);
    expect(h.rows.partitions.size).toBe(0);
    expect(h.share.nextDeadline()).toBeNull();
  });
});
