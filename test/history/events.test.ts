/**
 * The group's history on the real runtime (API.md §8): each event written exactly once, in the
 * transaction of its change (a failed step leaves none), nothing for steady heartbeats and plain
 * commits (rows counted in the object's SQLite), the ring's cap, paging, the actor from the token's
 * `sub`, scopes, bad queries, and the seq continuing across restarts.
 */

import { abortAllDurableObjects, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { beat, join } from "../consumer/consumer-helpers";
import { call, commit, expectError, freshGroup, token } from "../integration/helpers";
import { curePoison, poisonWrites } from "../integration/inject-failure";
import { allEvents, cost, events, inObject, rows, stub, typesOf } from "./history-helpers";

describe("events are written once, with their change", () => {
  it("a consumer join: member_joined, rebalance, state_changed, each one row", async () => {
    const g = freshGroup("hist");
    const { written, events: added } = await cost(g, () => join(g, "a", { t: 4 }, { clientId: "svc" }));
    const list = await allEvents(g);
    expect(typesOf(list)).toEqual(["member_joined", "rebalance", "state_changed"]);
    expect(list.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(added).toBe(3);
    // clientHost is the connection's address as the Worker sees it (none in the test pool).
    expect(list[0]).toMatchObject({
      memberId: "a",
      detail: { clientId: "svc", clientHost: "", groupInstanceId: null },
    });
    expect(list[1].detail).toEqual({ groupEpoch: 1, members: 1, partitionsMoved: 4 });
    expect(list[2].detail).toEqual({ from: "Empty", to: "Stable" });
    expect(list.every((e) => typeof e.at === "number" && !("actor" in e))).toBe(true);
    // The join's rows: the group row, the member row, and one row per event (the outbox counts apart).
    expect(written).toBe(2 + 3);
    expect((await rows(g)).events).toBe(3);
  });

  it("steady heartbeats and plain commits write no event (and a plain commit one row)", async () => {
    const g = freshGroup("hist");
    const a = await join(g, "a", { t: 2 });
    await beat(g, a);
    const steady = await cost(g, async () => {
      for (let i = 0; i < 5; i++) expect((await beat(g, a)).status).toBe(200);
    });
    expect(steady).toMatchObject({ written: 0, events: 0 });
    const plain = await cost(g, async () => {
      for (let i = 1; i <= 3; i++) {
        const res = await commit(g, [{ topic: "t", partition: 0, offset: i }], {
          memberId: "a",
          memberEpoch: a.memberEpoch,
        });
        expect(res.status).toBe(200);
      }
    });
    expect(plain).toMatchObject({ written: 3, events: 0 });
    expect(plain.after.samples).toBe(0);
  });

  it("a failed step leaves no event; its retry writes each event once", async () => {
    const g = freshGroup("hist");
    await join(g, "a", { t: 2 });
    const before = await rows(g);
    await poisonWrites(stub(g), (memberId) => memberId === "b");
    const failed = await call("POST", `/v1/groups/${g}/heartbeat`, {
      memberId: "b",
      memberEpoch: 0,
      subscribedTopics: [{ name: "t", partitions: 2 }],
      ownedPartitions: [],
    });
    expectError(failed, 503, "COORDINATOR_NOT_AVAILABLE", 15);
    const after = await rows(g);
    expect({ events: after.events, lastSeq: after.lastSeq }).toEqual({
      events: before.events,
      lastSeq: before.lastSeq,
    });
    await inObject(g, (instance) => {
      expect(instance.group.history.pending).toEqual([]);
    });
    await curePoison(stub(g));
    await join(g, "b", { t: 2 });
    const list = await allEvents(g);
    expect(list.filter((e) => e.type === "member_joined").map((e) => e.memberId)).toEqual(["a", "b"]);
    expect(list.map((e) => e.seq)).toEqual(list.map((_, i) => i + 1));
  });

  it("the seq continues across evictions and aborts, with nothing lost or repeated", async () => {
    const g = freshGroup("hist");
    await join(g, "a", { t: 2 });
    await inObject(g, () => {});
    await evictDurableObject(stub(g) as never);
    await join(g, "b", { t: 2 });
    await abortAllDurableObjects();
    const c = await join(g, "c", { t: 2 });
    await beat(g, c);
    const list = await allEvents(g);
    const joined = list.filter((e) => e.type === "member_joined").map((e) => e.memberId);
    expect(joined).toEqual(["a", "b", "c"]);
    const seqs = list.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs[0]).toBe(Math.max(1, seqs.at(-1)! - 9));
  });
});

describe("the cap and paging", () => {
  it("keeps the last GROUP_HISTORY_MAX_EVENTS (10) events, dropping the oldest, one row each", async () => {
    const g = freshGroup("hist");
    for (const id of ["a", "b", "c", "d", "e"]) await join(g, id, { t: 5 });
    const { lastSeq, events: kept } = await rows(g);
    expect(lastSeq).toBeGreaterThan(10);
    expect(kept).toBe(10);
    const list = await allEvents(g);
    expect(list.map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => lastSeq - 9 + i));
    // One more event overwrites the oldest slot: still 10 rows, the window moved by one.
    const more = await cost(g, () =>
      call("POST", `/v1/groups/${g}/heartbeat`, { memberId: "e", memberEpoch: -1 }),
    );
    expect(more.after.events).toBe(10);
    expect((await allEvents(g))[0].seq).toBe(more.after.lastSeq - 9);
  });

  it("after/limit page oldest first; nextAfter is the last seq returned, or the after given", async () => {
    const g = freshGroup("hist");
    await join(g, "a", { t: 1 });
    await join(g, "b", { t: 1 });
    const all = await allEvents(g);
    expect(all.length).toBeGreaterThanOrEqual(5);
    const first = await events(g, "?limit=2");
    expect(first.body.events.map((e: any) => e.seq)).toEqual([1, 2]);
    expect(first.body.nextAfter).toBe(2);
    const second = await events(g, `?after=${first.body.nextAfter}&limit=2`);
    expect(second.body.events.map((e: any) => e.seq)).toEqual([3, 4]);
    const last = all.at(-1).seq;
    const end = await events(g, `?after=${last}`);
    expect(end.body).toEqual({ events: [], nextAfter: last });
    const beyond = await events(g, "?after=9000000000000000");
    expect(beyond.body).toEqual({ events: [], nextAfter: 9000000000000000 });
    expect((await events(g)).body.events.length).toBe(all.length);
  });

  it("last=N answers the newest N, oldest first, after the ring wrapped too; nextAfter goes on from them", async () => {
    const g = freshGroup("hist");
    for (const id of ["a", "b", "c", "d", "e"]) await join(g, id, { t: 5 });
    const kept = await allEvents(g);
    const newest = kept.at(-1).seq;
    const three = await events(g, "?last=3");
    expect(three.body.events.map((e: any) => e.seq)).toEqual([newest - 2, newest - 1, newest]);
    expect(three.body.events).toEqual(kept.slice(-3));
    expect(three.body.nextAfter).toBe(newest);
    // More than the ring keeps: what is kept (10 here), never an event that was dropped.
    expect((await events(g, "?last=1000")).body.events).toEqual(kept);
    expect((await events(g, `?after=${three.body.nextAfter}`)).body.events).toEqual([]);
  });
});

describe("admin events carry the token's sub", () => {
  it("reset, offsets delete and delete: actor from sub (null without one); the history outlives the group", async () => {
    const g = freshGroup("hist");
    const alice = await token({ sub: "alice@example.com" });
    const anonymous = await token();
    const offsets = [0, 1, 2].map((partition) => ({ topic: "t", partition, offset: 10, logEndOffset: 20 }));
    expect((await commit(g, offsets)).status).toBe(200);
    const reset = await call(
      "POST",
      `/v1/groups/${g}/offsets/reset`,
      { topic: "t", partitions: [0], to: "offset", offset: 4 },
      { token: alice },
    );
    expect(reset.status).toBe(200);
    // A dry run records nothing.
    await call("POST", `/v1/groups/${g}/offsets/reset`, { topic: "t", to: "earliest", dryRun: true });
    expect(
      (await call("DELETE", `/v1/groups/${g}/offsets/t?partition=1`, undefined, { token: anonymous })).status,
    ).toBe(200);
    expect((await call("DELETE", `/v1/groups/${g}`, undefined, { token: alice })).status).toBe(200);
    const list = await allEvents(g);
    expect(list.map((e) => [e.type, e.actor, e.detail])).toEqual([
      [
        "offsets_reset",
        "alice@example.com",
        { topic: "t", partitions: [{ partition: 0, previousOffset: 10, newOffset: 4 }] },
      ],
      ["offsets_deleted", null, { topic: "t", partitions: [1] }],
      ["state_changed", "alice@example.com", { from: "Empty", to: "Dead" }],
    ]);
    // Gone for describe and lag, readable in its history.
    expectError(await call("GET", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
    expect((await lagHistoryOf(g)).status).toBe(200);
  });
});

const lagHistoryOf = (g: string) => call("GET", `/v1/groups/${g}/lag/history`);

describe("the routes' rules", () => {
  it("scope describe, within the token's groups (403 otherwise); 404 with neither group nor history", async () => {
    const g = freshGroup("hist");
    await join(g, "a", { t: 1 });
    for (const path of ["events", "lag/history"]) {
      const describe = await token({ scope: "describe", groups: [g] });
      expect((await call("GET", `/v1/groups/${g}/${path}`, undefined, { token: describe })).status).toBe(200);
      const consume = await token({ scope: "consume" });
      expectError(
        await call("GET", `/v1/groups/${g}/${path}`, undefined, { token: consume }),
        403,
        "GROUP_AUTHORIZATION_FAILED",
        30,
      );
      const other = await token({ scope: "describe", groups: ["other-*"] });
      expectError(
        await call("GET", `/v1/groups/${g}/${path}`, undefined, { token: other }),
        403,
        "GROUP_AUTHORIZATION_FAILED",
        30,
      );
      expectError(
        await call("GET", `/v1/groups/${g}/${path}`, undefined, { token: null }),
        401,
        "UNAUTHENTICATED",
        null,
      );
      expectError(
        await call("GET", `/v1/groups/${freshGroup("none")}/${path}`),
        404,
        "GROUP_ID_NOT_FOUND",
        69,
      );
      expectError(await call("GET", `/v1/groups/bad!id/${path}`), 400, "INVALID_GROUP_ID", 24);
    }
  });

  it("bad after/limit/since are 400 INVALID_REQUEST and change nothing", async () => {
    const g = freshGroup("hist");
    await join(g, "a", { t: 1 });
    const before = await rows(g);
    const bad = [
      "?after=-1",
      "?after=abc",
      "?after=__proto__",
      "?after=1e3",
      "?after=99999999999999999999",
      "?after=9007199254740992",
      "?after=1&after=2",
      "?limit=0",
      "?limit=1001",
      "?limit=constructor",
      "?limit=",
      "?last=0",
      "?last=1001",
      "?last=__proto__",
      "?last=2&after=1",
      "?last=2&limit=2",
    ];
    for (const q of bad) expectError(await events(g, q), 400, "INVALID_REQUEST", 42);
    for (const q of ["?since=-5", "?since=toString", "?since=1.5", "?since=123456789012345678"])
      expectError(await call("GET", `/v1/groups/${g}/lag/history${q}`), 400, "INVALID_REQUEST", 42);
    expect(await rows(g)).toEqual(before);
  });
});
