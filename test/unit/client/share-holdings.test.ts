/**
 * The share consumer's holdings with a fake clock: acknowledgements coalesced into ranges within one
 * lock group (never across two acquisitions), in-flight settlements neither sent twice nor lost,
 * renewal and flush deadlines at half the lock measured from when the request was sent, refused
 * renewals dropping the range, and a redelivered offset counted under its new lock only.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Settlement, ShareHoldings } from "../../../src/client/share-holdings.ts";
import type { AcknowledgeType } from "../../../src/client/share-types.ts";

const range = (partition: number, firstOffset: number, lastOffset: number, deliveryCount = 1) => ({
  topic: "jobs",
  partition,
  firstOffset,
  lastOffset,
  deliveryCount,
});

const entry = (partition: number, firstOffset: number, lastOffset: number, type: AcknowledgeType) => ({
  topic: "jobs",
  partition,
  firstOffset,
  lastOffset,
  type,
});

describe("acknowledgements as ranges", () => {
  it("coalesces consecutive offsets of one type, per partition, in offset order", () => {
    const h = new ShareHoldings();
    h.add([range(0, 10, 19), range(1, 0, 2)], 0, 1000);
    for (const o of [13, 12, 11, 10, 14]) h.settle("jobs", 0, o, "accept");
    h.settle("jobs", 0, 15, "release");
    h.settle("jobs", 0, 16, "accept");
    h.settle("jobs", 0, 18, "reject");
    h.settle("jobs", 1, 0, "accept");
    h.settle("jobs", 1, 1, "accept");
    expect(h.takeAcknowledgements()).toEqual([
      entry(0, 10, 14, "accept"),
      entry(0, 15, 15, "release"),
      entry(0, 16, 16, "accept"),
      entry(0, 18, 18, "reject"),
      entry(1, 0, 1, "accept"),
    ]);
    expect(h.held).toBe(3); // 0/17, 0/19 and 1/2 are still held
  });

  it("never merges two acquisitions' offsets into one entry, though they are contiguous", () => {
    const h = new ShareHoldings();
    h.add([range(0, 0, 4)], 0, 1000);
    h.add([range(0, 5, 9)], 100, 1000);
    for (let o = 0; o < 10; o++) h.settle("jobs", 0, o, "accept");
    expect(h.takeAcknowledgements()).toEqual([entry(0, 0, 4, "accept"), entry(0, 5, 9, "accept")]);
  });

  it("an entry in flight is not taken again; unsent puts it back, sent removes it", () => {
    const h = new ShareHoldings();
    h.add([range(0, 0, 2)], 0, 1000);
    h.settle("jobs", 0, 0, "accept");
    const first = h.takeAcknowledgements();
    expect(first).toEqual([entry(0, 0, 0, "accept")]);
    h.settle("jobs", 0, 1, "accept");
    // Offset 1 joins nothing in flight: it is its own entry.
    expect(h.takeAcknowledgements()).toEqual([entry(0, 1, 1, "accept")]);
    h.unsent(first);
    expect(h.takeAcknowledgements()).toEqual([entry(0, 0, 0, "accept")]);
    h.sent([entry(0, 0, 1, "accept")]);
    expect(h.settled).toBe(0);
    expect(h.groupOf("jobs", 0, 0)).toBeUndefined();
    expect(h.groupOf("jobs", 0, 2)).toBeDefined();
  });

  it("settles an offset once: a second settlement, or one of an offset not held, is refused", () => {
    const h = new ShareHoldings();
    h.add([range(0, 0, 0)], 0, 1000);
    expect(h.settle("jobs", 0, 0, "reject")).toBe(true);
    expect(h.settle("jobs", 0, 0, "accept")).toBe(false);
    expect(h.settle("jobs", 0, 7, "accept")).toBe(false);
    expect(h.takeAcknowledgements()).toEqual([entry(0, 0, 0, "reject")]);
  });

  it("takes at most the entries asked for; the rest waits for the next request", () => {
    const h = new ShareHoldings();
    h.add([range(0, 0, 5)], 0, 1000);
    for (let o = 0; o < 6; o++) h.settle("jobs", 0, o, o % 2 === 0 ? "accept" : "release");
    expect(h.takeAcknowledgements(4).map((e) => e.firstOffset)).toEqual([0, 1, 2, 3]);
    expect(h.takeAcknowledgements(4).map((e) => e.firstOffset)).toEqual([4, 5]);
  });

  it("a lock group with nothing left is gone", () => {
    const h = new ShareHoldings();
    const id = h.add([range(0, 0, 1)], 0, 1000);
    h.settle("jobs", 0, 0, "accept");
    h.settle("jobs", 0, 1, "accept");
    h.sent(h.takeAcknowledgements());
    expect(h.deadlineOf(id)).toBeUndefined();
    expect(h.nextDue(true)).toBeNull();
  });
});

describe("renewal timing (fake clock)", () => {
  it("is due at half the lock after the request was sent; without renewal only settlements need it", () => {
    const h = new ShareHoldings();
    const id = h.add([range(0, 0, 3)], 1_000, 800);
    expect(h.deadlineOf(id)).toBe(1_800);
    expect(h.nextDue(true)).toBe(1_400);
    expect(h.nextDue(false)).toBeNull(); // nothing settled to flush
    h.settle("jobs", 0, 0, "accept");
    expect(h.nextDue(false)).toBe(1_400);
    expect(h.renewals(1_399)).toEqual({ entries: [], groups: [] });
    // Renewal covers the held offsets only, as one range; the settled one goes as an acknowledgement.
    const due = h.renewals(1_400);
    expect(due).toEqual({ entries: [entry(0, 1, 3, "renew")], groups: [id] });
    h.renewed(due.groups, 1_450, 800);
    expect(h.deadlineOf(id)).toBe(2_250);
    expect(h.nextDue(true)).toBe(1_850);
  });

  it("renews the groups due, or one named group, each as its own ranges", () => {
    const h = new ShareHoldings();
    const a = h.add([range(0, 0, 1)], 0, 1000);
    const b = h.add([range(0, 2, 3), range(1, 5, 5)], 300, 1000);
    expect(h.renewals(500).groups).toEqual([a]);
    expect(h.renewals(800)).toEqual({
      entries: [entry(0, 0, 1, "renew"), entry(0, 2, 3, "renew"), entry(1, 5, 5, "renew")],
      groups: [a, b],
    });
    expect(h.renewals(0, new Set([b])).groups).toEqual([b]);
  });

  it("a refused renewal drops the range: it is not held any more and cannot be settled", () => {
    const h = new ShareHoldings();
    h.add([range(0, 0, 2)], 0, 1000);
    h.settle("jobs", 0, 2, "accept");
    h.drop(entry(0, 0, 2, "renew"));
    expect(h.held).toBe(0);
    expect(h.settle("jobs", 0, 0, "accept")).toBe(false);
    // The settled offset was not part of the renewal and is still sent.
    expect(h.takeAcknowledgements()).toEqual([entry(0, 2, 2, "accept")]);
  });

  it("an offset redelivered to the same member counts under its new lock only", () => {
    const h = new ShareHoldings();
    const old = h.add([range(0, 0, 4)], 0, 1000);
    const fresh = h.add([range(0, 2, 3, 2)], 1_200, 1000);
    expect(h.groupOf("jobs", 0, 2)).toBe(fresh);
    expect(h.groupOf("jobs", 0, 1)).toBe(old);
    expect(h.held).toBe(5);
  });

  it("forgetHeld lets go of unsettled offsets and keeps settlements to send", () => {
    const h = new ShareHoldings();
    h.add([range(0, 0, 4)], 0, 1000);
    h.settle("jobs", 0, 1, "release");
    expect(h.forgetHeld()).toBe(4);
    expect(h.held).toBe(0);
    expect(h.takeAcknowledgements()).toEqual([entry(0, 1, 1, "release")]);
  });
});

describe("coalescing property", () => {
  const TYPES: Settlement[] = ["accept", "release", "reject"];

  it("entries cover exactly the settled offsets, disjoint, one type each, within one group, maximal", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 8 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.array(fc.tuple(fc.nat(60), fc.constantFrom(...TYPES)), { maxLength: 80 }),
        (acquisitions, settlements) => {
          const h = new ShareHoldings();
          const next = [0, 0, 0, 0];
          const groups: { id: number; partition: number; first: number; last: number }[] = [];
          for (const [partition, size] of acquisitions) {
            const first = next[partition]!;
            next[partition] = first + size;
            const id = h.add([range(partition, first, first + size - 1)], 0, 1000);
            groups.push({ id, partition, first, last: first + size - 1 });
          }
          const expected = new Map<string, Settlement>();
          for (const [pick, type] of settlements) {
            const g = groups[pick % groups.length]!;
            const offset = g.first + (pick % (g.last - g.first + 1));
            if (h.settle("jobs", g.partition, offset, type)) expected.set(`${g.partition}/${offset}`, type);
          }
          const entries = h.takeAcknowledgements();
          const covered = new Map<string, string>();
          const groupAt = (p: number, o: number) =>
            groups.find((g) => g.partition === p && o >= g.first && o <= g.last)!;
          for (const e of entries) {
            expect(groupAt(e.partition, e.firstOffset)).toBe(groupAt(e.partition, e.lastOffset));
            for (let o = e.firstOffset; o <= e.lastOffset; o++) {
              expect(covered.has(`${e.partition}/${o}`)).toBe(false);
              covered.set(`${e.partition}/${o}`, e.type);
            }
          }
          expect(covered).toEqual(expected);
          // Maximal: no two entries of one group and type touch.
          for (const a of entries)
            for (const b of entries)
              if (
                a !== b &&
                a.partition === b.partition &&
                a.type === b.type &&
                a.lastOffset + 1 === b.firstOffset
              )
                expect(groupAt(a.partition, a.lastOffset)).not.toBe(groupAt(b.partition, b.firstOffset));
        },
      ),
      { numRuns: 300 },
    );
  });
});
