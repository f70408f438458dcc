/**
 * The watch WebSocket (API.md §5) on the Hibernation API: pushes that arrive without the member
 * heartbeating, in the same event that moves its target or hands it partitions, heartbeats as messages,
 * and a closed socket that does not drop the member.
 */

import { expect, it } from "vitest";
import { call, freshGroup } from "../integration/helpers";
import { join, partitionsOf, watch } from "./consumer-helpers";

it("pushes target moves and hand-overs to members that did not heartbeat, and answers socket heartbeats", async () => {
  const g = freshGroup("w");
  const t0 = Date.now();
  const a = await join(g, "a", { t: 4 });
  const aSocket = await watch(g, "a");
  expect(await aSocket.next()).toEqual({
    type: "assignment",
    memberEpoch: 1,
    assignment: { partitions: a.owned },
  });

  // b joins over HTTP: a's target moved, and a push tells it so (at the epoch it has) without a
  // heartbeat of its own; its epoch and assignment move only in its own heartbeat's answer.
  const b = await join(g, "b", { t: 4 });
  expect(b.owned).toEqual([]);
  expect(await aSocket.next()).toEqual({
    type: "assignment",
    memberEpoch: 1,
    assignment: { partitions: a.owned },
    reconcile: true,
  });
  aSocket.send({ type: "heartbeat", memberEpoch: 1, ownedPartitions: a.owned });
  const revoke = await aSocket.next();
  expect(revoke).toMatchObject({ type: "heartbeat", memberEpoch: 1 });
  const kept = partitionsOf(revoke.assignment.partitions);
  expect(kept).toHaveLength(2);

  // b watches; a acknowledges over its socket; b's partitions are pushed in that same event.
  const bSocket = await watch(g, "b");
  expect(await bSocket.next()).toMatchObject({
    type: "assignment",
    memberEpoch: 2,
    assignment: { partitions: [] },
  });
  aSocket.send({ type: "heartbeat", memberEpoch: 1, ownedPartitions: revoke.assignment.partitions });
  expect(await aSocket.next()).toEqual({
    type: "heartbeat",
    memberId: "a",
    memberEpoch: 2,
    heartbeatIntervalMs: 500,
    assignment: revoke.assignment,
  });
  const handover = await bSocket.next();
  expect(handover.memberEpoch).toBe(2);
  expect([...kept, ...partitionsOf(handover.assignment.partitions)].sort()).toEqual([0, 1, 2, 3]);

  // Errors come back as the API.md §1 body; a socket cannot speak for another member.
  aSocket.send({ type: "heartbeat", memberId: "b", memberEpoch: 2 });
  expect((await aSocket.next()).error).toMatchObject({ code: "INVALID_REQUEST", kafkaCode: 42 });
  aSocket.send({ type: "heartbeat", memberEpoch: 9 });
  expect((await aSocket.next()).error).toMatchObject({ code: "FENCED_MEMBER_EPOCH", kafkaCode: 110 });

  console.log("watch steps took", Date.now() - t0, "ms");
  // Closing the socket does not drop the member.
  aSocket.close();
  bSocket.close();
  const described = await call("GET", `/v1/groups/${g}`);
  expect(described.body.members.map((m: any) => m.memberId).sort()).toEqual(["a", "b"]);
});

it("refuses a watch without a WebSocket upgrade, and without a token", async () => {
  const g = freshGroup("w");
  const plain = await call("GET", `/v1/groups/${g}/members/a/watch`);
  expect(plain.status).toBe(400);
  const anonymous = await call("GET", `/v1/groups/${g}/members/a/watch`, undefined, {
    token: null,
    headers: { Upgrade: "websocket" },
  });
  expect(anonymous.status).toBe(401);
});
