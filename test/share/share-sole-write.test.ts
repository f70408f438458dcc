/**
 * The steady acknowledgement of one share-partition (an acquire with the previous batch's accept
 * piggybacked, or an acknowledge) writes its one share-partition row as a single statement, without a
 * transaction around it (src/group-shell.ts, `soleWrite`): SQLite applies one statement whole or not at
 * all. What that must not change: the accept is durable when answered (an abort right after it loses
 * nothing), a refused statement is the same exact failure path (503, nothing stored, the locks still
 * held), and a step that writes more than that one row still writes it in one transaction.
 */

import { abortAllDurableObjects } from "cloudflare:test";
import { expect, it } from "vitest";
import { freshGroup } from "../integration/helpers";
import { inObject, objectState } from "../integration/inject-failure";
import {
  ack,
  acknowledge,
  acquire,
  joinShare,
  type ShareMember,
  sharePartition,
  sleep,
  stub,
  take,
} from "./share-helpers";

/** Counts the object's transactions from now on (read back with `transactions`). */
const countTransactions = (g: string) =>
  inObject(g, (instance) => {
    const storage = instance.ctx.storage;
    const real = storage.transactionSync.bind(storage);
    instance.__transactions = 0;
    storage.transactionSync = (fn: () => unknown) => {
      instance.__transactions++;
      return real(fn);
    };
  });
const transactions = (g: string) => inObject(g, (instance) => instance.__transactions as number);

/** The share rows as stored, for before/after comparisons. */
const shareRows = (g: string) =>
  inObject(g, (instance) =>
    instance.ctx.storage.sql.exec("SELECT * FROM share_partitions ORDER BY topic, partition, part").toArray(),
  );

/** A member holding records of partition 0 after a first acknowledgement (the row and its lag sample exist). */
async function steadyMember(g: string): Promise<{ a: ShareMember; held: any[] }> {
  const a = await joinShare(g, { t: 2 }, "a");
  const report = [{ partition: 0, logEndOffset: 1_000 }];
  let held = (await take(g, a, report, { maxRecords: 3 })).body.records;
  held = (await take(g, a, report, { maxRecords: 3, acknowledgements: ack(held, "accept") })).body.records;
  return { a, held };
}

it("an acquire accepting one partition's range opens no transaction, and the accept survives an abort", async () => {
  const g = freshGroup("sole");
  const { a, held } = await steadyMember(g);
  await countTransactions(g);
  const res = await take(g, a, [], { maxRecords: 3, acknowledgements: ack(held, "accept") });
  expect(res.body.acknowledgements.map((x: any) => x.error)).toEqual([null]);
  expect(res.body.records).toEqual([
    { topic: "t", partition: 0, firstOffset: 6, lastOffset: 8, deliveryCount: 1 },
  ]);
  expect(await transactions(g)).toBe(0);
  // Answered means stored: after an abort, offsets 0..5 are done and 6..8 (locks are memory only) come back.
  await abortAllDurableObjects();
  expect(await sharePartition(g)).toMatchObject({ startOffset: 6, acquired: 0 });
  const again = await take(g, a, [], { maxRecords: 3 });
  expect(again.body.records[0]).toMatchObject({ firstOffset: 6, lastOffset: 8 });
});

it("a refused one-statement write answers 503 and changes nothing; the retry succeeds", async () => {
  const g = freshGroup("sole");
  const { a, held } = await steadyMember(g);
  await sleep(20);
  const before = { ...(await objectState(stub(g))), rows: await shareRows(g) };
  // A real SQLite failure in place of the row's statement (group_row's CHECK (id = 1)).
  await inObject(g, (instance) => {
    instance.store.share.writePiece = () =>
      instance.ctx.storage.sql.exec("INSERT INTO group_row (id, record) VALUES (2, '{}')");
  });
  for (const attempt of [
    () => acquire(g, { memberId: a.memberId, maxRecords: 3, acknowledgements: ack(held, "accept") }),
    () => acknowledge(g, { memberId: "a", acknowledgements: ack(held, "accept") }),
  ]) {
    const failed = await attempt();
    expect(failed.status, JSON.stringify(failed.body)).toBe(503);
    expect(failed.body.error.code).toBe("COORDINATOR_NOT_AVAILABLE");
    expect({ ...(await objectState(stub(g))), rows: await shareRows(g) }).toEqual(before);
  }
  await inObject(g, (instance) => {
    delete instance.store.share.writePiece;
  });
  // The locks are still a's: the same accept now succeeds, and is stored.
  const retried = await acknowledge(g, { memberId: "a", acknowledgements: ack(held, "accept") });
  expect(retried.body.acknowledgements[0].error).toBeNull();
  await abortAllDurableObjects();
  expect(await sharePartition(g)).toMatchObject({ startOffset: 6 });
});

it("a step that writes more than one row (two partitions) still writes them in one transaction", async () => {
  const g = freshGroup("sole");
  const a = await joinShare(g, { t: 2 }, "a");
  const report = [0, 1].map((partition) => ({ partition, logEndOffset: 2 }));
  const held = (await take(g, a, report)).body.records;
  expect(new Set(held.map((r: any) => r.partition))).toEqual(new Set([0, 1]));
  await countTransactions(g);
  const res = await acknowledge(g, { memberId: "a", acknowledgements: ack(held, "accept") });
  expect(res.body.acknowledgements.map((x: any) => x.error)).toEqual([null, null]);
  expect(await transactions(g)).toBe(1);
  await abortAllDurableObjects();
  expect(await sharePartition(g, "t", 0)).toMatchObject({ startOffset: 2 });
  expect(await sharePartition(g, "t", 1)).toMatchObject({ startOffset: 2 });
});
