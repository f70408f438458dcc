/**
 * Share-group deadlines through the object's one real alarm (API.md §7): an expired lock returns its
 * records to `available` (or to `archived` at the delivery limit) with no request arriving, and the
 * alarm is armed at that lock's deadline; renew moves a lock past its first deadline; a member silent
 * for SHARE_SESSION_TIMEOUT_MS is removed and its locks come back as failed deliveries (counts stand),
 * while a member that leaves hands them back without counting them.
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { expect, it } from "vitest";
import { call, freshGroup } from "../integration/helpers";
import {
  ack,
  acknowledge,
  archived,
  atLastDelivery,
  beatShare,
  DELIVERY_LIMIT,
  joinShare,
  LOCK_MS,
  SESSION_MS,
  shareHeartbeat,
  sharePartition,
  sleep,
  stub,
  take,
} from "./share-helpers";

/** Waits (bounded) until `check` holds, letting the object's alarm run when it is due. */
async function eventually(g: string, check: () => Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(100);
    // Runs the alarm only if one is set; the runtime fires it by itself too.
    await runDurableObjectAlarm(stub(g));
  }
  throw new Error(`${what} did not happen`);
}

const alarmAt = async (g: string): Promise<number | null> => (await stub(g).stats()).alarmAt;

it("returns an expired lock's records to available by the alarm, armed at the lock's deadline", async () => {
  const g = freshGroup("lock");
  const a = await joinShare(g, { t: 1 }, "a");
  const before = Date.now();
  await take(g, a, [{ partition: 0, logEndOffset: 5 }]);
  const after = Date.now();
  const at = await alarmAt(g);
  expect(at).not.toBeNull();
  expect(at!).toBeGreaterThanOrEqual(before + LOCK_MS);
  expect(at!).toBeLessThanOrEqual(after + LOCK_MS);
  expect(await sharePartition(g)).toMatchObject({ acquired: 5, available: 0 });
  await sleep(LOCK_MS + 50);
  await eventually(g, async () => (await sharePartition(g)).acquired === 0, "lock expiry");
  expect(await sharePartition(g)).toMatchObject({ acquired: 0, available: 5, startOffset: 0 });
  // Delivered again, counted again; the old lock's acknowledgement is refused.
  const again = await take(g, a, []);
  expect(again.body.records).toEqual([
    { topic: "t", partition: 0, firstOffset: 0, lastOffset: 4, deliveryCount: 2 },
  ]);
});

it("archives a record whose lock expires at the delivery limit", async () => {
  const g = freshGroup("lock");
  const { held } = await atLastDelivery(g);
  await sleep(LOCK_MS + 50);
  await eventually(g, async () => (await archived(g)).body.ranges.length === 1, "archiving at the limit");
  expect((await archived(g)).body.ranges[0]).toMatchObject({
    firstOffset: 0,
    reason: "delivery_limit",
    deliveryCount: DELIVERY_LIMIT,
  });
  const refused = await acknowledge(g, { memberId: "a", acknowledgements: ack(held, "accept") });
  expect(refused.body.acknowledgements[0].error.code).toBe("INVALID_RECORD_STATE");
});

it("keeps a renewed lock past its first deadline", async () => {
  const g = freshGroup("renew");
  const a = await joinShare(g, { t: 1 }, "a");
  const held = (await take(g, a, [{ partition: 0, logEndOffset: 2 }])).body.records;
  await sleep(LOCK_MS * 0.6);
  expect(
    (await acknowledge(g, { memberId: "a", acknowledgements: ack(held, "renew") })).body.acknowledgements[0]
      .error,
  ).toBeNull();
  await sleep(LOCK_MS * 0.6);
  await runDurableObjectAlarm(stub(g));
  // Past the first deadline, within the renewed one: still a's, and it can accept.
  const accepted = await acknowledge(g, { memberId: "a", acknowledgements: ack(held, "accept") });
  expect(accepted.body.acknowledgements[0].error).toBeNull();
  expect(await sharePartition(g)).toMatchObject({ startOffset: 2, acquired: 0 });
});

it("removes a silent member at its session timeout and counts its locks as failed deliveries", async () => {
  const g = freshGroup("session");
  const silent = await joinShare(g, { t: 1 }, "silent");
  const live = await joinShare(g, { t: 1 }, "live");
  await take(g, silent, [{ partition: 0, logEndOffset: 3 }]);
  const started = Date.now();
  // live keeps its session; silent says nothing.
  while (Date.now() - started < SESSION_MS + 500) {
    expect((await beatShare(g, live)).status).toBe(200);
    await sleep(300);
  }
  await eventually(
    g,
    async () => (await call("GET", `/v1/groups/${g}`)).body.members.length === 1,
    "session expiry",
  );
  expect((await call("GET", `/v1/groups/${g}`)).body.members.map((m: any) => m.memberId)).toEqual(["live"]);
  await beatShare(g, live);
  // Its locks came back with their counts standing: the next delivery is the second.
  const got = await take(g, live, []);
  expect(got.body.records).toEqual([
    { topic: "t", partition: 0, firstOffset: 0, lastOffset: 2, deliveryCount: 2 },
  ]);
  expect(
    (await shareHeartbeat(g, { memberId: "silent", memberEpoch: silent.memberEpoch })).body.error.code,
  ).toBe("UNKNOWN_MEMBER_ID");
});

it("hands a leaving member's locks back without counting them", async () => {
  const g = freshGroup("leave");
  const leaving = await joinShare(g, { t: 1 }, "leaving");
  const other = await joinShare(g, { t: 1 }, "other");
  await take(g, leaving, [{ partition: 0, logEndOffset: 3 }]);
  expect((await shareHeartbeat(g, { memberId: "leaving", memberEpoch: -1 })).status).toBe(200);
  const got = await take(g, other, []);
  expect(got.body.records).toEqual([
    { topic: "t", partition: 0, firstOffset: 0, lastOffset: 2, deliveryCount: 1 },
  ]);
});
