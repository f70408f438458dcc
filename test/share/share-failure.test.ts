/**
 * A failed share request or alarm leaves no trace (DESIGN.md principle 8). With a real SQLite failure
 * injected into the write of the share rows (the same transaction then runs a statement SQLite
 * refuses), an acknowledge or an acquire with piggybacked acknowledgements gets a 503 and afterwards
 * the object's memory (describe with its share-partitions, deadlines), its rows and its alarm are what
 * they were; the locks it would have ended are still held; an acquire parked by another member stays
 * parked and is woken by the retry; a failing alarm changes nothing and runs again later.
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { expect, it } from "vitest";
import type { ShareChanges } from "../../src/storage/share-store";
import { freshGroup } from "../integration/helpers";
import { inObject, objectState } from "../integration/inject-failure";
import {
  ack,
  acknowledge,
  acquire,
  archived,
  atLastDelivery,
  joinShare,
  LOCK_MS,
  sharePartition,
  sleep,
  stub,
  take,
} from "./share-helpers";

/** From now on, every write of share rows fails inside its transaction, after the real writes. */
const poisonShareWrites = (g: string) =>
  inObject(g, (instance) => {
    const share = instance.store.share;
    const real = Object.getPrototypeOf(share).save;
    share.save = (changes: ShareChanges) => {
      real.call(share, changes);
      const wrote =
        changes.partitions.size + changes.archivedAdded.length + changes.archivedRemoved.length > 0;
      if (wrote) instance.ctx.storage.sql.exec("INSERT INTO group_row (id, record) VALUES (2, '{}')");
    };
  });

const cure = (g: string) =>
  inObject(g, (instance) => {
    delete instance.store.share.save;
  });

/** objectState plus the share rows and the parked acquires. */
const shareState = async (g: string): Promise<Record<string, unknown>> => ({
  ...(await objectState(stub(g))),
  shareRows: await inObject(g, (instance) => [
    instance.ctx.storage.sql.exec("SELECT * FROM share_partitions ORDER BY topic, partition, part").toArray(),
    instance.ctx.storage.sql
      .exec("SELECT * FROM share_archived ORDER BY topic, partition, first_offset")
      .toArray(),
  ]),
  parked: await inObject(g, (instance) => instance.parked.size),
});

const expectUnavailable = (res: { status: number; body: any; headers: Headers }) => {
  expect(res.status, JSON.stringify(res.body)).toBe(503);
  expect(res.body.error.code).toBe("COORDINATOR_NOT_AVAILABLE");
  expect(res.headers.get("retry-after")).toBe("1");
};

const r = (first: number, last: number) => [
  { topic: "t", partition: 0, firstOffset: first, lastOffset: last },
];

it("an acknowledge or acquire whose write fails answers 503 and changes nothing, locks included", async () => {
  const g = freshGroup("fail");
  const a = await joinShare(g, { t: 1 }, "a");
  await take(g, a, [{ partition: 0, logEndOffset: 10 }], { maxRecords: 5 });
  const before = await shareState(g);
  await poisonShareWrites(g);
  await sleep(20);
  expectUnavailable(await acknowledge(g, { memberId: "a", acknowledgements: ack(r(0, 2), "accept") }));
  expect(await shareState(g)).toEqual(before);
  expectUnavailable(
    await acquire(g, {
      memberId: "a",
      maxRecords: 5,
      partitions: [{ topic: "t", partition: 0, logEndOffset: 20 }],
      acknowledgements: ack(r(3, 4), "reject"),
    }),
  );
  expect(await shareState(g)).toEqual(before);
  await cure(g);
  // The locks are still a's: the same acknowledgement now succeeds.
  const retried = await acknowledge(g, { memberId: "a", acknowledgements: ack(r(0, 4), "accept") });
  expect(retried.body.acknowledgements[0].error).toBeNull();
  expect(await sharePartition(g)).toMatchObject({ startOffset: 5, acquired: 0, logEndOffset: 10 });
});

it("keeps another member's parked acquire parked through a failed release, and the retry wakes it", async () => {
  const g = freshGroup("fail");
  const a = await joinShare(g, { t: 1 }, "a");
  const b = await joinShare(g, { t: 1 }, "b");
  const held = (await take(g, a, [{ partition: 0, logEndOffset: 3 }])).body.records;
  let answered = false;
  const waiting = acquire(g, { memberId: b.memberId, maxRecords: 10, maxWaitMs: 20_000 }).then((res) => {
    answered = true;
    return res;
  });
  await sleep(200);
  const before = await shareState(g);
  expect(before.parked).toBe(1);
  await poisonShareWrites(g);
  expectUnavailable(await acknowledge(g, { memberId: "a", acknowledgements: ack(held, "reject") }));
  await sleep(200);
  expect(answered).toBe(false);
  expect(await shareState(g)).toEqual(before);
  await cure(g);
  expect((await acknowledge(g, { memberId: "a", acknowledgements: ack(held, "release") })).status).toBe(200);
  const res = await waiting;
  expect(res.body.records).toEqual([
    { topic: "t", partition: 0, firstOffset: 0, lastOffset: 2, deliveryCount: 2 },
  ]);
});

it("a failing alarm changes nothing and runs again later", async () => {
  const g = freshGroup("fail");
  await atLastDelivery(g);
  // The lock's expiry archives the record (a row to write): that write fails.
  await poisonShareWrites(g);
  await sleep(LOCK_MS + 50);
  const before = await shareState(g);
  await runDurableObjectAlarm(stub(g));
  const after = await shareState(g);
  expect({ ...after, alarm: null }).toEqual({ ...before, alarm: null });
  expect(after.alarm as number).toBeGreaterThan(Date.now());
  expect((await archived(g)).body.ranges).toEqual([]);
  await cure(g);
  const until = Date.now() + 10_000;
  while ((await archived(g)).body.ranges.length === 0 && Date.now() < until) {
    await sleep(200);
    await runDurableObjectAlarm(stub(g));
  }
  expect((await archived(g)).body.ranges).toEqual([
    expect.objectContaining({ firstOffset: 0, reason: "delivery_limit" }),
  ]);
});
