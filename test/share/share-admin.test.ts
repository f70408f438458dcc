/**
 * A share group under the admin routes (API.md §3, §6, §7): describe (type share, members, each
 * share-partition's SPSO, counts in flight and lag), the list by type, OffsetFetch with SPSO as
 * `offset`, lag, reset of an Empty share group (earliest, latest, offset; dry run; NON_EMPTY_GROUP
 * with members; shift refused), OffsetDelete (GROUP_SUBSCRIBED_TO_TOPIC while subscribed) and group
 * delete (NON_EMPTY_GROUP with members; afterwards no share row is left).
 */

import { runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { call, expectError, freshGroup, LIST_LAG, listedIds } from "../integration/helpers";
import {
  ack,
  acknowledge,
  joinShare,
  offsetsOf,
  type ShareMember,
  shareHeartbeat,
  sharePartition,
  stub,
  take,
} from "./share-helpers";

/** a on t (2 partitions): p0 (log end 10) 0-2 accepted, 3-4 held, 5-9 released; p1 (log end 4) 0 accepted, 1-3 held. */
async function busyGroup(g: string): Promise<ShareMember> {
  const a = await joinShare(g, { t: 2 }, "a");
  const got = await take(g, a, [
    { partition: 0, logEndOffset: 10 },
    { partition: 1, logEndOffset: 4 },
  ]);
  expect(offsetsOf(got.body.records).length).toBe(14);
  const range = (partition: number, firstOffset: number, lastOffset: number) => ({
    topic: "t",
    partition,
    firstOffset,
    lastOffset,
  });
  const res = await acknowledge(g, {
    memberId: "a",
    acknowledgements: [
      ...ack([range(0, 0, 2), range(1, 0, 0)], "accept"),
      ...ack([range(0, 5, 9)], "release"),
    ],
  });
  expect(res.body.acknowledgements.map((x: any) => x.error)).toEqual([null, null, null]);
  return a;
}

const leave = async (g: string, m: ShareMember) =>
  expect((await shareHeartbeat(g, { memberId: m.memberId, memberEpoch: -1 })).status).toBe(200);

it("describes, lists, fetches offsets and lag of a share group", async () => {
  const g = freshGroup("admin");
  await busyGroup(g);
  const d = (await call("GET", `/v1/groups/${g}`)).body;
  expect(d).toMatchObject({
    groupId: g,
    type: "share",
    state: "Stable",
    members: [{ memberId: "a", assignment: [{ topic: "t", partitions: [0, 1] }] }],
  });
  expect(d.partitions).toEqual([
    {
      topic: "t",
      partition: 0,
      startOffset: 3,
      endOffset: 10,
      logEndOffset: 10,
      acquired: 2,
      available: 5,
      acknowledged: 0,
      archived: 0,
      lag: 7,
    },
    {
      topic: "t",
      partition: 1,
      startOffset: 1,
      endOffset: 4,
      logEndOffset: 4,
      acquired: 3,
      available: 0,
      acknowledged: 0,
      archived: 0,
      lag: 3,
    },
  ]);
  // The directory follows the group off the request path: poll the list (API.md §6: at most 10 s).
  const listed = async () =>
    (await call("GET", `/v1/groups?type=share&prefix=${g}`)).body.groups.find((x: any) => x.groupId === g);
  await expect.poll(listed, LIST_LAG).toEqual({ groupId: g, type: "share", state: "Stable", members: 1 });
  expect(await listedIds(`?type=consumer&prefix=${g}`)).not.toContain(g);
  const offsets = (await call("GET", `/v1/groups/${g}/offsets`)).body.offsets;
  expect(offsets.map((o: any) => [o.partition, o.offset, o.logEndOffset, o.lag])).toEqual([
    [0, 3, 10, 7],
    [1, 1, 4, 3],
  ]);
  expect((await call("GET", `/v1/groups/${g}/offsets/t/1`)).body).toMatchObject({ offset: 1, lag: 3 });
  expect((await call("GET", `/v1/groups/${g}/offsets/t/7`)).body.offset).toBe(-1);
  const lag = (await call("GET", `/v1/groups/${g}/lag`)).body;
  expect(lag).toMatchObject({ groupId: g, totalLag: 10 });
  expect(lag.partitions.map((p: any) => [p.partition, p.committedOffset, p.lag])).toEqual([
    [0, 3, 7],
    [1, 1, 3],
  ]);
});

it("resets an Empty share group only, as a dry run or for real, and refuses shift", async () => {
  const g = freshGroup("admin");
  const a = await busyGroup(g);
  const reset = (body: Record<string, unknown>) =>
    call("POST", `/v1/groups/${g}/offsets/reset`, { topic: "t", ...body });
  expectError(await reset({ to: "earliest" }), 409, "NON_EMPTY_GROUP", 68);
  await leave(g, a);
  expect((await call("GET", `/v1/groups/${g}`)).body.state).toBe("Empty");
  const before = await sharePartition(g);
  const dry = await reset({ partitions: [0], to: "offset", offset: 8, dryRun: true });
  expect(dry.body).toEqual({
    dryRun: true,
    offsets: [{ topic: "t", partition: 0, previousOffset: 3, newOffset: 8 }],
  });
  expect(await sharePartition(g)).toEqual(before);
  expectError(await reset({ to: "shift", shiftBy: 1 }), 400, "INVALID_REQUEST", 42);
  const real = await reset({ partitions: [0], to: "offset", offset: 8 });
  expect(real.body.offsets).toEqual([{ topic: "t", partition: 0, previousOffset: 3, newOffset: 8 }]);
  expect(await sharePartition(g)).toMatchObject({ startOffset: 8, endOffset: 8, acquired: 0, available: 0 });
  expect((await reset({ partitions: [1], to: "latest" })).body.offsets).toEqual([
    { topic: "t", partition: 1, previousOffset: 1, newOffset: 4 },
  ]);
  // A member joining afterwards gets what follows the reset offsets.
  const b = await joinShare(g, { t: 2 }, "b");
  const got = await take(g, b, [], { maxRecords: 10 });
  expect(got.body.records).toEqual([
    { topic: "t", partition: 0, firstOffset: 8, lastOffset: 9, deliveryCount: 1 },
  ]);
});

it("deletes a share group's offsets and the group itself only without subscribers, leaving no row", async () => {
  const g = freshGroup("admin");
  const a = await busyGroup(g);
  await expect.poll(() => listedIds(`?type=share&prefix=${g}`), LIST_LAG).toContain(g);
  expectError(await call("DELETE", `/v1/groups/${g}/offsets/t`), 409, "GROUP_SUBSCRIBED_TO_TOPIC", 86);
  expectError(await call("DELETE", `/v1/groups/${g}`), 409, "NON_EMPTY_GROUP", 68);
  await leave(g, a);
  expect((await call("DELETE", `/v1/groups/${g}/offsets/t?partition=1`)).body).toEqual({ deleted: 1 });
  expect((await call("GET", `/v1/groups/${g}/offsets`)).body.offsets.map((o: any) => o.partition)).toEqual([
    0,
  ]);
  expect((await call("DELETE", `/v1/groups/${g}`)).body).toEqual({ deleted: true });
  expectError(await call("GET", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
  await expect.poll(() => listedIds(`?type=share&prefix=${g}`), LIST_LAG).not.toContain(g);
  const rows = await runInDurableObject(stub(g), (_i, state) =>
    ["share_partitions", "share_archived", "members", "group_row"].map(
      (t) => state.storage.sql.exec(`SELECT COUNT(*) AS n FROM ${t}`).one().n,
    ),
  );
  expect(rows).toEqual([0, 0, 0, 0]);
});
