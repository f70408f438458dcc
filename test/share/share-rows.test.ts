/**
 * What share requests cost in SQLite rows (the object's own counts, `stats()`): a steady heartbeat
 * and an acquire (locks are memory only) write none; acknowledgements write the rows of the
 * share-partitions they changed, however many offsets they cover (plus at most one lag sample a minute); 1,000 records acquired 100 at a
 * time with piggybacked accepts write at most 20 rows (the bound).
 */

import { expect, it } from "vitest";
import { call, freshGroup } from "../integration/helpers";
import { ack, acknowledge, beatShare, joinShare, type ShareMember, stub, take } from "./share-helpers";

const written = async (g: string) => (await stub(g).stats()).rowsWritten;

/** The group's lag samples (API.md §8): a share acknowledgement takes at most one per minute. */
const samples = async (g: string) => (await call("GET", `/v1/groups/${g}/lag/history`)).body.samples.length;

/** Rows `step` writes in the group's object. */
async function rowsOf(g: string, step: () => Promise<unknown>): Promise<number> {
  const before = await written(g);
  await step();
  return (await written(g)) - before;
}

it("writes no row for a steady heartbeat or an acquire, and one per share-partition an acknowledgement changes", async () => {
  const g = freshGroup("rows");
  const a = await joinShare(g, { t: 2 }, "a");
  await take(g, a, [{ partition: 0, logEndOffset: 1 }]); // SPSO set: one row, then steady
  await beatShare(g, a); // the member's first heartbeat after its join may note it was heard
  expect(await rowsOf(g, () => beatShare(g, a))).toBe(0);
  let held: any[] = [];
  const acquiring = await rowsOf(g, async () => {
    held = (await take(g, a, [{ partition: 0, logEndOffset: 5_001 }], { maxRecords: 5_000 })).body.records;
  });
  // The larger log end is persisted (one row); the locks are not.
  expect(acquiring).toBeLessThanOrEqual(1);
  expect(await rowsOf(g, () => take(g, a, [], { maxRecords: 10 }))).toBe(0);
  // Every offset in flight (up to the cap) accepted in one entry: one share-partition row, and the
  // minute's lag sample if this is the group's first acknowledgement of that minute.
  const sampled = await samples(g);
  const accepting = await rowsOf(g, () =>
    acknowledge(g, { memberId: "a", acknowledgements: ack(held, "accept") }),
  );
  expect(accepting - ((await samples(g)) - sampled)).toBe(1);
});

it("writes at most 20 rows for 1,000 records acquired 100 at a time with piggybacked accepts", async () => {
  const g = freshGroup("rows");
  const members: ShareMember[] = [await joinShare(g, { t: 4 }, "a"), await joinShare(g, { t: 4 }, "b")];
  for (const m of members) await beatShare(g, m);
  const report = [0, 1, 2, 3].map((partition) => ({ partition, logEndOffset: 1_000_000 }));
  const held = new Map<string, any[]>(members.map((m) => [m.memberId, []]));
  for (const m of members) held.set(m.memberId, (await take(g, m, report, { maxRecords: 100 })).body.records);
  let delivered = 0;
  const rows = await rowsOf(g, async () => {
    for (let round = 0; round < 5; round++) {
      for (const m of members) {
        const res = await take(g, m, [], {
          maxRecords: 100,
          acknowledgements: ack(held.get(m.memberId)!, "accept"),
        });
        expect(res.body.acknowledgements.every((x: any) => x.error === null)).toBe(true);
        held.set(m.memberId, res.body.records);
        for (const r of res.body.records) delivered += r.lastOffset - r.firstOffset + 1;
      }
    }
  });
  expect(delivered).toBe(1000);
  console.log(`share rows: ${rows} rows written for ${delivered} records delivered and accepted`);
  expect(rows).toBeLessThanOrEqual(20);
});
