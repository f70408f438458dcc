/**
 * The share rows on a real Durable Object's SQLite (share-store.ts): share-partitions and archived
 * ranges round-trip exactly; a share-partition record longer than a row's piece is cut into pieces
 * under 1 MB each and joined back, and shrinking or deleting it leaves no stale piece; archived ranges
 * removed and added under one key in one save end added; rows written scale with what changed; the
 * group's deletion takes every share row with it.
 */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import type { ArchivedRange, SharePartitionRecord } from "../../src/core/share/share-types";
import type { ShareChanges } from "../../src/storage/share-store";
import { freshGroup } from "../integration/helpers";

/** Runs `fn` against the live object's stores (private, reached untyped on purpose). */
const inStore = <R>(groupId: string, fn: (store: any, sql: SqlStorage) => R): Promise<R> =>
  (runInDurableObject as unknown as (s: unknown, f: (i: any) => R) => Promise<R>)(
    env.GROUPS.getByName(groupId),
    (instance) => fn(instance.store, instance.ctx.storage.sql),
  );

const partition = (
  topic: string,
  p: number,
  ranges: SharePartitionRecord["ranges"] = [[10, 12, "acknowledged", 1]],
): SharePartitionRecord => ({
  topic,
  partition: p,
  startOffset: 10,
  endOffset: 20,
  logEndOffset: 100,
  logStartOffset: 0,
  ranges,
});

const archivedRange = (topic: string, p: number, first: number, at = 1000): ArchivedRange => ({
  topic,
  partition: p,
  firstOffset: first,
  lastOffset: first + 2,
  deliveryCount: 3,
  reason: "delivery_limit",
  archivedAt: at,
});

const changes = (over: Partial<ShareChanges>): ShareChanges => ({
  partitions: new Map(),
  archivedAdded: [],
  archivedRemoved: [],
  ...over,
});

/** A record whose JSON is well over one piece (262,144 units): 40,000 alternating ranges. */
const hugeRanges = (): SharePartitionRecord["ranges"] =>
  Array.from({ length: 40_000 }, (_, i) => [
    1_000_000_000_000 + 2 * i,
    1_000_000_000_000 + 2 * i,
    i % 2 ? "archived" : "acknowledged",
    i % 7,
  ]);

it("round-trips share-partitions (prototype-named topics too) and archived ranges", async () => {
  const g = freshGroup("store");
  const saved = [partition("jobs", 0), partition("__proto__", 3), partition("constructor", 1)];
  const listed = [archivedRange("jobs", 0, 5, 2000), archivedRange("__proto__", 3, 7, 1000)];
  const loaded = await inStore(g, (store) => {
    store.share.save(
      changes({
        partitions: new Map(saved.map((r) => [`${r.topic}:${r.partition}`, r])),
        archivedAdded: listed,
      }),
    );
    return store.share.load();
  });
  expect(loaded.partitions).toEqual(
    [...saved].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0)),
  );
  // Oldest archived first.
  expect(loaded.archived).toEqual([listed[1], listed[0]]);
});

it("cuts a long share-partition record into rows under 1 MB, joins it back, and drops stale pieces", async () => {
  const g = freshGroup("store");
  const big = partition("t", 0, hugeRanges());
  const key = "t:0";
  const { pieces, largest, back } = await inStore(g, (store, sql) => {
    store.share.save(changes({ partitions: new Map([[key, big]]) }));
    const rows = sql
      .exec("SELECT part, length(CAST(record AS BLOB)) AS bytes FROM share_partitions")
      .toArray();
    store.share.forget(); // as after a restart: pieces known only from the rows
    return {
      pieces: rows.length,
      largest: Math.max(...rows.map((r) => r.bytes as number)),
      back: store.share.load().partitions,
    };
  });
  expect(pieces).toBeGreaterThan(1);
  expect(largest).toBeLessThan(1_000_000);
  expect(back).toEqual([big]);

  // Shrunk to one piece, then deleted: no piece of the long record is left behind.
  const small = partition("t", 0);
  const after = await inStore(g, (store, sql) => {
    store.share.save(changes({ partitions: new Map([[key, small]]) }));
    const shrunk = sql.exec("SELECT COUNT(*) AS n FROM share_partitions").one().n;
    const loaded = store.share.load().partitions;
    store.share.save(changes({ partitions: new Map([[key, undefined]]) }));
    return { shrunk, loaded, left: sql.exec("SELECT COUNT(*) AS n FROM share_partitions").one().n };
  });
  expect(after).toEqual({ shrunk: 1, loaded: [small], left: 0 });
});

it("writes rows in proportion to what changed, removes before it adds, and goes with the group", async () => {
  const g = freshGroup("store");
  const result = await inStore(g, (store, sql) => {
    store.share.save(
      changes({
        partitions: new Map([["t:0", partition("t", 0)]]),
        archivedAdded: [archivedRange("t", 0, 1), archivedRange("t", 0, 9)],
      }),
    );
    const before = store.rowsWritten;
    // One share-partition and one archived range change: a handful of rows, whatever the offsets.
    store.share.save(
      changes({
        partitions: new Map([["t:0", partition("t", 0, [[10, 1_000_000, "acknowledged", 1]])]]),
        archivedRemoved: [{ topic: "t", partition: 0, firstOffset: 1 }],
        archivedAdded: [{ ...archivedRange("t", 0, 1), lastOffset: 4, reason: "rejected" }],
      }),
    );
    const written = store.rowsWritten - before;
    const listed = store.share.load().archived;
    store.deleteAll();
    const left = [
      sql.exec("SELECT COUNT(*) AS n FROM share_partitions").one().n,
      sql.exec("SELECT COUNT(*) AS n FROM share_archived").one().n,
    ];
    return { written, listed, left };
  });
  expect(result.written).toBeLessThanOrEqual(4);
  expect(result.listed.map((r: ArchivedRange) => [r.firstOffset, r.lastOffset, r.reason])).toEqual([
    [1, 4, "rejected"],
    [9, 11, "delivery_limit"],
  ]);
  expect(result.left).toEqual([0, 0]);
});
