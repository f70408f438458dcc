/**
 * The consumer protocol over HTTP (API.md §5) against the real Worker and GroupObject: assignment,
 * revoke before assign, fencing by rebalance and session timeouts (driven by the alarm), commit
 * fencing, static membership, errors, and the cost of a steady heartbeat.
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, commit, expectError, freshGroup } from "../integration/helpers";
import { beat, disjointUnion, heartbeat, join, partitionsOf, settle, sleep, stub } from "./consumer-helpers";

describe("assignment", () => {
  it("gives joining members disjoint assignments covering every subscribed partition", async () => {
    const g = freshGroup("c");
    const members = [
      await join(g, "a", { t: 6, u: 2 }),
      await join(g, "b", { t: 6 }),
      await join(g, "c", { t: 6, u: 2 }),
    ];
    const described = await settle(g, members);
    expect(disjointUnion(members)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(disjointUnion(members, "u")).toEqual([0, 1]);
    expect(members.every((m) => m.memberEpoch === described.groupEpoch)).toBe(true);
    expect(described).toMatchObject({
      type: "consumer",
      state: "Stable",
      assignor: "uniform",
      protocolType: "consumer",
    });
    expect(described.members.map((m: any) => m.state)).toEqual(["Stable", "Stable", "Stable"]);
  });

  it("asks previous owners to revoke and hands their partitions over only after they report it", async () => {
    const g = freshGroup("c");
    const a = await join(g, "a", { t: 4 });
    expect(partitionsOf(a.owned)).toEqual([0, 1, 2, 3]);
    const b = await join(g, "b", { t: 4 });
    expect(b.owned).toEqual([]);
    // a still reports all four: it is told to keep two, at its old epoch; b still gets nothing.
    const asked = await heartbeat(g, { memberId: "a", memberEpoch: a.memberEpoch, ownedPartitions: a.owned });
    expect(asked.body.memberEpoch).toBe(a.memberEpoch);
    expect(partitionsOf(asked.body.assignment.partitions)).toHaveLength(2);
    const described = await call("GET", `/v1/groups/${g}`);
    expect(described.body.state).toBe("Reconciling");
    expect(described.body.members.find((m: any) => m.memberId === "a").state).toBe("UnrevokedPartitions");
    expect((await beat(g, b)).body.assignment.partitions).toEqual([]);
    // a reports the revocation: now b receives exactly the two a gave up.
    a.owned = asked.body.assignment.partitions;
    expect((await beat(g, a)).body.memberEpoch).toBe(described.body.groupEpoch);
    await beat(g, b);
    expect(partitionsOf(b.owned)).toHaveLength(2);
    expect(disjointUnion([a, b])).toEqual([0, 1, 2, 3]);
  });

  it("generates a member id, answers the heartbeat interval, and takes partition-count growth", async () => {
    const g = freshGroup("c");
    const res = await heartbeat(g, {
      memberEpoch: 0,
      subscribedTopics: [{ name: "t", partitions: 1 }],
      ownedPartitions: [],
    });
    expect(res.status).toBe(200);
    expect(res.body.memberId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.heartbeatIntervalMs).toBe(500);
    const m = {
      memberId: res.body.memberId,
      memberEpoch: res.body.memberEpoch,
      owned: res.body.assignment.partitions,
    };
    await beat(g, m, { subscribedTopics: [{ name: "t", partitions: 3 }] });
    expect(partitionsOf(m.owned)).toEqual([0, 1, 2]);
  });
});

describe("fencing and timeouts", () => {
  it("fences a member that does not revoke within its rebalance timeout and moves its partitions", async () => {
    const g = freshGroup("c");
    const a = await join(g, "a", { t: 4 }, { rebalanceTimeoutMs: 300 });
    const b = await join(g, "b", { t: 4 });
    // a is told to revoke in its own heartbeat; from then on its rebalance timeout runs.
    await beat(g, a);
    expect(partitionsOf(a.owned)).toHaveLength(2);
    await sleep(400);
    await runDurableObjectAlarm(stub(g)); // may already have run on its own: either way it is due
    await beat(g, b);
    expect(partitionsOf(b.owned)).toEqual([0, 1, 2, 3]);
    expectError(await beat(g, a), 409, "UNKNOWN_MEMBER_ID", 25);
  });

  it("expires a member whose session lapses (CONSUMER_SESSION_TIMEOUT_MS) via the alarm", async () => {
    const g = freshGroup("c");
    const a = await join(g, "a", { t: 4 });
    const b = await join(g, "b", { t: 4 });
    await settle(g, [a, b]);
    for (let i = 0; i < 4; i++) {
      await sleep(450);
      expect((await beat(g, b)).status).toBe(200);
    }
    await runDurableObjectAlarm(stub(g));
    await beat(g, b);
    expect(partitionsOf(b.owned)).toEqual([0, 1, 2, 3]);
    const described = await call("GET", `/v1/groups/${g}`);
    expect(described.body.members.map((m: any) => m.memberId)).toEqual(["b"]);
  });

  it("fences commits: a zombie's old epoch is STALE_MEMBER_EPOCH, an unknown member UNKNOWN_MEMBER_ID", async () => {
    const g = freshGroup("c");
    const a = await join(g, "a", { t: 2 });
    const b = await join(g, "b", { t: 2 });
    const oldEpoch = a.memberEpoch;
    await settle(g, [a, b]);
    expect(a.memberEpoch).toBeGreaterThan(oldEpoch);
    const offsets = [{ topic: "t", partition: partitionsOf(a.owned)[0], offset: 5 }];
    expectError(
      await commit(g, offsets, { memberId: "a", memberEpoch: oldEpoch }),
      409,
      "STALE_MEMBER_EPOCH",
      113,
    );
    expectError(
      await commit(g, offsets, { memberId: "zombie", memberEpoch: a.memberEpoch }),
      409,
      "UNKNOWN_MEMBER_ID",
      25,
    );
    expect((await commit(g, offsets, { memberId: "a", memberEpoch: a.memberEpoch })).status).toBe(200);
  });

  it("fences a newer or a stale epoch, and refuses a live static instance id", async () => {
    const g = freshGroup("c");
    const a = await join(g, "a", { t: 2 }, { groupInstanceId: "w1" });
    expectError(
      await heartbeat(g, { memberId: "a", memberEpoch: a.memberEpoch + 1 }),
      409,
      "FENCED_MEMBER_EPOCH",
      110,
    );
    expectError(await heartbeat(g, { memberId: "nobody", memberEpoch: 3 }), 409, "UNKNOWN_MEMBER_ID", 25);
    const taken = await heartbeat(g, {
      memberId: "b",
      memberEpoch: 0,
      groupInstanceId: "w1",
      subscribedTopics: [],
      ownedPartitions: [],
    });
    expectError(taken, 409, "UNRELEASED_INSTANCE_ID", 111);
  });
});

describe("static membership and leaving", () => {
  it("keeps a static member's assignment through leave (-2) and rejoin under a new member id", async () => {
    const g = freshGroup("c");
    const a = await join(g, "a", { t: 4 }, { groupInstanceId: "w1" });
    const b = await join(g, "b", { t: 4 });
    const stable = await settle(g, [a, b]);
    const left = await heartbeat(g, { memberId: "a", memberEpoch: -2, groupInstanceId: "w1" });
    expect(left.body).toMatchObject({ memberEpoch: -2, assignment: { partitions: [] } });
    const described = await call("GET", `/v1/groups/${g}`);
    expect(described.body.groupEpoch).toBe(stable.groupEpoch);
    expect(described.body.members.find((m: any) => m.memberId === "a")).toMatchObject({ memberEpoch: -2 });
    const back = await join(g, "a-2", { t: 4 }, { groupInstanceId: "w1" });
    expect(back.memberEpoch).toBe(a.memberEpoch);
    expect(back.owned).toEqual(a.owned);
    expect((await call("GET", `/v1/groups/${g}`)).body.groupEpoch).toBe(stable.groupEpoch);
  });

  it("leave (-1) removes the member and its partitions go to the others", async () => {
    const g = freshGroup("c");
    const a = await join(g, "a", { t: 2 });
    const b = await join(g, "b", { t: 2 });
    await settle(g, [a, b]);
    expect((await heartbeat(g, { memberId: "a", memberEpoch: -1 })).body.memberEpoch).toBe(-1);
    await beat(g, b);
    expect(partitionsOf(b.owned)).toEqual([0, 1]);
  });
});

describe("errors and protocol switch", () => {
  it("refuses an unknown server assignor and a join without its subscription", async () => {
    const g = freshGroup("c");
    const body = { memberEpoch: 0, subscribedTopics: [], ownedPartitions: [], serverAssignor: "fancy" };
    expectError(await heartbeat(g, body), 400, "UNSUPPORTED_ASSIGNOR", 112);
    expectError(await heartbeat(g, { memberId: "a", memberEpoch: 0 }), 400, "INVALID_REQUEST", 42);
    expectError(await heartbeat(g, { memberId: "a", memberEpoch: -3 }), 400, "INVALID_REQUEST", 42);
  });

  it("turns a group holding only offsets into a consumer group and keeps its offsets", async () => {
    const g = freshGroup("c");
    expect((await commit(g, [{ topic: "t", partition: 0, offset: 9 }])).status).toBe(200);
    await join(g, "a", { t: 1 });
    const described = await call("GET", `/v1/groups/${g}`);
    expect(described.body).toMatchObject({ type: "consumer", state: "Stable" });
    expect((await call("GET", `/v1/groups/${g}/offsets/t/0`)).body.offset).toBe(9);
  });
});

describe("cost", () => {
  it("writes no row and does not re-arm the alarm for heartbeats in a steady group", async () => {
    const g = freshGroup("c");
    const members = [
      await join(g, "a", { t: 8 }),
      await join(g, "b", { t: 8 }),
      await join(g, "c", { t: 8 }),
    ];
    await settle(g, members);
    const before = await stub(g).stats();
    expect(before.alarmAt).not.toBeNull();
    for (let i = 0; i < 5; i++) for (const m of members) expect((await beat(g, m)).status).toBe(200);
    const after = await stub(g).stats();
    expect(after.rowsWritten - before.rowsWritten).toBe(0);
    expect(after.alarmAt).toBe(before.alarmAt);
    // The same measure sees a change: a subscription change writes rows.
    await beat(g, members[0]!, {
      subscribedTopics: [
        { name: "t", partitions: 8 },
        { name: "u", partitions: 1 },
      ],
    });
    expect((await stub(g).stats()).rowsWritten).toBeGreaterThan(after.rowsWritten);
  });
});
