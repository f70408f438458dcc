/**
 * The §3 and §6 answers that need a group with members (made here with one consumer-protocol
 * heartbeat): NON_EMPTY_GROUP for delete and reset, GROUP_SUBSCRIBED_TO_TOPIC for OffsetDelete,
 * UNKNOWN_MEMBER_ID for a simple commit, describe and lag naming the member. Refusals change nothing.
 */

import { describe, expect, it } from "vitest";
import { call, commit, expectError, freshGroup, LIST_LAG } from "./helpers";

async function groupWithMember(): Promise<{ g: string; memberId: string; memberEpoch: number }> {
  const g = freshGroup("m");
  const res = await call("POST", `/v1/groups/${g}/heartbeat`, {
    memberId: "worker-1",
    memberEpoch: 0,
    clientId: "svc",
    subscribedTopics: [{ name: "orders", partitions: 2 }],
    ownedPartitions: [],
  });
  expect(res.status).toBe(200);
  return { g, memberId: res.body.memberId, memberEpoch: res.body.memberEpoch };
}

describe("a group with members", () => {
  it("refuses to be deleted (409 NON_EMPTY_GROUP) and stays", async () => {
    const { g } = await groupWithMember();
    expectError(await call("DELETE", `/v1/groups/${g}`), 409, "NON_EMPTY_GROUP", 68);
    expect((await call("GET", `/v1/groups/${g}`)).body.members).toHaveLength(1);
  });

  it("refuses an offsets reset (409 NON_EMPTY_GROUP), also as a dry run, and keeps the offsets", async () => {
    const { g, memberId, memberEpoch } = await groupWithMember();
    expect(
      (await commit(g, [{ topic: "orders", partition: 0, offset: 9 }], { memberId, memberEpoch })).status,
    ).toBe(200);
    for (const dryRun of [true, false]) {
      const res = await call("POST", `/v1/groups/${g}/offsets/reset`, {
        topic: "orders",
        to: "earliest",
        dryRun,
      });
      expectError(res, 409, "NON_EMPTY_GROUP", 68);
    }
    expect((await call("GET", `/v1/groups/${g}/offsets/orders/0`)).body.offset).toBe(9);
  });

  it("refuses OffsetDelete of a subscribed topic but deletes another topic's offsets", async () => {
    const { g, memberId, memberEpoch } = await groupWithMember();
    await commit(
      g,
      [
        { topic: "orders", partition: 0, offset: 1 },
        { topic: "legacy", partition: 0, offset: 2 },
      ],
      { memberId, memberEpoch },
    );
    expectError(await call("DELETE", `/v1/groups/${g}/offsets/orders`), 409, "GROUP_SUBSCRIBED_TO_TOPIC", 86);
    expect(await call("DELETE", `/v1/groups/${g}/offsets/legacy`)).toMatchObject({
      status: 200,
      body: { deleted: 1 },
    });
    expect((await call("GET", `/v1/groups/${g}/offsets`)).body.offsets.map((o: any) => o.topic)).toEqual([
      "orders",
    ]);
  });

  it("refuses a simple commit (409 UNKNOWN_MEMBER_ID) and a commit from an unknown member", async () => {
    const { g } = await groupWithMember();
    expectError(
      await commit(g, [{ topic: "orders", partition: 0, offset: 1 }]),
      409,
      "UNKNOWN_MEMBER_ID",
      25,
    );
    expectError(
      await commit(g, [{ topic: "orders", partition: 0, offset: 1 }], { memberId: "ghost", memberEpoch: 1 }),
      409,
      "UNKNOWN_MEMBER_ID",
      25,
    );
    expect((await call("GET", `/v1/groups/${g}/offsets`)).body.offsets).toEqual([]);
  });

  it("names the owning member in lag and lists the group with its state and size", async () => {
    const { g, memberId, memberEpoch } = await groupWithMember();
    await commit(g, [{ topic: "orders", partition: 1, offset: 5, logEndOffset: 8 }], {
      memberId,
      memberEpoch,
    });
    const lag = await call("GET", `/v1/groups/${g}/lag`);
    expect(lag.body.totalLag).toBe(3);
    expect(lag.body.partitions).toEqual([
      { topic: "orders", partition: 0, committedOffset: -1, logEndOffset: null, lag: null, memberId },
      { topic: "orders", partition: 1, committedOffset: 5, logEndOffset: 8, lag: 3, memberId },
    ]);
    const listed = async () =>
      (await call("GET", "/v1/groups?type=consumer")).body.groups.find((x: any) => x.groupId === g);
    await expect
      .poll(listed, LIST_LAG)
      .toEqual({ groupId: g, type: "consumer", state: "Stable", members: 1 });
  });
});
