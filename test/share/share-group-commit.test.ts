/**
 * Group commit of the share path (GroupShell.batchedCall): acknowledgements (and the acquires that
 * carry them) that arrive together are decided in memory and their rows written in one transaction,
 * each answered after it committed. Counted on the live object: the writes of share rows (one per
 * transaction that has share rows to write). With a real SQLite failure injected into a batch's
 * write, every request of the batch gets 503 and none of their decisions remain — not even those
 * that alone would have succeeded — while the requests after the batch succeed; what was answered
 * 200 survives a restart of the object.
 */

import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import type { ShareChanges } from "../../src/storage/share-store";
import { freshGroup } from "../integration/helpers";
import { objectState } from "../integration/inject-failure";
import { ack, acknowledge, acquire, joinShare, sharePartition, sleep, stub, take } from "./share-helpers";

const inObject = <R>(g: string, fn: (instance: any) => R): Promise<R> =>
  (runInDurableObject as unknown as (s: unknown, f: (i: any) => R) => Promise<R>)(stub(g), fn);

/**
 * Counts the object's writes of share rows from now on (by the partitions each wrote); a write that
 * includes a partition of `poisoned` then runs a statement SQLite refuses, in the same transaction.
 */
const watchShareWrites = (g: string, poisoned: number[] = []) =>
  inObject(g, (instance) => {
    const share = instance.store.share;
    const real = Object.getPrototypeOf(share).save;
    const writes: number[][] = [];
    instance.__shareWrites = writes;
    share.save = (changes: ShareChanges) => {
      real.call(share, changes);
      const partitions = [...changes.partitions.keys()].map((key) => Number(key.split(":").pop()));
      if (partitions.length === 0) return;
      writes.push(partitions);
      if (partitions.some((p) => poisoned.includes(p)))
        instance.ctx.storage.sql.exec("INSERT INTO group_row (id, record) VALUES (2, '{}')");
    };
  });

const shareWrites = (g: string): Promise<number[][]> =>
  inObject(g, (instance) => [...instance.__shareWrites]);

const unwatch = (g: string) =>
  inObject(g, (instance) => {
    delete instance.store.share.save;
  });

/** objectState plus the share rows and the parked acquires. */
const shareState = async (g: string): Promise<Record<string, unknown>> => ({
  ...(await objectState(stub(g))),
  shareRows: await inObject(g, (instance) =>
    instance.ctx.storage.sql.exec("SELECT * FROM share_partitions ORDER BY topic, partition, part").toArray(),
  ),
  parked: await inObject(g, (instance) => instance.parked.size),
});

const one = (partition: number, offset: number) => [
  { topic: "t", partition, firstOffset: offset, lastOffset: offset },
];

/** `count` offsets of t-`partition` acquired by `memberId`. */
async function hold(g: string, memberId: string, partition: number, count: number): Promise<void> {
  const m = { memberId, memberEpoch: 1, assigned: [] };
  const res = await take(g, m, [{ partition, logEndOffset: count }], { maxRecords: count });
  expect(res.body.records).toEqual([
    { topic: "t", partition, firstOffset: 0, lastOffset: count - 1, deliveryCount: 1 },
  ]);
}

it("writes concurrent acknowledgements in fewer transactions than requests, durable when answered", async () => {
  const g = freshGroup("gc");
  await joinShare(g, { t: 1 }, "a");
  await hold(g, "a", 0, 16);
  await watchShareWrites(g);
  const answers = await Promise.all(
    Array.from({ length: 16 }, (_, i) =>
      acknowledge(g, { memberId: "a", acknowledgements: ack(one(0, i), "accept") }),
    ),
  );
  for (const res of answers) {
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.acknowledgements[0].error).toBeNull();
  }
  // One transaction per request (16) without the group commit; the batches are fewer.
  const writes = await shareWrites(g);
  expect(writes.length).toBeGreaterThan(0);
  expect(writes.length).toBeLessThanOrEqual(8);
  await unwatch(g);
  // Everything answered 200 was in SQLite: a restarted object still has SPSO past all 16.
  await abortAllDurableObjects();
  expect(await sharePartition(g)).toMatchObject({ startOffset: 16, acquired: 0 });
});

it("answers every request of a failed batch 503 and keeps none of its decisions; later ones succeed", async () => {
  const g = freshGroup("gc-fail");
  await joinShare(g, { t: 2 }, "a");
  await joinShare(g, { t: 2 }, "b");
  // The simple assignor: 2 members on 2 partitions, one each (⌈M/P⌉ = 1 member per partition).
  const [pa] = await partitionsOf(g, "a");
  const [pb] = await partitionsOf(g, "b");
  expect([pa, pb].sort()).toEqual([0, 1]);
  await hold(g, "a", pa!, 8);
  await hold(g, "b", pb!, 8);
  // A long poll of b parked before the batch: it must stay parked through the failure.
  let woken = false;
  const waiting = acquire(g, { memberId: "b", maxRecords: 1, maxWaitMs: 20_000 }).then((res) => {
    woken = true;
    return res;
  });
  await sleep(200);
  const before = await shareState(g);
  expect(before.parked).toBe(1);
  // Writes that touch b's partition fail; a's accepts alone would succeed, but share their batch.
  await watchShareWrites(g, [pb!]);
  // As under load: the burst's first request waits a pass of the event queue for the others instead
  // of writing at once as an idle object's does (ShareCommitShell.lastBatchSize).
  await inObject(g, (instance) => {
    instance.lastBatchSize = 2;
  });
  const burst = await Promise.all([
    ...Array.from({ length: 6 }, (_, i) =>
      acknowledge(g, { memberId: "a", acknowledgements: ack(one(pa!, i), "accept") }),
    ),
    acknowledge(g, { memberId: "b", acknowledgements: ack(one(pb!, 0), "release") }),
    acquire(g, {
      memberId: "a",
      maxRecords: 1,
      partitions: [{ topic: "t", partition: pa!, logEndOffset: 8 }],
      acknowledgements: ack(one(pa!, 6), "reject"),
    }),
  ]);
  const writes = await shareWrites(g);
  // All eight in one transaction (it failed): every one of them is answered 503.
  expect(writes).toEqual([expect.arrayContaining([pa!, pb!])]);
  for (const res of burst) {
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.body.error.code).toBe("COORDINATOR_NOT_AVAILABLE");
  }
  await sleep(100);
  expect(woken).toBe(false);
  expect(await shareState(g)).toEqual(before);
  // After the batch: a's accepts succeed (its partition is not poisoned), and once the poison is
  // gone b's release is written and wakes the parked acquire with the released offset.
  const after = await Promise.all(
    Array.from({ length: 7 }, (_, i) =>
      acknowledge(g, { memberId: "a", acknowledgements: ack(one(pa!, i), "accept") }),
    ),
  );
  for (const res of after) expect(res.body.acknowledgements[0].error).toBeNull();
  await unwatch(g);
  const released = await acknowledge(g, { memberId: "b", acknowledgements: ack(one(pb!, 0), "release") });
  expect(released.body.acknowledgements[0].error).toBeNull();
  expect((await waiting).body.records).toEqual([
    { topic: "t", partition: pb!, firstOffset: 0, lastOffset: 0, deliveryCount: 2 },
  ]);
  expect(await sharePartition(g, "t", pa!)).toMatchObject({ startOffset: 7 });
});

/** The partitions of t assigned to `memberId`, as the group describes them. */
async function partitionsOf(g: string, memberId: string): Promise<number[]> {
  const res = await inObject(g, (instance) => instance.group.describe());
  const member = (res as any).members.find((m: any) => m.memberId === memberId);
  return member.assignment.flatMap((tp: any) => tp.partitions) as number[];
}
