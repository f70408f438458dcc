/**
 * Group admin over HTTP (API.md §6): list through the directory, describe, lag, delete; unknown routes
 * and oversized bodies.
 */

import { describe, expect, it } from "vitest";
import { call, commit, expectError, freshGroup, LIST_LAG, listedIds } from "./helpers";

describe("groups", () => {
  it("describes a group that only holds offsets as an Empty classic group", async () => {
    const g = freshGroup();
    await commit(g, [{ topic: "t", partition: 0, offset: 1 }]);
    const res = await call("GET", `/v1/groups/${g}`);
    expect(res).toMatchObject({
      status: 200,
      body: { groupId: g, type: "classic", state: "Empty", generationId: 0, protocolType: "", members: [] },
    });
  });

  it("answers 404 GROUP_ID_NOT_FOUND for describe, lag and delete of an unknown group", async () => {
    const g = freshGroup();
    expectError(await call("GET", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
    expectError(await call("GET", `/v1/groups/${g}/lag`), 404, "GROUP_ID_NOT_FOUND", 69);
    expectError(await call("DELETE", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
  });

  it("reports lag from the reported log end offsets", async () => {
    const g = freshGroup();
    await commit(g, [
      { topic: "t", partition: 0, offset: 10, logEndOffset: 25 },
      { topic: "t", partition: 1, offset: 4, logEndOffset: 4 },
      { topic: "u", partition: 0, offset: 3 },
    ]);
    const res = await call("GET", `/v1/groups/${g}/lag`);
    expect(res.body).toEqual({
      groupId: g,
      totalLag: 15,
      partitions: [
        { topic: "t", partition: 0, committedOffset: 10, logEndOffset: 25, lag: 15, memberId: null },
        { topic: "t", partition: 1, committedOffset: 4, logEndOffset: 4, lag: 0, memberId: null },
        { topic: "u", partition: 0, committedOffset: 3, logEndOffset: null, lag: null, memberId: null },
      ],
    });
  });

  it("lists groups with their type, state and member count, filtered by state and type", async () => {
    const a = freshGroup("list");
    const b = freshGroup("list");
    await commit(a, [{ topic: "t", partition: 0, offset: 1 }]);
    await commit(b, [{ topic: "t", partition: 0, offset: 1 }]);
    await expect.poll(() => listedIds(), LIST_LAG).toEqual(expect.arrayContaining([a, b]));
    const all = await call("GET", "/v1/groups");
    expect(all.body.groups).toEqual(
      expect.arrayContaining([
        { groupId: a, type: "classic", state: "Empty", members: 0 },
        { groupId: b, type: "classic", state: "Empty", members: 0 },
      ]),
    );
    const empty = await call("GET", "/v1/groups?state=Empty&type=classic");
    expect(empty.body.groups.map((g: any) => g.groupId)).toEqual(expect.arrayContaining([a, b]));
    expect(
      (await call("GET", "/v1/groups?state=Stable")).body.groups.map((g: any) => g.groupId),
    ).not.toContain(a);
    expect(
      (await call("GET", "/v1/groups?type=consumer")).body.groups.map((g: any) => g.groupId),
    ).not.toContain(a);
    expectError(await call("GET", "/v1/groups?type=weird"), 400, "INVALID_REQUEST", 42);
  });

  it("deletes a group with its offsets; it then reads as 404 and leaves the list", async () => {
    const g = freshGroup();
    await commit(g, [{ topic: "t", partition: 0, offset: 1 }]);
    expect(await call("DELETE", `/v1/groups/${g}`)).toMatchObject({ status: 200, body: { deleted: true } });
    expectError(await call("GET", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
    expect((await call("GET", `/v1/groups/${g}/offsets`)).body.offsets).toEqual([]);
    // The directory follows off the request path (API.md §6: within moments, at most 10 s).
    await expect.poll(() => listedIds(), LIST_LAG).not.toContain(g);
  });

  it("removes a group whose last offsets were deleted", async () => {
    const g = freshGroup();
    await commit(g, [{ topic: "t", partition: 0, offset: 1 }]);
    await call("DELETE", `/v1/groups/${g}/offsets/t`);
    expectError(await call("GET", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
    await expect.poll(() => listedIds(), LIST_LAG).not.toContain(g);
  });
});

describe("routes and limits", () => {
  it("answers unknown routes and methods with 404 NOT_FOUND", async () => {
    expectError(await call("GET", "/v1/nothing"), 404, "NOT_FOUND", null);
    expectError(
      await call("PUT", `/v1/groups/${freshGroup()}/offsets`, { offsets: [] }),
      404,
      "NOT_FOUND",
      null,
    );
    expectError(await call("GET", "/"), 404, "NOT_FOUND", null);
  });

  it("refuses bodies over 1 MiB with 413 and stores nothing", async () => {
    const g = freshGroup();
    const big = JSON.stringify({
      offsets: [{ topic: "t", partition: 0, offset: 1, metadata: "x".repeat(1024 * 1024) }],
    });
    expectError(await call("POST", `/v1/groups/${g}/offsets`, big), 413, "PAYLOAD_TOO_LARGE", null);
    expect((await call("GET", `/v1/groups/${g}/offsets`)).body.offsets).toEqual([]);
  });
});
