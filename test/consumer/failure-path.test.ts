/**
 * A failed request or alarm leaves no trace (DESIGN.md principle 8): with a real SQLite failure
 * injected into the write of one row, the request gets a 503 and afterwards every member's session
 * and revocation deadline, the description, the rows and the alarm are exactly what they were; a
 * member that refuses to revoke is fenced at its original rebalance timeout however many poison
 * requests arrive; a failing alarm changes nothing and is retried later, not lost.
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { expect, it } from "vitest";
import { call, freshGroup } from "../integration/helpers";
import { curePoison, objectState, poisonWrites } from "../integration/inject-failure";
import { beat, heartbeat, join, type Member, settle, sleep, stub, watch } from "./consumer-helpers";

const expectUnavailable = (res: { status: number; body: any; headers: Headers }) => {
  expect(res.status, JSON.stringify(res.body)).toBe(503);
  expect(res.body.error.code).toBe("COORDINATOR_NOT_AVAILABLE");
  expect(res.headers.get("retry-after")).not.toBeNull();
};

/**
 * Three settled members, then a fourth whose join moves their targets; each of the three is then told
 * (in its own heartbeat) to revoke, and has not yet: their revocation deadlines are running.
 */
async function reconcilingGroup(g: string): Promise<Member[]> {
  const members = [await join(g, "a", { t: 8 }), await join(g, "b", { t: 8 }), await join(g, "c", { t: 8 })];
  await settle(g, members);
  members.push(await join(g, "d", { t: 8 }, { rebalanceTimeoutMs: 20_000 }));
  for (const m of members.slice(0, 3)) {
    const told = await heartbeat(g, {
      memberId: m.memberId,
      memberEpoch: m.memberEpoch,
      ownedPartitions: m.owned,
    });
    expect(told.status, JSON.stringify(told.body)).toBe(200);
  }
  return members;
}

it("a join that fails to write changes no deadline, row or description", async () => {
  const g = freshGroup("fail");
  await reconcilingGroup(g);
  const before = await objectState(stub(g));
  expect(Object.values(before.revocations as object).filter((r) => r !== null).length).toBeGreaterThanOrEqual(
    2,
  );
  await poisonWrites(stub(g), (memberId) => memberId.startsWith("poison"));
  await sleep(30); // a deadline restarted by the failure would now differ
  expectUnavailable(
    await heartbeat(g, {
      memberId: "poison-1",
      memberEpoch: 0,
      subscribedTopics: [{ name: "t", partitions: 8 }],
      ownedPartitions: [],
    }),
  );
  expect(await objectState(stub(g))).toEqual(before);
});

it("a heartbeat of an existing member that fails to write leaves even that member's session as it was", async () => {
  const g = freshGroup("fail");
  const [a] = await reconcilingGroup(g);
  const before = await objectState(stub(g));
  await poisonWrites(stub(g), (memberId) => memberId === "a");
  await sleep(30);
  // a acknowledges its revocation: its row must change, and the write fails.
  const told = await heartbeat(g, { memberId: "a", memberEpoch: a!.memberEpoch, ownedPartitions: a!.owned });
  expect(told.status).toBe(200); // the revocation request itself writes no row of a
  const state = await objectState(stub(g));
  await sleep(30);
  expectUnavailable(
    await heartbeat(g, {
      memberId: "a",
      memberEpoch: a!.memberEpoch,
      ownedPartitions: told.body.assignment.partitions,
    }),
  );
  expect(await objectState(stub(g))).toEqual(state);
  expect(before.memberRows).toEqual(state.memberRows);
  // Once writes work again, the same heartbeat succeeds: nothing was lost or half-applied.
  await curePoison(stub(g));
  const retried = await heartbeat(g, {
    memberId: "a",
    memberEpoch: a!.memberEpoch,
    ownedPartitions: told.body.assignment.partitions,
  });
  expect(retried.status, JSON.stringify(retried.body)).toBe(200);
});

it("a heartbeat on the watch socket that fails is answered on the socket and changes nothing", async () => {
  const g = freshGroup("fail");
  await reconcilingGroup(g);
  // A member (watches are for members) whose next heartbeat changes its row: that write fails.
  const joined = await heartbeat(g, {
    memberId: "poison-ws",
    memberEpoch: 0,
    subscribedTopics: [{ name: "t", partitions: 8 }],
    ownedPartitions: [],
  });
  expect(joined.status, JSON.stringify(joined.body)).toBe(200);
  const socket = await watch(g, "poison-ws");
  await socket.next(); // the assignment it holds, pushed on connect
  await poisonWrites(stub(g), (memberId) => memberId.startsWith("poison"));
  const before = await objectState(stub(g));
  await sleep(30);
  socket.send({
    type: "heartbeat",
    memberEpoch: joined.body.memberEpoch,
    subscribedTopics: [
      { name: "t", partitions: 8 },
      { name: "u", partitions: 2 },
    ],
    ownedPartitions: joined.body.assignment.partitions,
  });
  const answer = await socket.next();
  expect(answer.error?.code, JSON.stringify(answer)).toBe("COORDINATOR_NOT_AVAILABLE");
  expect(await objectState(stub(g))).toEqual(before);
  socket.close();
});

it("rejected requests change no member's deadline, row or description", async () => {
  const g = freshGroup("fail");
  const [a] = await reconcilingGroup(g);
  const before = await objectState(stub(g));
  await sleep(30);
  const topics = [{ name: "t", partitions: 8 }];
  const rejected = [
    await heartbeat(g, { memberId: "a", memberEpoch: a!.memberEpoch + 7, ownedPartitions: [] }),
    await heartbeat(g, { memberId: "ghost", memberEpoch: 3, ownedPartitions: [] }),
    await heartbeat(g, {
      memberId: "x",
      memberEpoch: 0,
      subscribedTopics: topics,
      ownedPartitions: [],
      serverAssignor: "nope",
    }),
    await heartbeat(g, {
      memberId: "y",
      memberEpoch: 0,
      subscribedTopics: topics,
      ownedPartitions: [{ topic: "t", partitions: [0] }],
    }),
    await heartbeat(g, { memberId: "z", memberEpoch: -5 }),
    await call("POST", `/v1/groups/${g}/heartbeat`, "{not json"),
    await call("POST", `/v1/groups/${g}/offsets`, {
      memberId: "a",
      memberEpoch: a!.memberEpoch + 1,
      offsets: [{ topic: "t", partition: 0, offset: 1 }],
    }),
    await call("POST", `/v1/groups/${g}/classic/heartbeat`, {
      memberId: "a",
      generationId: 1,
      groupInstanceId: null,
    }),
  ];
  for (const r of rejected) {
    expect(r.status, JSON.stringify(r.body)).toBeGreaterThanOrEqual(400);
    if (r.status >= 500) expect(r.body.error.code).toBe("COORDINATOR_NOT_AVAILABLE");
  }
  expect(await objectState(stub(g))).toEqual(before);
});

it("fences a member that refuses to revoke at its original rebalance timeout despite a poison request every 250 ms", async () => {
  const g = freshGroup("fail");
  const a = await join(g, "a", { t: 4 }, { rebalanceTimeoutMs: 2000 });
  const b = await join(g, "b", { t: 4 });
  const refused = { memberId: "a", memberEpoch: a.memberEpoch, ownedPartitions: a.owned };
  // a's next heartbeat asks it to revoke: its deadline is set then and must never move.
  expect((await heartbeat(g, refused)).status).toBe(200);
  const asked = await objectState(stub(g));
  const revokeBy = (asked.revocations as Record<string, number | null>).a!;
  expect(revokeBy).toBeGreaterThan(Date.now());
  await poisonWrites(stub(g), (memberId) => memberId.startsWith("poison"));
  let fenced: string | null = null;
  for (let i = 0; Date.now() < revokeBy + 4000 && fenced === null; i++) {
    expectUnavailable(
      await heartbeat(g, {
        memberId: `poison-${i}`,
        memberEpoch: 0,
        subscribedTopics: [{ name: "t", partitions: 4 }],
        ownedPartitions: [],
      }),
    );
    const res = await heartbeat(g, refused); // a keeps everything it owns and stays alive
    if (res.status !== 200) fenced = res.body.error.code;
    else {
      const now = await objectState(stub(g));
      expect((now.revocations as Record<string, number | null>).a).toBe(revokeBy);
    }
    expect((await beat(g, b)).status).toBe(200);
    await sleep(250);
  }
  expect(fenced).toMatch(/^(FENCED_MEMBER_EPOCH|UNKNOWN_MEMBER_ID)$/);
  const described = await call("GET", `/v1/groups/${g}`);
  expect(described.body.members.map((m: any) => m.memberId)).toEqual(["b"]);
});

it("an alarm that fails leaves memory and SQLite as they were and runs again later", async () => {
  const g = freshGroup("fail");
  const members = [await join(g, "a", { t: 4 }), await join(g, "doomed", { t: 4 })];
  await settle(g, members);
  await poisonWrites(stub(g), (memberId) => memberId === "doomed");
  // a keeps heartbeating; doomed goes silent and its session (1.5 s) passes.
  const until = Date.now() + 1900;
  while (Date.now() < until) {
    await beat(g, members[0]!);
    await sleep(300);
  }
  const before = await objectState(stub(g));
  expect(before.nextDeadline as number).toBeLessThan(Date.now());
  const ran = await runDurableObjectAlarm(stub(g)).catch((err: unknown) => String(err));
  expect(ran).toBe(true);
  const after = await objectState(stub(g));
  // The alarm fenced nobody: memory still holds doomed, as SQLite does, with the same deadlines.
  expect({ ...after, alarm: null }).toEqual({ ...before, alarm: null });
  // ... and it is armed again, at least a second out (a failing alarm must not loop hot).
  expect(after.alarm as number).toBeGreaterThan(Date.now() + 500);
  // The group did not come back as a new life: a's steady heartbeat still writes nothing.
  const rows = (await stub(g).stats()).rowsWritten;
  expect((await beat(g, members[0]!)).status).toBe(200);
  expect((await stub(g).stats()).rowsWritten).toBe(rows);
  await curePoison(stub(g));
  expect(await runDurableObjectAlarm(stub(g))).toBe(true);
  const described = await call("GET", `/v1/groups/${g}`);
  expect(described.body.members.map((m: any) => m.memberId)).toEqual(["a"]);
  expect((await objectState(stub(g))).memberRows).toHaveLength(1);
});
