/**
 * Long polls of share acquire (API.md §7 `maxWaitMs`), parked in the object like classic joins: a
 * parked acquire is answered when another member releases records, when a larger log end is
 * reported, or when a lock expires (by the alarm); it ends empty at maxWaitMs; a newer acquire of the
 * same member answers the older one; a member that leaves gets UNKNOWN_MEMBER_ID for what it parked.
 * Timing bounds are loose on purpose: a woken acquire must come back long before its wait would end.
 */

import { expect, it } from "vitest";
import { freshGroup } from "../integration/helpers";
import {
  ack,
  acknowledge,
  acquire,
  joinShare,
  LOCK_MS,
  offsetsOf,
  type ShareMember,
  shareHeartbeat,
  sleep,
  take,
} from "./share-helpers";

const LONG_WAIT = 20_000;

/** Starts a long poll of `m` and gives it time to reach the object (and park) first. */
async function park(g: string, m: ShareMember, extra: Record<string, unknown> = {}) {
  const started = Date.now();
  const reply = acquire(g, { memberId: m.memberId, maxRecords: 100, maxWaitMs: LONG_WAIT, ...extra });
  await sleep(200);
  return { reply, started };
}

it("wakes a parked acquire when another member releases records", async () => {
  const g = freshGroup("wait");
  const a = await joinShare(g, { t: 1 }, "a");
  const b = await joinShare(g, { t: 1 }, "b");
  const held = (await take(g, b, [{ partition: 0, logEndOffset: 4 }])).body.records;
  const waiting = await park(g, a);
  expect((await acknowledge(g, { memberId: "b", acknowledgements: ack(held, "release") })).status).toBe(200);
  const res = await waiting.reply;
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.records).toEqual([
    { topic: "t", partition: 0, firstOffset: 0, lastOffset: 3, deliveryCount: 2 },
  ]);
  expect(Date.now() - waiting.started).toBeLessThan(LONG_WAIT / 2);
});

it("wakes a parked acquire when a member reports a larger log end", async () => {
  const g = freshGroup("wait");
  const a = await joinShare(g, { t: 1 }, "a");
  const b = await joinShare(g, { t: 1 }, "b");
  await take(g, b, [{ partition: 0, logEndOffset: 0 }]); // SPSO 0, nothing to hand out
  const waiting = await park(g, a);
  const own = await take(g, b, [{ partition: 0, logEndOffset: 3 }], { maxRecords: 1 });
  const res = await waiting.reply;
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.records.length).toBeGreaterThan(0);
  expect(Date.now() - waiting.started).toBeLessThan(LONG_WAIT / 2);
  // Whoever got what, nothing twice and nothing past the log end.
  const all = [...offsetsOf(res.body.records), ...offsetsOf(own.body.records)];
  expect(new Set(all).size).toBe(all.length);
  expect(all.every((o) => ["t-0:0", "t-0:1", "t-0:2"].includes(o))).toBe(true);
});

it("wakes a parked acquire when a lock expires, by the alarm", async () => {
  const g = freshGroup("wait");
  const a = await joinShare(g, { t: 1 }, "a");
  const b = await joinShare(g, { t: 1 }, "b");
  await take(g, b, [{ partition: 0, logEndOffset: 2 }]);
  const waiting = await park(g, a);
  const res = await waiting.reply;
  expect(res.body.records).toEqual([
    { topic: "t", partition: 0, firstOffset: 0, lastOffset: 1, deliveryCount: 2 },
  ]);
  const waited = Date.now() - waiting.started;
  expect(waited).toBeGreaterThanOrEqual(LOCK_MS - 300);
  expect(waited).toBeLessThan(LONG_WAIT / 2);
});

it("ends a wait empty at maxWaitMs", async () => {
  const g = freshGroup("wait");
  const a = await joinShare(g, { t: 1 }, "a");
  const started = Date.now();
  const res = await acquire(g, {
    memberId: "a",
    maxRecords: 5,
    maxWaitMs: 700,
    partitions: [{ topic: "t", partition: 0, logEndOffset: 0 }],
  });
  expect(res.status).toBe(200);
  expect(res.body.records).toEqual([]);
  expect(Date.now() - started).toBeGreaterThanOrEqual(650);
  expect(a.memberId).toBe("a");
});

it("answers an older parked acquire when the member acquires again, and a leaving member's with UNKNOWN_MEMBER_ID", async () => {
  const g = freshGroup("wait");
  const a = await joinShare(g, { t: 1 }, "a");
  await take(g, a, [{ partition: 0, logEndOffset: 0 }]);
  const older = await park(g, a);
  const newer = await park(g, a);
  const first = await older.reply;
  expect(first.status).toBe(200);
  expect(first.body.records).toEqual([]);
  expect(Date.now() - older.started).toBeLessThan(LONG_WAIT / 2);
  expect((await shareHeartbeat(g, { memberId: "a", memberEpoch: -1 })).status).toBe(200);
  const second = await newer.reply;
  expect(second.status, JSON.stringify(second.body)).toBe(409);
  expect(second.body.error.code).toBe("UNKNOWN_MEMBER_ID");
});
