/**
 * A removed member's sockets (API.md §5): expired by the alarm, left with −1 (over HTTP or over the
 * socket itself) or replaced as a static member, it gets `{"type":"fenced"}` with the code its next
 * heartbeat would get, and every socket of it is closed 4000. And the caps: a watch only for a member
 * of the consumer group, at most 4 per member (a fifth replaces the oldest, closed 4002), and at most
 * 2 × GROUP_MAX_SIZE per object (409 GROUP_MAX_SIZE_REACHED; this project sets GROUP_MAX_SIZE=16).
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { expect, it } from "vitest";
import { joinNew } from "../classic/members";
import { call, freshGroup } from "../integration/helpers";
import { beat, heartbeat, join, type Member, sleep, stub } from "./consumer-helpers";
import { closeOf, mustWatch, openWatch, type WatchClient } from "./watch-client";

async function expectFenced(socket: WatchClient, code: string): Promise<void> {
  let last = await socket.next();
  while (last.type === "assignment") last = await socket.next();
  expect(last).toEqual({ type: "fenced", code, message: expect.any(String) });
  expect((await closeOf(socket)).code).toBe(4000);
}

it("tells a member fenced by its session timeout, at the alarm, and closes its sockets 4000", async () => {
  const g = freshGroup("wf");
  await join(g, "a", { t: 2 });
  const sockets = [await mustWatch(g, "a"), await mustWatch(g, "a")];
  await sleep(1700); // CONSUMER_SESSION_TIMEOUT_MS is 1500 here
  await runDurableObjectAlarm(stub(g));
  for (const s of sockets) await expectFenced(s, "UNKNOWN_MEMBER_ID");
  expect(sockets[0]!.messages.at(-1).message).toMatch(/session timeout/);
  // The member's next heartbeat gets what the notice said.
  const next = await heartbeat(g, { memberId: "a", memberEpoch: 1 });
  expect(next.body.error.code).toBe("UNKNOWN_MEMBER_ID");
});

it("tells a member that left with -1, over HTTP or over its own socket, after answering it", async () => {
  const g = freshGroup("wf");
  await join(g, "a", { t: 2 });
  await join(g, "b", { t: 2 });
  const aSocket = await mustWatch(g, "a");
  const bSocket = await mustWatch(g, "b");
  expect((await heartbeat(g, { memberId: "a", memberEpoch: -1 })).status).toBe(200);
  await expectFenced(aSocket, "UNKNOWN_MEMBER_ID");
  expect(aSocket.messages.at(-1).message).toMatch(/left/);

  // b leaves over its own socket: the answer first (after any push of a's leave), then the notice.
  bSocket.send({ type: "heartbeat", memberEpoch: -1 });
  let reply = await bSocket.next();
  while (reply.type === "assignment") reply = await bSocket.next();
  expect(reply).toMatchObject({ type: "heartbeat", memberId: "b", memberEpoch: -1 });
  await expectFenced(bSocket, "UNKNOWN_MEMBER_ID");
});

it("tells a replaced static member FENCED_INSTANCE_ID", async () => {
  const g = freshGroup("wf");
  await join(g, "a", { t: 2 }, { groupInstanceId: "i1" });
  const socket = await mustWatch(g, "a");
  expect((await socket.next()).type).toBe("assignment");
  expect((await heartbeat(g, { memberId: "a", memberEpoch: -2, groupInstanceId: "i1" })).status).toBe(200);
  await join(g, "a2", { t: 2 }, { groupInstanceId: "i1" });
  await expectFenced(socket, "FENCED_INSTANCE_ID");
  const next = await heartbeat(g, { memberId: "a", memberEpoch: 1, groupInstanceId: "i1" });
  expect(next.status).toBe(409);
});

it("opens a watch only for a member of the group", async () => {
  const g = freshGroup("wf");
  const none = await openWatch(g, "ghost");
  expect({ status: none.status, code: none.body.error.code }).toEqual({
    status: 409,
    code: "UNKNOWN_MEMBER_ID",
  });
  await join(g, "a", { t: 2 });
  const ghost = await openWatch(g, "ghost");
  expect({ status: ghost.status, code: ghost.body.error.code }).toEqual({
    status: 409,
    code: "UNKNOWN_MEMBER_ID",
  });
  (await mustWatch(g, "a")).close();

  // A classic group's members do not speak the consumer protocol.
  const c = freshGroup("wf");
  const joining = joinNew(c); // parked for GROUP_INITIAL_REBALANCE_DELAY_MS
  let members: unknown[] = [];
  while (members.length === 0) {
    await sleep(50);
    members = (await call("GET", `/v1/groups/${c}`)).body.members ?? [];
  }
  const classic = await openWatch(c, (members[0] as { memberId: string }).memberId);
  expect({ status: classic.status, code: classic.body.error.code }).toEqual({
    status: 409,
    code: "INCONSISTENT_GROUP_PROTOCOL",
  });
  expect((await joining).status).toBe(200);
});

it("keeps at most 4 sockets per member (a newer one replaces the oldest) and 2 × GROUP_MAX_SIZE per object", async () => {
  const g = freshGroup("wf");
  const members: Member[] = [];
  // Sessions are 1.5 s here: keep every member alive (those joined so far) while the sockets open.
  let beating = true;
  const beater = (async () => {
    while (beating) {
      for (const m of [...members]) await beat(g, m);
      await sleep(100);
    }
  })();
  for (let i = 0; i < 9; i++) members.push(await join(g, `m${i}`, { t: 16 }));
  try {
    const first = await mustWatch(g, "m0");
    const more = [await mustWatch(g, "m0"), await mustWatch(g, "m0"), await mustWatch(g, "m0")];
    const fifth = await mustWatch(g, "m0");
    expect((await closeOf(first)).code).toBe(4002);
    for (const s of [...more, fifth]) expect(s.closeCode()).toBeNull();

    // 7 more members × 4 sockets fill the object's 32: a member with none is refused.
    for (const m of members.slice(1, 8)) for (let i = 0; i < 4; i++) await mustWatch(g, m.memberId);
    const over = await openWatch(g, "m8");
    expect({ status: over.status, error: over.body.error }).toEqual({
      status: 409,
      error: { code: "GROUP_MAX_SIZE_REACHED", kafkaCode: 81, message: expect.any(String) },
    });
    // A member at its own cap still replaces its oldest socket: the object's count does not grow.
    const replacing = await mustWatch(g, "m0");
    expect((await closeOf(more[0]!)).code).toBe(4002);
    expect(replacing.closeCode()).toBeNull();
  } finally {
    beating = false;
    await beater;
  }
  const described = await call("GET", `/v1/groups/${g}`);
  expect(described.body.members).toHaveLength(9);
});
