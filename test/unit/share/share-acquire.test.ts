/**
 * Acquire and acknowledge through the share group (API.md §7) with a fake clock: assigned partitions
 * only, maxRecords across partitions with a rotating start, acknowledgements applied first, locks
 * released on leave (counts back down) and on session expiry (counts stand), lock expiry by the alarm,
 * and long polls woken by a release, an expiry, a larger log end or a grown assignment.
 */

import { describe, expect, it } from "vitest";
import type { AcquireResponse } from "../../../src/core/share/share-group";
import { entry, part, ShareHarness } from "./harness";

const offsets = (r: AcquireResponse) =>
  r.records.map((x) => [x.partition, x.firstOffset, x.lastOffset, x.deliveryCount]);

/** One member `a` alone on `t` with `n` partitions, each with log end `end`. */
function alone(n = 1, end = 10, settings = {}) {
  const h = new ShareHarness(settings);
  h.join("a", { t: n });
  const parts = Array.from({ length: n }, (_, p) => part("t", p, end));
  return { h, parts };
}

describe("acquire", () => {
  it("hands out the oldest available offsets of assigned partitions, locked for the lock duration", () => {
    const { h, parts } = alone(1, 10);
    const r = h.take("a", 4, { partitions: parts });
    expect(r.acquisitionLockTimeoutMs).toBe(30_000);
    expect(offsets(r)).toEqual([[0, 0, 3, 1]]);
    expect(offsets(h.take("a", 100))).toEqual([[0, 4, 9, 1]]);
    expect(offsets(h.take("a", 100))).toEqual([]);
    expect(h.share.nextDeadline()).toBe(h.now + 30_000);
  });

  it("SHARE_AUTO_OFFSET_RESET latest starts at the reported log end", () => {
    const { h, parts } = alone(1, 10, { autoOffsetReset: "latest" });
    expect(offsets(h.take("a", 5, { partitions: parts }))).toEqual([]);
    expect(offsets(h.take("a", 5, { partitions: [part("t", 0, 12)] }))).toEqual([[0, 10, 11, 1]]);
  });

  it("skips partitions not assigned to the member, and unknown members are refused", () => {
    const h = new ShareHarness();
    h.join("a", { t: 2 });
    h.join("b", { t: 2 });
    const mine = h.share.members.get("a")!.assignment.t![0]!;
    const r = h.take("a", 10, { partitions: [part("t", 0, 5), part("t", 1, 5)] });
    expect(r.records.map((x) => x.partition)).toEqual([mine]);
    // Its report of the other partition's log end is ignored too.
    expect(h.share.describe().partitions.map((p) => p.partition)).toEqual([mine]);
    const { step } = h.acquire("zed", 1);
    expect(step.kind === "reply" && !step.result.ok && step.result.error.code).toBe("UNKNOWN_MEMBER_ID");
  });

  it("maxRecords spans partitions, and the starting partition rotates between calls", () => {
    const { h, parts } = alone(3, 100);
    const first = h.take("a", 5, { partitions: parts });
    expect(offsets(first)).toEqual([[0, 0, 4, 1]]);
    expect(offsets(h.take("a", 5))).toEqual([[1, 0, 4, 1]]);
    expect(offsets(h.take("a", 5))).toEqual([[2, 0, 4, 1]]);
    expect(offsets(h.take("a", 250))).toEqual([
      [0, 5, 99, 1],
      [1, 5, 99, 1],
      [2, 5, 64, 1],
    ]);
  });

  it("piggybacked acknowledgements are applied first, each all-or-nothing, with results in order", () => {
    const { h, parts } = alone(1, 10);
    h.take("a", 4, { partitions: parts });
    const r = h.take("a", 2, {
      acks: [entry("t", 0, 0, 1, "accept"), entry("t", 0, 2, 2, "release"), entry("t", 0, 3, 9, "accept")],
    });
    expect(r.acknowledgements.map((x) => x.error?.code ?? null)).toEqual([
      null,
      null,
      "INVALID_RECORD_STATE",
    ]);
    // Offset 2 came back and is the oldest available: redelivered with count 2.
    expect(offsets(r)).toEqual([
      [0, 2, 2, 2],
      [0, 4, 4, 1],
    ]);
    expect(h.share.startOffsets()[0]!.startOffset).toBe(2);
  });

  it("acknowledge alone: unknown member fails the request; a partition never seen is INVALID_RECORD_STATE", () => {
    const { h, parts } = alone(1, 10);
    h.take("a", 1, { partitions: parts });
    const bad = h.ack("x", [entry("t", 0, 0, 0, "accept")]);
    expect(!bad.ok && bad.error.code).toBe("UNKNOWN_MEMBER_ID");
    const r = h.ack("a", [entry("u", 0, 0, 0, "accept"), entry("t", 0, 0, 0, "renew")]);
    expect(r.ok && r.value.acknowledgements.map((x) => x.error?.code ?? null)).toEqual([
      "INVALID_RECORD_STATE",
      null,
    ]);
  });

  it("renew restarts the lock: the record is not redelivered when the first lock would have ended", () => {
    const { h, parts } = alone(1, 1, { sessionTimeoutMs: 600_000 });
    h.take("a", 1, { partitions: parts });
    h.advance(20_000);
    h.ack("a", [entry("t", 0, 0, 0, "renew")]);
    h.pass(15_000);
    expect(offsets(h.take("a", 1))).toEqual([]);
    h.pass(15_000);
    expect(offsets(h.take("a", 1))).toEqual([[0, 0, 0, 2]]);
  });

  it("the alarm returns expired locks; at the delivery limit the record is archived", () => {
    const { h, parts } = alone(1, 1, { deliveryCountLimit: 2, sessionTimeoutMs: 600_000 });
    h.take("a", 1, { partitions: parts });
    h.pass(30_000);
    expect(offsets(h.take("a", 1))).toEqual([[0, 0, 0, 2]]);
    h.pass(30_000);
    expect(offsets(h.take("a", 1))).toEqual([]);
    const listed = h.share.archived(undefined, 10, undefined, h.now);
    expect(listed.ok && listed.value.ranges.map((r) => [r.firstOffset, r.reason, r.deliveryCount])).toEqual([
      [0, "delivery_limit", 2],
    ]);
  });

  it("a leave releases the member's locks with counts back down; a session expiry counts them", () => {
    const h = new ShareHarness();
    h.join("a", { t: 1 });
    h.join("b", { t: 1 });
    h.take("a", 2, { partitions: [part("t", 0, 4)] });
    h.must({ memberId: "a", memberEpoch: -1 });
    expect(offsets(h.take("b", 2))).toEqual([[0, 0, 1, 1]]);
    h.ack("b", [entry("t", 0, 0, 1, "accept")]);
    h.join("c", { t: 1 });
    h.advance(40_000);
    h.beat("b");
    h.take("c", 2);
    h.pass(5000); // c's session ends: its locks are failed deliveries
    expect([...h.share.memberIds()]).toEqual(["b"]);
    expect(offsets(h.take("b", 10))).toEqual([[0, 2, 3, 2]]);
  });
});

describe("work", () => {
  it("acknowledge and acquire change only the partitions they name or take from", () => {
    const { h, parts } = alone(40, 10);
    h.take("a", 400, { partitions: parts });
    const table = (h.share as unknown as { table: { edit: (t: string, p: number) => unknown } }).table;
    const edited: number[] = [];
    const edit = table.edit.bind(table);
    table.edit = (t: string, p: number, ...rest: unknown[]) => {
      edited.push(p);
      return (edit as (...a: unknown[]) => unknown)(t, p, ...rest);
    };
    h.ack("a", [entry("t", 7, 0, 9, "release")]);
    expect(edited).toEqual([7]);
    edited.length = 0;
    // The released records are the only ones available: the acquire changes that partition alone.
    expect(h.take("a", 5).records.map((r) => r.partition)).toEqual([7]);
    expect(edited).toEqual([7]);
  });
});

describe("long polls", () => {
  it("with nothing to hand out and maxWaitMs > 0 the acquire parks, then ends empty at its deadline", () => {
    const { h, parts } = alone(1, 0);
    const { step, ticket } = h.acquire("a", 5, { maxWaitMs: 1000, partitions: parts });
    expect(step.kind).toBe("parked");
    expect(h.share.nextDeadline()).toBe(h.now + 1000);
    h.pass(999);
    expect(h.delivered.has(ticket)).toBe(false);
    h.pass(1);
    const done = h.delivered.get(ticket)!;
    expect(done.ok && done.value.records).toEqual([]);
  });

  it("a larger log end reported by another member wakes it", () => {
    const h = new ShareHarness();
    h.join("a", { t: 1 });
    h.join("b", { t: 1 });
    const { ticket } = h.acquire("a", 5, { maxWaitMs: 5000, partitions: [part("t", 0, 0)] });
    h.advance(100);
    h.take("b", 0, { partitions: [part("t", 0, 3)] });
    const done = h.delivered.get(ticket)!;
    expect(done.ok && offsets(done.value)).toEqual([[0, 0, 2, 1]]);
  });

  it("a release by another member wakes it, and the release's results come back to the releaser", () => {
    const h = new ShareHarness();
    h.join("a", { t: 1 });
    h.join("b", { t: 1 });
    h.take("b", 3, { partitions: [part("t", 0, 3)] });
    const { ticket } = h.acquire("a", 5, { maxWaitMs: 5000 });
    const r = h.take("b", 5, { acks: [entry("t", 0, 1, 1, "release")] });
    expect(r.acknowledgements[0]!.error).toBeNull();
    const done = h.delivered.get(ticket)!;
    expect(done.ok && offsets(done.value)).toEqual([[0, 1, 1, 2]]);
  });

  it("a lock expiry wakes it; its piggybacked acknowledgements are in the eventual answer", () => {
    const { h, parts } = alone(1, 2);
    h.take("a", 2, { partitions: parts });
    const { ticket } = h.acquire("a", 5, { maxWaitMs: 30_000, acks: [entry("t", 0, 0, 0, "accept")] });
    h.pass(30_000);
    const done = h.delivered.get(ticket)!;
    expect(done.ok && done.value.acknowledgements.map((x) => x.error)).toEqual([null]);
    expect(done.ok && offsets(done.value)).toEqual([[0, 1, 1, 2]]);
  });

  it("a grown assignment wakes it", () => {
    const h = new ShareHarness();
    h.join("a", { t: 2 });
    h.join("b", { t: 2 });
    const bs = h.share.members.get("b")!.assignment.t![0]!;
    h.take("b", 0, { partitions: [part("t", bs, 4)] });
    const { ticket } = h.acquire("a", 5, { maxWaitMs: 5000 });
    h.must({ memberId: "b", memberEpoch: -1 });
    const done = h.delivered.get(ticket)!;
    expect(done.ok && offsets(done.value)).toEqual([[bs, 0, 3, 1]]);
  });

  it("a newer acquire supersedes the parked one (answered empty); a removed member's is UNKNOWN_MEMBER_ID", () => {
    const { h, parts } = alone(1, 0);
    const first = h.acquire("a", 5, { maxWaitMs: 5000, partitions: parts });
    const second = h.acquire("a", 5, { maxWaitMs: 5000 });
    expect(second.step.kind).toBe("parked");
    const old = h.delivered.get(first.ticket)!;
    expect(old.ok && old.value.records).toEqual([]);
    h.pass(45_000);
    const gone = h.delivered.get(second.ticket)!;
    expect(gone.ok).toBe(true); // its wait (5 s) ended before the session (45 s)
    const third = h.acquire("a", 5, { maxWaitMs: 30_000 });
    expect(third.step.kind === "reply" && !third.step.result.ok && third.step.result.error.code).toBe(
      "UNKNOWN_MEMBER_ID",
    );
    const h2 = alone(1, 0).h;
    const parked = h2.acquire("a", 5, { maxWaitMs: 30_000 });
    h2.must({ memberId: "a", memberEpoch: -1 });
    const refused = h2.delivered.get(parked.ticket)!;
    expect(!refused.ok && refused.error.code).toBe("UNKNOWN_MEMBER_ID");
  });
});
