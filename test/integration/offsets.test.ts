/**
 * Offsets over HTTP (API.md §3): commit, fetch, fetch one, delete, reset, with every error the routes
 * can produce, against the real Worker and GroupObject.
 */

import { describe, expect, it } from "vitest";
import { call, commit, expectError, freshGroup } from "./helpers";

describe("OffsetCommit and OffsetFetch", () => {
  it("stores a simple commit and returns it sorted by topic then partition, with lag", async () => {
    const g = freshGroup();
    const res = await commit(g, [
      { topic: "orders", partition: 1, offset: 10, logEndOffset: 15, metadata: "m1" },
      { topic: "audit", partition: 0, offset: 3 },
      { topic: "orders", partition: 0, offset: 7, leaderEpoch: 2 },
    ]);
    expect(res).toMatchObject({ status: 200, body: { committed: 3 } });
    const fetched = await call("GET", `/v1/groups/${g}/offsets`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.groupId).toBe(g);
    expect(fetched.body.offsets.map((o: any) => [o.topic, o.partition, o.offset, o.lag])).toEqual([
      ["audit", 0, 3, null],
      ["orders", 0, 7, null],
      ["orders", 1, 10, 5],
    ]);
    const one = fetched.body.offsets[2];
    expect(one).toMatchObject({ metadata: "m1", leaderEpoch: null, logEndOffset: 15 });
    expect(typeof one.committedAt).toBe("number");
    expect(fetched.body.offsets[1].leaderEpoch).toBe(2);
  });

  it("stores the largest offset and partition and any metadata text exactly", async () => {
    const g = freshGroup();
    const metadata = `quotes " and ' , backslash \\ , emoji 🙂 , ${"é".repeat(10)} , json {"a":[1]}`;
    const max = Number.MAX_SAFE_INTEGER;
    await commit(g, [
      {
        topic: "t",
        partition: 2 ** 31 - 1,
        offset: max,
        metadata,
        leaderEpoch: 2 ** 31 - 1,
        logEndOffset: max,
      },
    ]);
    const res = await call("GET", `/v1/groups/${g}/offsets/t/${2 ** 31 - 1}`);
    expect(res.body).toMatchObject({
      offset: max,
      metadata,
      leaderEpoch: 2 ** 31 - 1,
      logEndOffset: max,
      lag: 0,
    });
  });

  it("filters by repeated topic query parameters", async () => {
    const g = freshGroup();
    await commit(g, [
      { topic: "a", partition: 0, offset: 1 },
      { topic: "b", partition: 0, offset: 2 },
      { topic: "c", partition: 0, offset: 3 },
    ]);
    const res = await call("GET", `/v1/groups/${g}/offsets?topic=a&topic=c`);
    expect(res.body.offsets.map((o: any) => o.topic)).toEqual(["a", "c"]);
    const single = await call("GET", `/v1/groups/${g}/offsets?topic=b`);
    expect(single.body.offsets.map((o: any) => o.offset)).toEqual([2]);
  });

  it("keeps the last reported logEndOffset when a commit omits it", async () => {
    const g = freshGroup();
    await commit(g, [{ topic: "t", partition: 0, offset: 1, logEndOffset: 100 }]);
    await commit(g, [{ topic: "t", partition: 0, offset: 40 }]);
    const res = await call("GET", `/v1/groups/${g}/offsets/t/0`);
    expect(res.body).toMatchObject({ offset: 40, logEndOffset: 100, lag: 60 });
  });

  it("answers an unknown group with an empty list and an uncommitted partition with offset -1", async () => {
    const g = freshGroup();
    expect(await call("GET", `/v1/groups/${g}/offsets`)).toMatchObject({
      status: 200,
      body: { groupId: g, offsets: [] },
    });
    const one = await call("GET", `/v1/groups/${g}/offsets/orders/4`);
    expect(one).toMatchObject({
      status: 200,
      body: { topic: "orders", partition: 4, offset: -1, lag: null },
    });
  });

  it("is atomic: a commit with one bad entry stores none of its entries", async () => {
    const g = freshGroup();
    await commit(g, [{ topic: "t", partition: 0, offset: 5 }]);
    const tooLarge = await commit(g, [
      { topic: "t", partition: 0, offset: 6 },
      { topic: "t", partition: 1, offset: 6, metadata: "x".repeat(4097) },
    ]);
    expectError(tooLarge, 400, "OFFSET_METADATA_TOO_LARGE", 12);
    const badOffset = await commit(g, [
      { topic: "t", partition: 0, offset: 6 },
      { topic: "t", partition: 2, offset: -5 },
    ]);
    expectError(badOffset, 400, "INVALID_REQUEST", 42);
    const res = await call("GET", `/v1/groups/${g}/offsets`);
    expect(res.body.offsets.map((o: any) => [o.partition, o.offset])).toEqual([[0, 5]]);
  });

  it("counts metadata in UTF-8 bytes", async () => {
    const g = freshGroup();
    // 1366 three-byte characters = 4098 bytes, although only 1366 UTF-16 code units.
    expectError(
      await commit(g, [{ topic: "t", partition: 0, offset: 1, metadata: "€".repeat(1366) }]),
      400,
      "OFFSET_METADATA_TOO_LARGE",
      12,
    );
    expect(
      (await commit(g, [{ topic: "t", partition: 0, offset: 1, metadata: "€".repeat(1365) }])).status,
    ).toBe(200);
  });

  it("refuses member commits to a group without that member", async () => {
    const g = freshGroup();
    expectError(
      await commit(g, [{ topic: "t", partition: 0, offset: 1 }], { memberId: "m-1", generationId: 1 }),
      409,
      "UNKNOWN_MEMBER_ID",
      25,
    );
    expectError(
      await commit(g, [{ topic: "t", partition: 0, offset: 1 }], { generationId: 3 }),
      409,
      "UNKNOWN_MEMBER_ID",
      25,
    );
    expect((await call("GET", `/v1/groups/${g}`)).status).toBe(404);
  });

  it("rejects malformed bodies, ids and parameters with 400 and the schema problems", async () => {
    const g = freshGroup();
    const notJson = await call("POST", `/v1/groups/${g}/offsets`, "{not json");
    expectError(notJson, 400, "INVALID_REQUEST", 42);
    const noOffsets = await commit(g, []);
    expectError(noOffsets, 400, "INVALID_REQUEST", 42);
    expect(noOffsets.body.error.issues[0].path).toBe("offsets");
    const tooMany = await commit(
      g,
      Array.from({ length: 10_001 }, (_, i) => ({ topic: "t", partition: i, offset: 0 })),
    );
    expectError(tooMany, 400, "INVALID_REQUEST", 42);
    expectError(
      await commit(g, [{ topic: "bad topic!", partition: 0, offset: 1 }]),
      400,
      "INVALID_REQUEST",
      42,
    );
    expectError(await commit(g, [{ topic: "t", partition: 2 ** 31, offset: 1 }]), 400, "INVALID_REQUEST", 42);
    expectError(await commit(g, [{ topic: "t", partition: 0, offset: 2 ** 53 }]), 400, "INVALID_REQUEST", 42);
    expectError(
      await commit("bad$group", [{ topic: "t", partition: 0, offset: 1 }]),
      400,
      "INVALID_GROUP_ID",
      24,
    );
    expectError(await call("GET", `/v1/groups/${"x".repeat(250)}/offsets`), 400, "INVALID_GROUP_ID", 24);
    expectError(await call("GET", `/v1/groups/${g}/offsets/t/abc`), 400, "INVALID_REQUEST", 42);
    const wrongType = await call("POST", `/v1/groups/${g}/offsets`, "offsets=1", {
      headers: { "content-type": "text/plain" },
    });
    expectError(wrongType, 400, "INVALID_REQUEST", 42);
    expect((await call("GET", `/v1/groups/${g}/offsets`)).body.offsets).toEqual([]);
  });
});

describe("OffsetDelete", () => {
  it("deletes some partitions or a whole topic and reports how many", async () => {
    const g = freshGroup();
    await commit(
      g,
      [0, 1, 2, 3].map((p) => ({ topic: "t", partition: p, offset: p })),
    );
    await commit(g, [{ topic: "u", partition: 0, offset: 9 }]);
    expect(await call("DELETE", `/v1/groups/${g}/offsets/t?partition=1&partition=3`)).toMatchObject({
      status: 200,
      body: { deleted: 2 },
    });
    expect(await call("DELETE", `/v1/groups/${g}/offsets/t`)).toMatchObject({
      status: 200,
      body: { deleted: 2 },
    });
    const left = await call("GET", `/v1/groups/${g}/offsets`);
    expect(left.body.offsets.map((o: any) => o.topic)).toEqual(["u"]);
  });

  it("answers 404 GROUP_ID_NOT_FOUND for an unknown group", async () => {
    expectError(await call("DELETE", `/v1/groups/${freshGroup()}/offsets/t`), 404, "GROUP_ID_NOT_FOUND", 69);
  });
});

describe("offsets reset", () => {
  async function seeded() {
    const g = freshGroup();
    await commit(g, [
      { topic: "t", partition: 0, offset: 50, logEndOffset: 100 },
      { topic: "t", partition: 1, offset: 5, logEndOffset: 20 },
      { topic: "t", partition: 2, offset: 8 },
    ]);
    return g;
  }
  const reset = (g: string, body: unknown) => call("POST", `/v1/groups/${g}/offsets/reset`, body);
  const offsets = async (g: string) =>
    (await call("GET", `/v1/groups/${g}/offsets`)).body.offsets.map((o: any) => [o.partition, o.offset]);

  it("a dry run reports the change and changes nothing", async () => {
    const g = await seeded();
    const res = await reset(g, { topic: "t", to: "earliest", dryRun: true });
    expect(res.body).toEqual({
      dryRun: true,
      offsets: [
        { topic: "t", partition: 0, previousOffset: 50, newOffset: 0 },
        { topic: "t", partition: 1, previousOffset: 5, newOffset: 0 },
        { topic: "t", partition: 2, previousOffset: 8, newOffset: 0 },
      ],
    });
    expect(await offsets(g)).toEqual([
      [0, 50],
      [1, 5],
      [2, 8],
    ]);
  });

  it("shifts with clamping at 0 and at the known log end", async () => {
    const g = await seeded();
    const res = await reset(g, { topic: "t", to: "shift", shiftBy: 30 });
    expect(res.body.offsets.map((o: any) => o.newOffset)).toEqual([80, 20, 38]);
    await reset(g, { topic: "t", to: "shift", shiftBy: -1000, partitions: [0] });
    expect(await offsets(g)).toEqual([
      [0, 0],
      [1, 20],
      [2, 38],
    ]);
  });

  it("resets to latest from the reported log end, to an explicit offset, and to earliest", async () => {
    const g = await seeded();
    expect(
      (await reset(g, { topic: "t", to: "latest", partitions: [0, 1] })).body.offsets.map(
        (o: any) => o.newOffset,
      ),
    ).toEqual([100, 20]);
    expectError(await reset(g, { topic: "t", to: "latest", partitions: [2] }), 400, "INVALID_REQUEST", 42);
    expect((await reset(g, { topic: "t", to: "offset", offset: 7, partitions: [2, 5] })).status).toBe(200);
    expect(await offsets(g)).toEqual([
      [0, 100],
      [1, 20],
      [2, 7],
      [5, 7],
    ]);
  });

  it("requires offset with to=offset and shiftBy with to=shift", async () => {
    const g = await seeded();
    expectError(await reset(g, { topic: "t", to: "offset" }), 400, "INVALID_REQUEST", 42);
    expectError(await reset(g, { topic: "t", to: "shift" }), 400, "INVALID_REQUEST", 42);
    expectError(await reset(g, { topic: "t", to: "sideways" }), 400, "INVALID_REQUEST", 42);
  });
});
