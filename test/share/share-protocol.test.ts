/**
 * Share groups over HTTP (API.md §7): the heartbeat (join with a generated id, the simple assignor
 * sharing a partition, fencing, leave), acquire (oldest first, within the largest reported log end,
 * under locks, never the same offset to two members, unassigned partitions skipped, piggybacked
 * acknowledgements first, logStartOffset archiving) and acknowledge (each type, all-or-nothing per
 * entry with INVALID_RECORD_STATE, the delivery limit), and protocol calls across group types
 * (409 INCONSISTENT_GROUP_PROTOCOL both ways). Settings: vitest.config.ts workers-share.
 */

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { join } from "../consumer/consumer-helpers";
import { call, commit, expectError, freshGroup, token } from "../integration/helpers";
import {
  ack,
  acknowledge,
  acquire,
  archived,
  beatShare,
  DELIVERY_LIMIT,
  joinShare,
  LOCK_MS,
  offsetsOf,
  shareHeartbeat,
  sharePartition,
  take,
} from "./share-helpers";

describe("heartbeat", () => {
  it("joins with a generated id, heartbeats at its epoch, is fenced otherwise, and leaves", async () => {
    const g = freshGroup("hb");
    const res = await shareHeartbeat(g, { memberEpoch: 0, subscribedTopics: [{ name: "t", partitions: 2 }] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const { memberId, memberEpoch, heartbeatIntervalMs, assignment } = res.body;
    expect(memberId).toMatch(/.+/);
    expect(memberEpoch).toBeGreaterThan(0);
    expect(heartbeatIntervalMs).toBe(500);
    expect(assignment.partitions).toEqual([{ topic: "t", partitions: [0, 1] }]);
    expect((await shareHeartbeat(g, { memberId, memberEpoch })).status).toBe(200);
    expectError(
      await shareHeartbeat(g, { memberId, memberEpoch: memberEpoch + 1 }),
      409,
      "FENCED_MEMBER_EPOCH",
      110,
    );
    expectError(await shareHeartbeat(g, { memberId: "ghost", memberEpoch: 1 }), 409, "UNKNOWN_MEMBER_ID", 25);
    const described = await call("GET", `/v1/groups/${g}`);
    expect(described.body).toMatchObject({ type: "share", state: "Stable" });
    expect(described.body.members.map((m: any) => m.memberId)).toEqual([memberId]);
    const left = await shareHeartbeat(g, { memberId, memberEpoch: -1 });
    expect(left.status, JSON.stringify(left.body)).toBe(200);
    expect(left.body.memberEpoch).toBe(-1);
    // It held no share-partition state: the group is gone with its last member.
    expectError(await call("GET", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
  });

  it("shares one partition among all members, each told at its own heartbeat", async () => {
    const g = freshGroup("hb");
    const members = [
      await joinShare(g, { t: 1 }, "a"),
      await joinShare(g, { t: 1 }, "b"),
      await joinShare(g, { t: 1 }, "c"),
    ];
    for (const m of members) expect((await beatShare(g, m)).status).toBe(200);
    for (const m of members) expect(m.assigned).toEqual([{ topic: "t", partitions: [0] }]);
    const described = await call("GET", `/v1/groups/${g}`);
    expect(described.body.members.map((m: any) => m.assignment)).toEqual(
      members.map(() => [{ topic: "t", partitions: [0] }]),
    );
  });
});

describe("acquire and acknowledge", () => {
  it("hands out offsets oldest first within the log end, under locks, never to two members", async () => {
    const g = freshGroup("acq");
    const a = await joinShare(g, { t: 1 }, "a");
    const b = await joinShare(g, { t: 1 }, "b");
    const first = await take(g, a, [{ partition: 0, logEndOffset: 20 }], { maxRecords: 5 });
    expect(first.body.acquisitionLockTimeoutMs).toBe(LOCK_MS);
    expect(first.body.records).toEqual([
      { topic: "t", partition: 0, firstOffset: 0, lastOffset: 4, deliveryCount: 1 },
    ]);
    // b reports a smaller log end: the largest reported wins.
    const second = await take(g, b, [{ partition: 0, logEndOffset: 10 }]);
    expect(offsetsOf(second.body.records)).toEqual(
      offsetsOf([{ topic: "t", partition: 0, firstOffset: 5, lastOffset: 19 }]),
    );
    expect((await take(g, a, [])).body.records).toEqual([]);
    expectError(await acquire(g, { memberId: "ghost", maxRecords: 1 }), 409, "UNKNOWN_MEMBER_ID", 25);
    const p = await sharePartition(g);
    expect(p).toMatchObject({
      startOffset: 0,
      endOffset: 20,
      logEndOffset: 20,
      acquired: 20,
      available: 0,
      lag: 20,
    });
  });

  it("applies accept, release, reject and renew, each entry all-or-nothing", async () => {
    const g = freshGroup("ack");
    const a = await joinShare(g, { t: 1 }, "a");
    const b = await joinShare(g, { t: 1 }, "b");
    await take(g, a, [{ partition: 0, logEndOffset: 10 }], { maxRecords: 5 }); // a: 0-4
    await take(g, b, [], { maxRecords: 5 }); // b: 5-9
    const r = (first: number, last: number, type: string) => ({
      topic: "t",
      partition: 0,
      firstOffset: first,
      lastOffset: last,
      type,
    });
    const res = await acknowledge(g, {
      memberId: "a",
      acknowledgements: [
        r(0, 1, "accept"),
        r(2, 2, "release"),
        r(3, 3, "reject"),
        r(4, 4, "renew"),
        r(4, 5, "accept"),
        r(0, 0, "accept"),
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const errors = res.body.acknowledgements.map((x: any) => x.error?.code ?? null);
    expect(errors).toEqual([null, null, null, null, "INVALID_RECORD_STATE", "INVALID_RECORD_STATE"]);
    expect(res.body.acknowledgements[4]).toMatchObject({
      firstOffset: 4,
      lastOffset: 5,
      error: { kafkaCode: 121 },
    });
    // The refused 4-5 changed nothing: 4 is still a's (it can accept it), 5 still b's.
    const again = await acknowledge(g, { memberId: "a", acknowledgements: [r(4, 4, "accept")] });
    expect(again.body.acknowledgements[0].error).toBeNull();
    expect(
      (await acknowledge(g, { memberId: "b", acknowledgements: [r(5, 5, "accept")] })).body
        .acknowledgements[0].error,
    ).toBeNull();
    // 2 was released: available again, with its count raised at the next delivery.
    expect((await take(g, b, [])).body.records).toEqual([
      { topic: "t", partition: 0, firstOffset: 2, lastOffset: 2, deliveryCount: 2 },
    ]);
    const listed = await archived(g);
    expect(listed.body.ranges).toEqual([
      expect.objectContaining({ firstOffset: 3, lastOffset: 3, reason: "rejected", deliveryCount: 1 }),
    ]);
    expect(await sharePartition(g)).toMatchObject({
      startOffset: 2,
      acquired: 5,
      acknowledged: 2,
      archived: 1,
    });
    expectError(
      await acknowledge(g, { memberId: "ghost", acknowledgements: [r(6, 6, "accept")] }),
      409,
      "UNKNOWN_MEMBER_ID",
      25,
    );
  });

  it("applies piggybacked acknowledgements before acquiring, and archives at the delivery limit", async () => {
    const g = freshGroup("limit");
    const a = await joinShare(g, { t: 1 }, "a");
    let held = (await take(g, a, [{ partition: 0, logEndOffset: 1 }])).body.records;
    for (let delivery = 1; delivery < DELIVERY_LIMIT; delivery++) {
      expect(held).toEqual([
        { topic: "t", partition: 0, firstOffset: 0, lastOffset: 0, deliveryCount: delivery },
      ]);
      const res = await take(g, a, [], { acknowledgements: ack(held, "release") });
      expect(res.body.acknowledgements).toEqual([
        { topic: "t", partition: 0, firstOffset: 0, lastOffset: 0, error: null },
      ]);
      held = res.body.records;
    }
    // The last delivery released: archived at the limit instead of delivered again.
    const last = await take(g, a, [], { acknowledgements: ack(held, "release") });
    expect(last.body.records).toEqual([]);
    expect((await archived(g)).body.ranges).toEqual([
      expect.objectContaining({
        firstOffset: 0,
        lastOffset: 0,
        reason: "delivery_limit",
        deliveryCount: DELIVERY_LIMIT,
      }),
    ]);
    expect(await sharePartition(g)).toMatchObject({ startOffset: 1, lag: 0 });
  });

  it("skips partitions not assigned to the member and archives below a reported log start", async () => {
    const g = freshGroup("skip");
    const a = await joinShare(g, { t: 1 }, "a");
    const res = await take(g, a, [{ topic: "other", partition: 0, logEndOffset: 50 }]);
    expect(res.body.records).toEqual([]);
    const described = await call("GET", `/v1/groups/${g}`);
    expect(described.body.partitions.filter((p: any) => p.topic === "other")).toEqual([]);
    const held = (await take(g, a, [{ partition: 0, logEndOffset: 10 }], { maxRecords: 6 })).body.records;
    const released = [{ topic: "t", partition: 0, firstOffset: 2, lastOffset: 5 }];
    await acknowledge(g, { memberId: "a", acknowledgements: ack(released, "release") });
    // The log was truncated to 8: in flight below it, 2-5 (available) and 0-1 (acquired: their locks
    // end) are archived; 6-7, never handed out, are skipped (as Kafka's SharePartition does).
    const truncated = await take(g, a, [{ partition: 0, logStartOffset: 8, logEndOffset: 10 }], {
      maxRecords: 10,
    });
    expect(truncated.body.records).toEqual([
      { topic: "t", partition: 0, firstOffset: 8, lastOffset: 9, deliveryCount: 1 },
    ]);
    const reasons = (await archived(g)).body.ranges.map((x: any) => x.reason);
    expect(new Set(reasons)).toEqual(new Set(["log_start"]));
    expect(offsetsOf((await archived(g)).body.ranges)).toEqual(
      offsetsOf([{ topic: "t", partition: 0, firstOffset: 0, lastOffset: 5 }]),
    );
    expect(held).toEqual([{ topic: "t", partition: 0, firstOffset: 0, lastOffset: 5, deliveryCount: 1 }]);
    expect(await sharePartition(g)).toMatchObject({ startOffset: 8 });
    expect(
      (
        await acknowledge(g, {
          memberId: "a",
          acknowledgements: ack([{ topic: "t", partition: 0, firstOffset: 0, lastOffset: 0 }], "accept"),
        })
      ).body.acknowledgements[0].error.code,
    ).toBe("INVALID_RECORD_STATE");
  });
});

describe("across group types", () => {
  it("refuses consumer, classic and commit calls on a share group, and share heartbeats on other groups", async () => {
    const g = freshGroup("types");
    await joinShare(g, { t: 1 }, "a");
    const inconsistent = (r: any) => expectError(r, 409, "INCONSISTENT_GROUP_PROTOCOL", 23);
    inconsistent(
      await call("POST", `/v1/groups/${g}/heartbeat`, {
        memberEpoch: 0,
        subscribedTopics: [{ name: "t", partitions: 1 }],
        ownedPartitions: [],
      }),
    );
    inconsistent(
      await call("POST", `/v1/groups/${g}/classic/join`, {
        memberId: "",
        sessionTimeoutMs: 10_000,
        protocolType: "consumer",
        protocols: [{ name: "range", metadata: "{}" }],
      }),
    );
    inconsistent(await call("POST", `/v1/groups/${g}/classic/heartbeat`, { memberId: "a", generationId: 1 }));
    inconsistent(await commit(g, [{ topic: "t", partition: 0, offset: 1 }]));
    inconsistent(
      await commit(g, [{ topic: "t", partition: 0, offset: 1 }], { memberId: "a", memberEpoch: 1 }),
    );
    const upgrade = await exports.default.fetch(`http://cohort.test/v1/groups/${g}/members/a/watch`, {
      headers: { upgrade: "websocket", authorization: `Bearer ${await token()}` },
    });
    expect(upgrade.status).toBe(409);
    expect(((await upgrade.json()) as any).error.code).toBe("INCONSISTENT_GROUP_PROTOCOL");
    const consumer = freshGroup("types");
    await join(consumer, "c", { t: 1 });
    inconsistent(
      await shareHeartbeat(consumer, { memberEpoch: 0, subscribedTopics: [{ name: "t", partitions: 1 }] }),
    );
    const simple = freshGroup("types");
    await commit(simple, [{ topic: "t", partition: 0, offset: 1 }]);
    inconsistent(
      await shareHeartbeat(simple, { memberEpoch: 0, subscribedTopics: [{ name: "t", partitions: 1 }] }),
    );
    // The share group kept its member and type; the others theirs.
    expect((await call("GET", `/v1/groups/${g}`)).body).toMatchObject({
      type: "share",
      members: [expect.objectContaining({ memberId: "a" })],
    });
    expect((await call("GET", `/v1/groups/${consumer}`)).body.type).toBe("consumer");
    expect((await call("GET", `/v1/groups/${simple}/offsets/t/0`)).body.offset).toBe(1);
  });

  it("refuses an Empty share group that holds state to other protocols as well", async () => {
    const g = freshGroup("types");
    const a = await joinShare(g, { t: 1 }, "a");
    await take(g, a, [{ partition: 0, logEndOffset: 3 }]);
    expect((await shareHeartbeat(g, { memberId: "a", memberEpoch: -1 })).status).toBe(200);
    expect((await call("GET", `/v1/groups/${g}`)).body).toMatchObject({ type: "share", state: "Empty" });
    expectError(
      await call("POST", `/v1/groups/${g}/heartbeat`, {
        memberEpoch: 0,
        subscribedTopics: [{ name: "t", partitions: 1 }],
        ownedPartitions: [],
      }),
      409,
      "INCONSISTENT_GROUP_PROTOCOL",
      23,
    );
    expectError(
      await commit(g, [{ topic: "t", partition: 0, offset: 1 }]),
      409,
      "INCONSISTENT_GROUP_PROTOCOL",
      23,
    );
    expect(await sharePartition(g)).toMatchObject({ startOffset: 0, available: 3 });
  });
});
