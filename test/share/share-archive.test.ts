/**
 * The archived listing and the dead-letter redrive over HTTP (API.md §7): archived ranges with their
 * reasons, filtered by topic and paged with an opaque cursor that covers the list exactly once; a
 * redrive makes archived offsets available with delivery count 0, moves SPSO back to the lowest of
 * them when they lie below it, never redelivers the acknowledged offsets between, and takes what it
 * redrove off the list.
 */

import { expect, it } from "vitest";
import { freshGroup } from "../integration/helpers";
import {
  ack,
  acknowledge,
  archived,
  joinShare,
  offsetsOf,
  redrive,
  sharePartition,
  take,
} from "./share-helpers";

const range = (firstOffset: number, lastOffset = firstOffset) => ({
  topic: "t",
  partition: 0,
  firstOffset,
  lastOffset,
});

/** 0-9 delivered once; 2, 5 and 7 rejected, the rest accepted: SPSO 10, three archived ranges. */
async function deadLetters(g: string) {
  const a = await joinShare(g, { t: 1 }, "a");
  await take(g, a, [{ partition: 0, logEndOffset: 10 }]);
  const res = await acknowledge(g, {
    memberId: "a",
    acknowledgements: [
      ...ack([range(2), range(5), range(7)], "reject"),
      ...ack([range(0, 1), range(3, 4), range(6), range(8, 9)], "accept"),
    ],
  });
  expect(res.body.acknowledgements.every((x: any) => x.error === null)).toBe(true);
  expect(await sharePartition(g)).toMatchObject({ startOffset: 10, lag: 0 });
  return a;
}

it("lists archived ranges with their reasons, by topic, a page at a time", async () => {
  const g = freshGroup("dlq");
  await deadLetters(g);
  const all = (await archived(g)).body;
  expect(all.nextCursor).toBeNull();
  expect(offsetsOf(all.ranges)).toEqual(["t-0:2", "t-0:5", "t-0:7"]);
  for (const r of all.ranges)
    expect(r).toMatchObject({ reason: "rejected", deliveryCount: 1, archivedAt: expect.any(Number) });
  const first = (await archived(g, "?limit=2")).body;
  expect(first.ranges.length).toBe(2);
  expect(typeof first.nextCursor).toBe("string");
  const second = (await archived(g, `?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`)).body;
  expect(second.nextCursor).toBeNull();
  expect(offsetsOf([...first.ranges, ...second.ranges])).toEqual(offsetsOf(all.ranges));
  expect((await archived(g, "?topic=other")).body).toEqual({ ranges: [], nextCursor: null });
  expect(offsetsOf((await archived(g, "?topic=t")).body.ranges)).toEqual(offsetsOf(all.ranges));
});

it("redrives archived offsets below SPSO without redelivering the acknowledged ones between", async () => {
  const g = freshGroup("dlq");
  const a = await deadLetters(g);
  const some = await redrive(g, { topic: "t", partition: 0, firstOffset: 5, lastOffset: 7 });
  expect(some.status, JSON.stringify(some.body)).toBe(200);
  expect(some.body).toEqual({ redriven: 2 });
  expect(await sharePartition(g)).toMatchObject({ startOffset: 5 });
  expect(offsetsOf((await archived(g)).body.ranges)).toEqual(["t-0:2"]);
  // 5 and 7 again, from count 0; 6 (accepted) stays done.
  const again = await take(g, a, []);
  expect(offsetsOf(again.body.records)).toEqual(["t-0:5", "t-0:7"]);
  for (const r of again.body.records) expect(r.deliveryCount).toBe(1);
  await acknowledge(g, { memberId: "a", acknowledgements: ack(again.body.records, "accept") });
  expect(await sharePartition(g)).toMatchObject({ startOffset: 10 });
  // The whole topic: what is left on the list (2).
  expect((await redrive(g, { topic: "t" })).body).toEqual({ redriven: 1 });
  expect(offsetsOf((await take(g, a, [])).body.records)).toEqual(["t-0:2"]);
  expect((await archived(g)).body.ranges).toEqual([]);
  expect((await redrive(g, { topic: "t" })).body).toEqual({ redriven: 0 });
});
