/**
 * The watch WebSocket (API.md §5) on the Hibernation API: pushes that arrive without the member
 * heartbeating, in the same event that moves its target or hands it partitions, heartbeats as messages,
 * a closed socket that does not drop the member, and hostile messages answered with an error (the
 * `{"type":"error"}` body) while the object keeps serving.
 */

import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";
import { call, freshGroup, token } from "../integration/helpers";
import { join, partitionsOf, watch } from "./consumer-helpers";
import { mustWatch } from "./watch-client";

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

it("answers hostile socket messages with an error and keeps serving the member", async () => {
  const g = freshGroup("w");
  const a = await join(g, "a", { t: 2 });
  const socket = await mustWatch(g, "a");
  expect((await socket.next()).type).toBe("assignment");
  const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
  const hostile: (string | Uint8Array)[] = [
    "not json",
    "null",
    "123",
    '"heartbeat"',
    deep,
    `{"type":"heartbeat","memberEpoch":1,"ownedPartitions":${deep}}`,
    '{"type":"heartbeat"}',
    '{"type":"__proto__","memberEpoch":1}',
    '{"type":"heartbeat","memberEpoch":"1"}',
    '{"type":"heartbeat","memberEpoch":1e400}',
    '{"__proto__":{"memberEpoch":1},"type":"heartbeat"}',
    JSON.stringify({ type: "heartbeat", memberEpoch: 1, clientId: "x".repeat(900_000) }),
    new Uint8Array([0xff, 0xfe, 0x00, 0x7b]),
  ];
  for (const message of hostile) {
    socket.sendRaw(message);
    const reply = await socket.next();
    expect(reply, String(message).slice(0, 60)).toMatchObject({
      type: "error",
      error: { code: "INVALID_REQUEST", kafkaCode: 42 },
    });
  }
  // The object still serves the member, on the same socket.
  socket.send({ type: "heartbeat", memberEpoch: a.memberEpoch, ownedPartitions: a.owned });
  expect(await socket.next()).toMatchObject({ type: "heartbeat", memberId: "a", memberEpoch: a.memberEpoch });
  expect(socket.closeCode()).toBeNull();
  socket.close();
});

it("answers an upgrade whose member id is not percent-encoded UTF-8 with a 4xx, not a 5xx", async () => {
  const g = freshGroup("w");
  await join(g, "a", { t: 1 });
  for (const raw of ["%zz", "%ED%A0%80", "%C0%AF"]) {
    const res = await exports.default.fetch(`http://cohort.test/v1/groups/${g}/members/${raw}/watch`, {
      headers: { Upgrade: "websocket", authorization: `Bearer ${await token()}` },
    });
    expect({ raw, status: res.status, ws: res.webSocket ?? null }).toEqual({ raw, status: 409, ws: null });
    expect((await res.json<any>()).error.code).toBe("UNKNOWN_MEMBER_ID");
  }
});
