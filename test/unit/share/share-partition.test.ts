/**
 * SharePartition, one transition at a time with a fake clock (API.md §7): initialization, acquire,
 * acknowledge, the delivery limit, lock expiry and members leaving. Where Kafka's SharePartitionTest has
 * the example, the test is named after it (Kafka fetches record batches; here the log end stands in
 * for the fetched batch).
 */
import { describe, expect, it } from "vitest";
import { SharePartition } from "../../../src/core/share/share-partition.ts";
import { fresh, rec, S, T0 } from "./share-fixtures.ts";

describe("initialization (SHARE_AUTO_OFFSET_RESET)", () => {
  it("stays uninitialized until a report, and then starts per the reset policy", () => {
    const sp = SharePartition.create("t", 0);
    expect(sp.startOffset).toBeNull();
    expect(sp.acquire("m", 10, T0, S)).toEqual([]);
    expect(sp.canAcquire(S)).toBe(false);
    expect(sp.lag()).toBeNull();
    const latest = SharePartition.create("t", 0);
    latest.report(50, 10, T0, { ...S, autoOffsetReset: "latest" });
    expect([latest.startOffset, latest.endOffset]).toEqual([50, 50]);
    const earliest = SharePartition.create("t", 0);
    earliest.report(50, 10, T0, S);
    expect([earliest.startOffset, earliest.endOffset, earliest.lag()]).toEqual([10, 10, 40]);
    const zero = SharePartition.create("t", 0);
    zero.report(50, undefined, T0, S);
    expect(zero.startOffset).toBe(0);
  });

  it("a `latest` partition without a log end stays uninitialized", () => {
    const sp = SharePartition.create("t", 0);
    sp.report(undefined, 5, T0, { ...S, autoOffsetReset: "latest" });
    expect(sp.startOffset).toBeNull();
  });

  it("keeps the largest log end reported", () => {
    const sp = fresh(20);
    sp.report(10, undefined, T0, S);
    expect(sp.logEndOffset).toBe(20);
    sp.report(30, undefined, T0, S);
    expect(sp.logEndOffset).toBe(30);
  });
});

describe("acquire", () => {
  it("testAcquireSingleRecord: one offset, count 1, locked", () => {
    const sp = fresh(1);
    expect(sp.acquire("m", 10, T0, S)).toEqual([rec(0, 0)]);
    expect([sp.startOffset, sp.endOffset]).toEqual([0, 1]);
    expect(sp.counts()).toEqual({ acquired: 1, available: 0, acknowledged: 0, archived: 0 });
    expect(sp.nextLockDeadline()).toBe(T0 + S.lockDurationMs);
  });

  it("testAcquireMultipleRecords: one range, never past the log end", () => {
    const sp = fresh(15);
    sp.report(15, undefined, T0, S);
    expect(sp.acquire("m", 100, T0, S)).toEqual([rec(0, 14)]);
    expect(sp.acquire("m", 100, T0, S)).toEqual([]);
    expect(sp.canAcquire(S)).toBe(false);
    sp.report(20, undefined, T0, S);
    expect(sp.canAcquire(S)).toBe(true);
    expect(sp.acquire("n", 100, T0, S)).toEqual([rec(15, 19)]);
  });

  it("testAcquireWithMaxFetchRecords: stops at `max`", () => {
    const sp = fresh(100);
    expect(sp.acquire("m", 10, T0, S)).toEqual([rec(0, 9)]);
    expect(sp.acquire("n", 5, T0, S)).toEqual([rec(10, 14)]);
    expect(sp.endOffset).toBe(15);
  });

  it("testMaxInFlightMessages: new offsets stop at SPSO + maxInFlight until SPSO moves", () => {
    const s = { ...S, maxInFlight: 10 };
    const sp = fresh(100, s);
    expect(sp.acquire("m", 100, T0, s)).toEqual([rec(0, 9)]);
    expect(sp.canAcquire(s)).toBe(false);
    expect(sp.acquire("m", 100, T0, s)).toEqual([]);
    expect(sp.acknowledge("m", 0, 3, "accept", T0, s).error).toBeNull();
    expect(sp.startOffset).toBe(4);
    expect(sp.acquire("m", 100, T0, s)).toEqual([rec(10, 13)]);
  });

  it("re-available offsets go first, oldest first, with their raised count, then new ones", () => {
    const sp = fresh(100);
    sp.acquire("m", 10, T0, S);
    sp.acknowledge("m", 2, 3, "release", T0, S);
    sp.acknowledge("m", 6, 6, "release", T0, S);
    expect(sp.acquire("n", 5, T0, S)).toEqual([rec(2, 3, 2), rec(6, 6, 2), rec(10, 11, 1)]);
  });

  it("a 10,000-offset acquire and accept is a single range, whatever the size", () => {
    const s = { ...S, maxInFlight: 10_000 };
    const sp = fresh(1_000_000, s);
    expect(sp.acquire("m", 10_000, T0, s)).toEqual([rec(0, 9_999)]);
    expect(sp.rangeCount).toBe(1);
    expect(sp.acknowledge("m", 0, 9_999, "accept", T0, s).error).toBeNull();
    expect([sp.startOffset, sp.rangeCount]).toEqual([10_000, 0]);
  });

  it("consecutive acquisitions by one member at one instant merge into one range", () => {
    const sp = fresh(100);
    sp.acquire("m", 10, T0, S);
    sp.acquire("m", 10, T0, S);
    expect(sp.rangeCount).toBe(1);
    sp.acquire("n", 10, T0, S);
    expect(sp.rangeCount).toBe(2);
  });
});

describe("acknowledge", () => {
  it("testAcknowledgeSingleRecordBatch: accept moves SPSO past the done prefix", () => {
    const sp = fresh(10);
    sp.acquire("m", 10, T0, S);
    const r = sp.acknowledge("m", 0, 9, "accept", T0, S);
    expect(r).toEqual({ error: null, archived: [] });
    expect([sp.startOffset, sp.endOffset, sp.rangeCount, sp.lag()]).toEqual([10, 10, 0, 0]);
  });

  it("testAcknowledgeMultipleRecordBatch: a partial accept splits, SPSO stays at the first open offset", () => {
    const sp = fresh(20);
    sp.acquire("m", 20, T0, S);
    expect(sp.acknowledge("m", 5, 9, "accept", T0, S).error).toBeNull();
    expect(sp.startOffset).toBe(0);
    expect(sp.view().map((r) => [r.first, r.last, r.state])).toEqual([
      [0, 4, "acquired"],
      [5, 9, "acknowledged"],
      [10, 19, "acquired"],
    ]);
    expect(sp.lag()).toBe(15);
    expect(sp.acknowledge("m", 0, 4, "accept", T0, S).error).toBeNull();
    expect([sp.startOffset, sp.rangeCount]).toEqual([10, 1]);
  });

  it("testAcknowledgeWithAnotherMember / testAcknowledgeInvalidRecordBatch: all-or-nothing", () => {
    const sp = fresh(20);
    sp.acquire("m", 10, T0, S);
    const before = sp.toRecord();
    const bad = [
      sp.acknowledge("n", 0, 4, "accept", T0, S), // another member's lock
      sp.acknowledge("m", 5, 12, "accept", T0, S), // runs past what was acquired
      sp.acknowledge("m", 15, 16, "accept", T0, S), // never acquired
      sp.acknowledge("m", 4, 2, "accept", T0, S), // empty range
    ];
    for (const r of bad) expect(r.error?.code).toBe("INVALID_RECORD_STATE");
    expect(sp.toRecord()).toEqual(before);
    expect(sp.counts().acquired).toBe(10);
    expect(sp.acknowledge("m", 0, 0, "accept", T0, S).error).toBeNull();
    expect(sp.acknowledge("m", 0, 0, "accept", T0, S).error?.code).toBe("INVALID_RECORD_STATE"); // below SPSO
  });

  it("an acknowledgement after the lock expired is refused, even before the alarm ran", () => {
    const sp = fresh(5);
    sp.acquire("m", 5, T0, S);
    expect(sp.acknowledge("m", 0, 4, "accept", T0 + S.lockDurationMs, S).error?.code).toBe(
      "INVALID_RECORD_STATE",
    );
    expect(sp.acknowledge("m", 0, 4, "accept", T0 + S.lockDurationMs - 1, S).error).toBeNull();
  });

  it("testReleaseSingleRecordBatch: release makes offsets available again with their count", () => {
    const sp = fresh(5);
    sp.acquire("m", 5, T0, S);
    expect(sp.acknowledge("m", 0, 4, "release", T0, S)).toEqual({ error: null, archived: [] });
    expect(sp.counts()).toEqual({ acquired: 0, available: 5, acknowledged: 0, archived: 0 });
    expect(sp.nextLockDeadline()).toBeNull();
    expect(sp.acquire("n", 10, T0, S)).toEqual([rec(0, 4, 2)]);
  });

  it("testRejectSingleRecordBatch: reject archives with reason `rejected` and SPSO moves past", () => {
    const sp = fresh(5);
    sp.acquire("m", 5, T0, S);
    const r = sp.acknowledge("m", 1, 2, "reject", T0 + 5, S);
    expect(r.archived).toEqual([{ ...rec(1, 2), reason: "rejected", archivedAt: T0 + 5 }]);
    expect(sp.counts().archived).toBe(2);
    sp.acknowledge("m", 0, 0, "accept", T0 + 5, S);
    expect(sp.startOffset).toBe(3);
    expect(sp.counts()).toEqual({ acquired: 2, available: 0, acknowledged: 0, archived: 0 });
  });

  it("renew (KIP-1222) restarts the lock and changes nothing persisted", () => {
    const sp = fresh(5);
    sp.acquire("m", 5, T0, S);
    sp.markSaved();
    expect(sp.acknowledge("m", 0, 2, "renew", T0 + 20_000, S).error).toBeNull();
    expect(sp.dirty).toBe(false);
    expect(sp.nextLockDeadline()).toBe(T0 + S.lockDurationMs);
    expect(sp.expireLocks(T0 + S.lockDurationMs, S)).toEqual([]);
    expect(sp.view().map((r) => [r.first, r.last, r.state])).toEqual([
      [0, 2, "acquired"],
      [3, 4, "available"],
    ]);
    expect(sp.nextLockDeadline()).toBe(T0 + 20_000 + S.lockDurationMs);
    expect(sp.acknowledge("m", 0, 2, "accept", T0 + 49_000, S).error).toBeNull();
  });

  it("an acknowledgement may span ranges of two acquisitions by the same member", () => {
    const sp = fresh(20);
    sp.acquire("m", 5, T0, S);
    sp.acquire("m", 5, T0 + 1, S);
    expect(sp.rangeCount).toBe(2);
    expect(sp.acknowledge("m", 3, 7, "accept", T0 + 2, S).error).toBeNull();
    expect(sp.view().map((r) => [r.first, r.last, r.state])).toEqual([
      [0, 2, "acquired"],
      [3, 7, "acknowledged"],
      [8, 9, "acquired"],
    ]);
  });
});

describe("delivery limit, lock expiry and members leaving", () => {
  it("testAcquisitionLockForAcquiringSingleRecord: an expired lock makes the offset available", () => {
    const sp = fresh(1);
    sp.acquire("m", 1, T0, S);
    expect(sp.expireLocks(T0 + S.lockDurationMs - 1, S)).toEqual([]);
    expect(sp.counts().acquired).toBe(1);
    expect(sp.expireLocks(T0 + S.lockDurationMs, S)).toEqual([]);
    expect(sp.counts()).toEqual({ acquired: 0, available: 1, acknowledged: 0, archived: 0 });
    expect(sp.nextLockDeadline()).toBeNull();
  });

  it("testAcquisitionLockTimeoutMultipleRecordBatch: only the expired locks end", () => {
    const sp = fresh(20);
    sp.acquire("m", 5, T0, S);
    sp.acquire("n", 5, T0 + 100, S);
    expect(sp.nextLockDeadline()).toBe(T0 + S.lockDurationMs);
    sp.expireLocks(T0 + S.lockDurationMs, S);
    expect(sp.view().map((r) => [r.first, r.last, r.state, r.owner])).toEqual([
      [0, 4, "available", null],
      [5, 9, "acquired", "n"],
    ]);
    expect(sp.nextLockDeadline()).toBe(T0 + 100 + S.lockDurationMs);
  });

  it("testMaxDeliveryCountLimitExceededForRecordsSubset: at the limit, release and expiry archive", () => {
    const s = { ...S, deliveryCountLimit: 2 };
    const sp = fresh(10, s);
    sp.acquire("m", 10, T0, s);
    sp.acknowledge("m", 0, 9, "release", T0, s);
    expect(sp.acquire("m", 10, T0, s)).toEqual([rec(0, 9, 2)]);
    expect(sp.acknowledge("m", 0, 4, "release", T0, s).archived).toEqual([
      { ...rec(0, 4, 2), reason: "delivery_limit", archivedAt: T0 },
    ]);
    expect(sp.startOffset).toBe(5);
    expect(sp.expireLocks(T0 + s.lockDurationMs, s)).toEqual([
      { ...rec(5, 9, 2), reason: "delivery_limit", archivedAt: T0 + s.lockDurationMs },
    ]);
    expect([sp.startOffset, sp.endOffset, sp.rangeCount]).toEqual([10, 10, 0]);
  });

  it("a member that leaves releases its locks and its counts go back down", () => {
    const sp = fresh(10);
    sp.acquire("m", 5, T0, S);
    sp.acquire("n", 5, T0, S);
    sp.markSaved();
    expect(sp.releaseMember("m", false, T0, S)).toEqual([]);
    expect(sp.dirty).toBe(false); // the persisted form already said "available, count 0"
    expect(sp.acquire("o", 10, T0, S)).toEqual([rec(0, 4, 1)]);
  });

  it("a member whose session expired: counts stand, archived at the limit", () => {
    const s = { ...S, deliveryCountLimit: 1 };
    const sp = fresh(10, s);
    sp.acquire("m", 5, T0, s);
    sp.acquire("n", 5, T0, s);
    expect(sp.releaseMember("m", true, T0 + 1, s)).toEqual([
      { ...rec(0, 4, 1), reason: "delivery_limit", archivedAt: T0 + 1 },
    ]);
    expect(sp.startOffset).toBe(5);
    expect(sp.releaseMember("zz", true, T0 + 1, s)).toEqual([]);
  });
});
