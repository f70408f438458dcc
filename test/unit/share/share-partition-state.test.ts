/**
 * SharePartition, continued: Kafka's releaseAcquiredRecords examples, the cost of operations on huge
 * ranges, bookkeeping (lock deadline, canAcquire, fromRecord), log start, redrive, reset and persistence.
 */
import { describe, expect, it } from "vitest";
import { SharePartition } from "../../../src/core/share/share-partition.ts";
import { fresh, rec, S, T0 } from "./share-fixtures.ts";

describe("Kafka's releaseAcquiredRecords examples (a closed share session: counts go back down)", () => {
  it("testReleaseAcquiredRecordsAfterDifferentAcknowledges", () => {
    const sp = SharePartition.create("t", 0);
    sp.report(10, 5, T0, S);
    expect(sp.acquire("m", 10, T0, S)).toEqual([rec(5, 9)]);
    expect(sp.acknowledge("m", 5, 6, "release", T0, S).error).toBeNull();
    expect(sp.acknowledge("m", 8, 9, "accept", T0, S).error).toBeNull();
    expect(sp.releaseMember("m", false, T0, S)).toEqual([]);
    expect(sp.view().map((r) => [r.first, r.last, r.state, r.count])).toEqual([
      [5, 6, "available", 1], // released by acknowledgement: a delivery that counted
      [7, 7, "available", 0], // released with the session: not counted
      [8, 9, "acknowledged", 0],
    ]);
    expect(sp.startOffset).toBe(5);
  });

  it("testReleaseAcquiredRecordsWithAnotherMember: only that member's locks end", () => {
    const sp = SharePartition.create("t", 0);
    sp.report(21, 5, T0, S);
    sp.acquire("member-2", 5, T0, S); // 5–9
    sp.acquire("member-1", 11, T0, S); // 10–20
    for (const [f, l, type] of [
      [10, 11, "accept"],
      [12, 13, "reject"],
      [14, 14, "accept"],
      [15, 15, "reject"],
      [16, 16, "accept"],
      [17, 17, "reject"],
      [18, 18, "accept"],
    ] as const)
      expect(sp.acknowledge("member-1", f, l, type, T0, S).error).toBeNull();
    sp.releaseMember("member-1", false, T0, S);
    expect(sp.view().map((r) => [r.first, r.last, r.state, r.owner])).toEqual([
      [5, 9, "acquired", "member-2"],
      [10, 11, "acknowledged", null],
      [12, 13, "archived", null],
      [14, 14, "acknowledged", null],
      [15, 15, "archived", null],
      [16, 16, "acknowledged", null],
      [17, 17, "archived", null],
      [18, 18, "acknowledged", null],
      [19, 20, "available", null],
    ]);
    sp.releaseMember("member-2", false, T0, S);
    expect(sp.acquire("member-3", 100, T0, S)).toEqual([rec(5, 9, 1), rec(19, 20, 1)]);
  });

  it("testReleaseAcquiredRecordsForEmptyCachedData", () => {
    const sp = fresh(0);
    sp.markSaved();
    expect(sp.releaseMember("m", false, T0, S)).toEqual([]);
    expect(sp.releaseMember("m", true, T0, S)).toEqual([]);
    expect([sp.startOffset, sp.rangeCount, sp.dirty]).toEqual([0, 0, false]);
  });
});

describe("no operation walks offsets", () => {
  it("ranges of 10^12 offsets cost what ranges of one offset cost", () => {
    const huge = 1e12;
    const s = { ...S, maxInFlight: 4 * huge, deliveryCountLimit: 2 };
    const sp = SharePartition.create("t", 0);
    sp.report(4 * huge, 0, T0, s);
    expect(sp.acquire("m", huge, T0, s)).toEqual([rec(0, huge - 1)]);
    expect(sp.acquire("n", 2 * huge, T0, s)).toEqual([rec(huge, 3 * huge - 1)]);
    expect(sp.acknowledge("m", 10, huge - 1, "release", T0, s).error).toBeNull();
    expect(sp.acknowledge("n", huge, 2 * huge, "reject", T0, s).archived).toHaveLength(1);
    expect(sp.acquire("o", 3 * huge, T0 + 1, s)).toEqual([
      rec(10, huge - 1, 2),
      rec(3 * huge, 4 * huge - 1, 1),
    ]);
    // o's 10…huge−1 reach the limit and are archived; the rest of the expired locks become available.
    expect(sp.expireLocks(T0 + 1 + s.lockDurationMs, s)).toEqual([
      { ...rec(10, huge - 1, 2), reason: "delivery_limit", archivedAt: T0 + 1 + s.lockDurationMs },
    ]);
    expect(sp.releaseMember("n", true, T0 + 1 + s.lockDurationMs, s)).toEqual([]);
    const back = SharePartition.fromRecord(sp.toRecord());
    expect(back.counts().archived).toBe(2 * huge + 1 - 10);
    expect(back.redrive(0, 4 * huge, [], T0)).toBe(2 * huge + 1 - 10);
    back.report(undefined, 3 * huge, T0, s);
    expect(back.startOffset).toBe(3 * huge);
    expect(back.lag()).toBe(huge);
  });
});

describe("bookkeeping", () => {
  it("the lock deadline follows the earliest live lock as locks end", () => {
    const sp = fresh(30);
    sp.acquire("a", 10, T0, S);
    sp.acquire("b", 10, T0 + 5, S);
    sp.acquire("c", 10, T0 + 9, S);
    sp.acknowledge("a", 0, 9, "accept", T0 + 10, S);
    expect(sp.nextLockDeadline()).toBe(T0 + 5 + S.lockDurationMs);
    sp.releaseMember("b", false, T0 + 10, S);
    expect(sp.nextLockDeadline()).toBe(T0 + 9 + S.lockDurationMs);
    sp.acknowledge("c", 20, 29, "renew", T0 + 20, S);
    expect(sp.nextLockDeadline()).toBe(T0 + 20 + S.lockDurationMs);
  });

  it("canAcquire sees re-available offsets at the in-flight cap", () => {
    const s = { ...S, maxInFlight: 5 };
    const sp = fresh(100, s);
    sp.acquire("m", 5, T0, s);
    expect(sp.canAcquire(s)).toBe(false);
    sp.acknowledge("m", 3, 3, "release", T0, s);
    expect(sp.canAcquire(s)).toBe(true);
    expect(sp.acquire("n", 5, T0, s)).toEqual([rec(3, 3, 2)]);
  });

  it("fromRecord tolerates unsorted, overlapping and out-of-window ranges, and a done prefix", () => {
    const sp = SharePartition.fromRecord({
      topic: "t",
      partition: 0,
      startOffset: 10,
      endOffset: 20,
      logEndOffset: 30,
      logStartOffset: 0,
      ranges: [
        [15, 16, "archived", 3],
        [2, 11, "acknowledged", 1],
        [16, 22, "available", 2],
      ],
    });
    expect([sp.startOffset, sp.endOffset, sp.dirty]).toEqual([12, 23, false]);
    expect(sp.view().map((r) => [r.first, r.last, r.state, r.count])).toEqual([
      [12, 14, "available", 0],
      [15, 16, "archived", 3],
      [17, 22, "available", 2],
    ]);
  });
});

describe("log start, redrive, reset", () => {
  it("testLogStartOffsetMovedBeyond: non-done offsets below the log start are archived (`log_start`)", () => {
    const sp = fresh(20);
    sp.acquire("m", 10, T0, S);
    sp.acknowledge("m", 2, 3, "accept", T0, S);
    const archived = sp.report(undefined, 6, T0 + 1, S);
    expect(archived).toEqual([
      { ...rec(0, 1), reason: "log_start", archivedAt: T0 + 1 },
      { ...rec(4, 5), reason: "log_start", archivedAt: T0 + 1 },
    ]);
    expect([sp.startOffset, sp.endOffset, sp.logStartOffset]).toEqual([6, 10, 6]);
    expect(sp.acknowledge("m", 6, 9, "accept", T0 + 1, S).error).toBeNull();
    expect(sp.report(undefined, 15, T0 + 2, S)).toEqual([]);
    expect([sp.startOffset, sp.endOffset]).toEqual([15, 15]);
  });

  it("redrive in flight: archived offsets become available with count 0", () => {
    const sp = fresh(10);
    sp.acquire("m", 10, T0, S);
    sp.acknowledge("m", 3, 4, "reject", T0, S);
    sp.acknowledge("m", 7, 7, "reject", T0, S);
    expect(sp.redrive(0, 9, [], T0)).toBe(3);
    expect(sp.counts()).toEqual({ acquired: 7, available: 3, acknowledged: 0, archived: 0 });
    expect(sp.acquire("n", 10, T0, S)).toEqual([rec(3, 4, 1), rec(7, 7, 1)]);
  });

  it("redrive below SPSO moves SPSO back; the offsets between stay acknowledged", () => {
    const sp = fresh(10);
    sp.acquire("m", 10, T0, S);
    const archived = [
      ...sp.acknowledge("m", 2, 3, "reject", T0, S).archived,
      ...sp.acknowledge("m", 6, 6, "reject", T0, S).archived,
    ];
    sp.acknowledge("m", 0, 9, "accept", T0, S); // refused: 2–3 and 6 are not acquired any more
    for (const [f, l] of [
      [0, 1],
      [4, 5],
      [7, 9],
    ] as const)
      sp.acknowledge("m", f, l, "accept", T0, S);
    expect(sp.startOffset).toBe(10);
    expect(sp.redrive(0, 9, archived, T0 + 1)).toBe(3);
    expect([sp.startOffset, sp.endOffset]).toEqual([2, 10]);
    expect(sp.counts()).toEqual({ acquired: 0, available: 3, acknowledged: 5, archived: 0 });
    expect(sp.lag()).toBe(3);
    expect(sp.acquire("n", 100, T0 + 1, S)).toEqual([rec(2, 3), rec(6, 6)]);
    sp.acknowledge("n", 2, 3, "accept", T0 + 1, S);
    sp.acknowledge("n", 6, 6, "accept", T0 + 1, S);
    expect([sp.startOffset, sp.rangeCount]).toEqual([10, 0]);
  });

  it("redrive honours [first, last] and leaves offsets under the log start archived", () => {
    const sp = fresh(10);
    sp.acquire("m", 10, T0, S);
    const archived = sp.acknowledge("m", 0, 9, "reject", T0, S).archived;
    expect(sp.startOffset).toBe(10);
    sp.report(undefined, 3, T0, S);
    expect(sp.redrive(5, 6, archived, T0)).toBe(2);
    expect(sp.startOffset).toBe(5);
    expect(sp.redrive(0, 9, archived, T0)).toBe(5); // 3, 4 and 7–9 (5–6 are available already)
    expect(sp.startOffset).toBe(3);
  });

  it("reset: SPSO = SPEO = offset, nothing in flight", () => {
    const sp = fresh(100);
    sp.acquire("m", 10, T0, S);
    sp.reset(42);
    expect([sp.startOffset, sp.endOffset, sp.rangeCount, sp.nextLockDeadline()]).toEqual([42, 42, 0, null]);
    expect(sp.acquire("m", 1, T0, S)).toEqual([rec(42, 42)]);
  });
});

describe("persistence and copies", () => {
  it("acquired offsets are persisted as available with their count before acquisition", () => {
    const sp = fresh(20);
    sp.acquire("m", 10, T0, S);
    sp.acknowledge("m", 0, 1, "release", T0, S);
    sp.acquire("m", 2, T0, S); // 0–1 now at count 2
    sp.acknowledge("m", 4, 5, "accept", T0, S);
    sp.acknowledge("m", 6, 6, "reject", T0, S);
    const record = sp.toRecord();
    expect(record).toEqual({
      topic: "t",
      partition: 0,
      startOffset: 0,
      endOffset: 7,
      logEndOffset: 20,
      logStartOffset: 0,
      ranges: [
        [0, 1, "available", 1],
        [4, 5, "acknowledged", 0],
        [6, 6, "archived", 1],
      ],
    });
    const back = SharePartition.fromRecord(record);
    expect(back.dirty).toBe(false);
    expect(back.counts()).toEqual({ acquired: 0, available: 4, acknowledged: 2, archived: 1 });
    expect(back.acquire("n", 100, T0, S)).toEqual([rec(0, 1, 2), rec(2, 3, 1), rec(7, 19, 1)]);
  });

  it("dirty: acquire and renew alone do not change the persisted form; the rest do", () => {
    const sp = fresh(20);
    sp.markSaved();
    sp.acquire("m", 5, T0, S);
    sp.acknowledge("m", 0, 4, "renew", T0, S);
    expect(sp.dirty).toBe(false);
    sp.acknowledge("m", 0, 0, "accept", T0, S);
    expect(sp.dirty).toBe(true);
    sp.markSaved();
    sp.expireLocks(T0 + S.lockDurationMs, S);
    expect(sp.dirty).toBe(true);
    sp.markSaved();
    sp.report(20, 0, T0, S);
    expect(sp.dirty).toBe(false);
    sp.report(21, 0, T0, S);
    expect(sp.dirty).toBe(true);
  });

  it("clone is a deep copy", () => {
    const sp = fresh(20);
    sp.acquire("m", 5, T0, S);
    const copy = sp.clone();
    sp.acknowledge("m", 0, 4, "accept", T0, S);
    expect(copy.counts().acquired).toBe(5);
    expect(copy.startOffset).toBe(0);
    expect(copy.acknowledge("m", 0, 4, "release", T0, S).error).toBeNull();
    expect(sp.startOffset).toBe(5);
  });
});
