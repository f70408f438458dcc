/**
 * The classic protocol over HTTP against the real Worker and GroupObject: concurrent members, the
 * join barrier, sync delivery, rebalances, commit fencing, alarm-driven session expiry, static
 * membership, the errors of API.md §4, and that a steady heartbeat costs no write.
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, commit, expectError, freshGroup, token } from "../integration/helpers";
import { assignment, heartbeat, join, joinNew, leave, meta, sleep, sync, syncAll } from "./members";

describe("classic protocol over HTTP", () => {
  it("forms one generation with one leader for three concurrent members and delivers assignments", async () => {
    const g = freshGroup("classic");
    const joined = await Promise.all([joinNew(g), joinNew(g), joinNew(g)]);
    for (const r of joined) expect(r.status).toBe(200);
    expect(new Set(joined.map((r) => r.body.generationId))).toEqual(new Set([1]));
    expect(new Set(joined.map((r) => r.body.leaderId)).size).toBe(1);
    const leaderId = joined[0]!.body.leaderId;
    for (const r of joined) expect(r.body.members).toHaveLength(r.body.memberId === leaderId ? 3 : 0);

    const synced = await syncAll(g, joined);
    const leader = joined.find((r) => r.body.memberId === leaderId)!.body;
    const expected = leader.members.map((_m: any, i: number) => assignment("orders", [i]));
    const got = joined.map((r) => {
      const i = leader.members.findIndex((m: any) => m.memberId === r.body.memberId);
      return [synced[joined.indexOf(r)]!.body.assignment, expected[i]];
    });
    for (const [a, e] of got) expect(a).toBe(e);

    const described = await call("GET", `/v1/groups/${g}`);
    expect(described.body).toMatchObject({
      state: "Stable",
      generationId: 1,
      protocolName: "range",
      leaderId,
    });
    const owned = described.body.members.flatMap((m: any) =>
      m.assignment.flatMap((tp: any) => tp.partitions),
    );
    expect(owned.sort()).toEqual([0, 1, 2]);
    // The coordinator read the subscriptions: OffsetDelete refuses a subscribed topic, lag names owners.
    expectError(await call("DELETE", `/v1/groups/${g}/offsets/orders`), 409, "GROUP_SUBSCRIBED_TO_TOPIC", 86);
    const lag = await call("GET", `/v1/groups/${g}/lag`);
    expect(lag.body.partitions.map((p: any) => p.memberId).sort()).toEqual(
      joined.map((r) => r.body.memberId).sort(),
    );
  });

  it("rebalances when a fourth member joins: REBALANCE_IN_PROGRESS until everyone rejoins, then generation 2", async () => {
    const g = freshGroup("classic");
    const joined = await Promise.all([joinNew(g), joinNew(g), joinNew(g)]);
    await syncAll(g, joined);
    const ids = joined.map((r) => r.body.memberId as string);
    const fourth = joinNew(g);
    await sleep(50);
    for (const id of ids) expectError(await heartbeat(g, id, 1), 409, "REBALANCE_IN_PROGRESS", 27);
    // Generation 1 is still current while the group prepares: its commits are accepted, as in Kafka.
    const offsets = [{ topic: "orders", partition: 0, offset: 5 }];
    expect((await commit(g, offsets, { memberId: ids[0], generationId: 1 })).status).toBe(200);

    const rejoined = await Promise.all([fourth, ...ids.map((memberId) => join(g, { memberId }))]);
    for (const r of rejoined) expect(r.body.generationId).toBe(2);
    expect(new Set(rejoined.map((r) => r.body.leaderId)).size).toBe(1);

    expectError(
      await commit(g, offsets, { memberId: ids[0], generationId: 1 }),
      409,
      "ILLEGAL_GENERATION",
      22,
    );
    expectError(
      await commit(g, offsets, { memberId: ids[0], generationId: 2 }),
      409,
      "REBALANCE_IN_PROGRESS",
      27,
    );
    await syncAll(g, rejoined);
    for (const id of ids) expect((await heartbeat(g, id, 2)).status).toBe(200);
    expect((await commit(g, offsets, { memberId: ids[0], generationId: 2 })).status).toBe(200);
  });

  it("removes a member that stops heartbeating when the alarm runs, and the group rebalances", async () => {
    const g = freshGroup("classic");
    const o = { sessionTimeoutMs: 600, rebalanceTimeoutMs: 5000 };
    const joined = await Promise.all([joinNew(g, o), joinNew(g, o), joinNew(g, o)]);
    await syncAll(g, joined);
    const [a, b, silent] = joined.map((r) => r.body.memberId as string);
    let answer = 200;
    for (let t = 0; t < 8 && answer === 200; t++) {
      await sleep(150);
      answer = (await heartbeat(g, a!, 1)).status;
      await heartbeat(g, b!, 1);
      await runDurableObjectAlarm(env.GROUPS.getByName(g));
    }
    const described = await call("GET", `/v1/groups/${g}`);
    expect(described.body.members.map((m: any) => m.memberId)).not.toContain(silent);
    expect(described.body.state).toBe("PreparingRebalance");
    expectError(await heartbeat(g, a!, 1), 409, "REBALANCE_IN_PROGRESS", 27);
    const rejoined = await Promise.all([join(g, { ...o, memberId: a }), join(g, { ...o, memberId: b })]);
    expect(rejoined.map((r) => r.body.generationId)).toEqual([2, 2]);
    expectError(await heartbeat(g, silent!, 2), 409, "UNKNOWN_MEMBER_ID", 25);
  });

  it("gives a restarted static member its assignment back with no generation bump and fences its old id", async () => {
    const g = freshGroup("classic");
    const joined = await Promise.all([join(g, { groupInstanceId: "a" }), join(g, { groupInstanceId: "b" })]);
    const synced = await Promise.all(
      joined.map((r, i) => {
        const plan =
          r.body.members.length > 0
            ? Object.fromEntries(
                r.body.members.map((m: any) => [
                  m.memberId,
                  assignment("orders", [m.groupInstanceId === "a" ? 0 : 1]),
                ]),
              )
            : {};
        return sync(g, r.body.memberId, 1, plan, i === 0 ? "a" : "b");
      }),
    );
    expect(synced[1]!.body.assignment).toBe(assignment("orders", [1]));
    const oldId = joined[1]!.body.memberId;

    const restarted = await join(g, { groupInstanceId: "b" });
    expect(restarted.status).toBe(200);
    expect(restarted.body.generationId).toBe(1);
    expect(restarted.body.memberId).not.toBe(oldId);
    const again = await sync(g, restarted.body.memberId, 1, {}, "b");
    expect(again.body.assignment).toBe(assignment("orders", [1]));
    expectError(await heartbeat(g, oldId, 1, "b"), 409, "FENCED_INSTANCE_ID", 82);
    const offsets = [{ topic: "orders", partition: 1, offset: 3 }];
    expectError(
      await commit(g, offsets, { memberId: oldId, generationId: 1, groupInstanceId: "b" }),
      409,
      "FENCED_INSTANCE_ID",
      82,
    );
    expect((await heartbeat(g, restarted.body.memberId, 1, "b")).status).toBe(200);
    expect((await call("GET", `/v1/groups/${g}`)).body.generationId).toBe(1);
  });

  it("writes no row and arms no alarm for steady heartbeats", async () => {
    const g = freshGroup("classic");
    const joined = await Promise.all([joinNew(g), joinNew(g)]);
    await syncAll(g, joined);
    const stub = env.GROUPS.getByName(g);
    const before = await stub.stats();
    for (let i = 0; i < 5; i++)
      for (const r of joined) expect((await heartbeat(g, r.body.memberId, 1)).status).toBe(200);
    expect(await stub.stats()).toEqual(before);
  });

  it("accepts Kafka's admin commit (no member id, generationId -1) only while the group has no members", async () => {
    const g = freshGroup("classic");
    const offsets = [{ topic: "orders", partition: 0, offset: 5 }];
    const admin = { memberId: "", generationId: -1 };
    expect(await commit(g, offsets, admin)).toMatchObject({ status: 200, body: { committed: 1 } });
    const joined = await Promise.all([joinNew(g)]);
    await syncAll(g, joined);
    expectError(await commit(g, offsets, admin), 409, "UNKNOWN_MEMBER_ID", 25);
    const memberId = joined[0]!.body.memberId;
    expectError(await commit(g, offsets, { memberId, generationId: -1 }), 409, "ILLEGAL_GENERATION", 22);
    await leave(g, [{ memberId }]);
    expect(await commit(g, [{ ...offsets[0], offset: 9 }], admin)).toMatchObject({ status: 200 });
    const fetched = await call("GET", `/v1/groups/${g}/offsets/orders/0`);
    expect(fetched.body.offset).toBe(9);
  });

  it("checks a commit's member before its generation and the state (testGenericGroupOffsetCommitWithFencedInstanceId, testGenericGroupOffsetCommitWithUnknownInstanceId)", async () => {
    const g = freshGroup("classic");
    const joined = await Promise.all([join(g, { groupInstanceId: "a" }), joinNew(g)]);
    for (const r of joined) expect(r.status).toBe(200);
    const [staticId, dynamicId] = joined.map((r) => r.body.memberId as string);
    expect((await call("GET", `/v1/groups/${g}`)).body.state).toBe("CompletingRebalance");
    const offsets = [{ topic: "orders", partition: 0, offset: 5 }];
    // A static member naming an instance id the group does not hold: the member is refused first.
    expectError(
      await commit(g, offsets, { memberId: staticId, generationId: 1, groupInstanceId: "z" }),
      409,
      "UNKNOWN_MEMBER_ID",
      25,
    );
    expectError(
      await commit(g, offsets, { memberId: staticId, generationId: 1, groupInstanceId: "a" }),
      409,
      "REBALANCE_IN_PROGRESS",
      27,
    );
    await syncAll(g, joined);
    // A dynamic member naming an instance id is no member of that name.
    expectError(
      await commit(g, offsets, { memberId: dynamicId, generationId: 1, groupInstanceId: "b" }),
      409,
      "UNKNOWN_MEMBER_ID",
      25,
    );
    expect((await call("GET", `/v1/groups/${g}/offsets/orders/0`)).body.offset).toBe(-1);
    expect((await commit(g, offsets, { memberId: dynamicId, generationId: 1 })).status).toBe(200);
    expect(
      (await commit(g, offsets, { memberId: staticId, generationId: 1, groupInstanceId: "a" })).status,
    ).toBe(200);
  });

  it("leaves: the leader's departure elects another member", async () => {
    const g = freshGroup("classic");
    const joined = await Promise.all([joinNew(g), joinNew(g), joinNew(g)]);
    await syncAll(g, joined);
    const leaderId = joined[0]!.body.leaderId;
    expect(await leave(g, [{ memberId: leaderId }])).toMatchObject({ status: 200, body: {} });
    const rest = joined.map((r) => r.body.memberId).filter((id) => id !== leaderId);
    const rejoined = await Promise.all(rest.map((memberId) => join(g, { memberId })));
    expect(rest).toContain(rejoined[0]!.body.leaderId);
    expect(rejoined.map((r) => r.body.generationId)).toEqual([2, 2]);
    // A batch where one member cannot leave: the others still do, and the answer names the failure.
    const partial = await leave(g, [{ memberId: rest[0] }, { memberId: "ghost" }]);
    expect(partial.status).toBe(200);
    expect(partial.body.members).toEqual([
      {
        memberId: "ghost",
        groupInstanceId: null,
        error: { code: "UNKNOWN_MEMBER_ID", kafkaCode: 25, message: expect.any(String) },
      },
    ]);
    expect((await call("GET", `/v1/groups/${g}`)).body.members.map((m: any) => m.memberId)).toEqual([
      rest[1],
    ]);
  });

  it("answers the errors of API.md §4 with their fixed statuses", async () => {
    const g = freshGroup("classic");
    const first = await join(g);
    expectError(first, 409, "MEMBER_ID_REQUIRED", 79);
    expect(typeof first.body.error.memberId).toBe("string");
    expectError(await join(g, { sessionTimeoutMs: 10 }), 400, "INVALID_SESSION_TIMEOUT", 26);
    expectError(await join(g, { memberId: "never-issued" }), 409, "UNKNOWN_MEMBER_ID", 25);
    const bad = await call("POST", `/v1/groups/${g}/classic/join`, {
      sessionTimeoutMs: 10_000,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: "not json" }],
    });
    expectError(bad, 400, "INVALID_REQUEST", 42);
    expectError(
      await call("POST", `/v1/groups/${g}/classic/join`, { protocols: 3 }),
      400,
      "INVALID_REQUEST",
      42,
    );
    expectError(await heartbeat(freshGroup(), "m", 1), 409, "UNKNOWN_MEMBER_ID", 25);
    expectError(await leave(g, [{}]), 400, "INVALID_REQUEST", 42);
    const member = await join(g, { memberId: first.body.error.memberId });
    expect(member.status).toBe(200);
    const other = await call("POST", `/v1/groups/${g}/classic/join`, {
      sessionTimeoutMs: 10_000,
      protocolType: "consumer",
      protocols: [{ name: "roundrobin", metadata: meta("orders") }],
    });
    expectError(other, 409, "INCONSISTENT_GROUP_PROTOCOL", 23);
    expectError(await sync(g, member.body.memberId, 9), 409, "ILLEGAL_GENERATION", 22);
    const describeOnly = await token({ scope: "describe" });
    const denied = await call(
      "POST",
      `/v1/groups/${g}/classic/heartbeat`,
      { memberId: "m", generationId: 1 },
      { token: describeOnly },
    );
    expectError(denied, 403, "GROUP_AUTHORIZATION_FAILED", 30);
  });
});
