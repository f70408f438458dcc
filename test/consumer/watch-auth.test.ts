/**
 * The watch socket's authentication (API.md §2, §5): the token's `exp` binds the socket (a message
 * after it is answered UNAUTHENTICATED and the socket closed 4001, before it can act; a silent socket
 * gets no push and is closed at the object's alarm), and a browser may send the token as the
 * `cohort.bearer.<JWT>` subprotocol, answered `cohort.v1`. Nothing accepts a token in the URL.
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { sign } from "hono/jwt";
import { expect, it } from "vitest";
import { call, freshGroup, token } from "../integration/helpers";
import { beat, join, type Member, settle, sleep, stub } from "./consumer-helpers";
import { closeOf, mustWatch, openWatch, type WatchClient } from "./watch-client";

/** A token that expires in two to three seconds (JWT `exp` has a resolution of seconds). */
async function shortToken(): Promise<{ jwt: string; expiresAt: number }> {
  const exp = Math.floor(Date.now() / 1000) + 3;
  return { jwt: await token({ exp }), expiresAt: exp * 1000 };
}

/** Keeps the members' sessions alive over HTTP (with a long-lived token) until `until`. */
async function keepAlive(g: string, members: Member[], until: number): Promise<void> {
  while (Date.now() <= until) {
    for (const m of members) expect((await beat(g, m)).status).toBe(200);
    await sleep(200);
  }
}

function expectUnauthenticated(message: any): void {
  expect(message).toMatchObject({ type: "error", error: { code: "UNAUTHENTICATED", kafkaCode: null } });
  expect(typeof message.error.message).toBe("string");
}

it("answers a message sent after exp with UNAUTHENTICATED and closes 4001, without acting on it", async () => {
  const g = freshGroup("wa");
  const a = await join(g, "a", { t: 2 });
  const { jwt, expiresAt } = await shortToken();
  const socket = await mustWatch(g, "a", { token: jwt });
  expect((await socket.next()).type).toBe("assignment");
  // Before exp the socket works.
  socket.send({ type: "heartbeat", memberEpoch: a.memberEpoch, ownedPartitions: a.owned });
  expect((await socket.next()).type).toBe("heartbeat");

  await keepAlive(g, [a], expiresAt - 400);
  while (Date.now() < expiresAt + 20) await sleep(10);
  // A leave after exp must not be carried out. (The object's alarm, due every session timeout here,
  // may have closed the expired socket a moment before: then it sent the same error and close.)
  try {
    socket.send({ type: "heartbeat", memberEpoch: -1 });
  } catch {
    expect(socket.closeCode()).toBe(4001);
  }
  expectUnauthenticated(await socket.next());
  expect((await closeOf(socket)).code).toBe(4001);
  const described = await call("GET", `/v1/groups/${g}`);
  expect(described.body.members.map((m: any) => m.memberId)).toEqual(["a"]);
});

it("sends no push after exp and closes a silent expired socket at the object's alarm", async () => {
  const g = freshGroup("wa");
  const a = await join(g, "a", { t: 4 });
  const c = await join(g, "c", { t: 4 });
  await settle(g, [a, c]);
  // JWT exp has a resolution of seconds: c's token expires in 2–3 s, a's in 5–6 s.
  const now = Math.floor(Date.now() / 1000);
  const silent = await mustWatch(g, "c", { token: await token({ exp: now + 3 }) });
  const pushed = await mustWatch(g, "a", { token: await token({ exp: now + 6 }) });
  expect((await silent.next()).type).toBe("assignment");
  expect((await pushed.next()).type).toBe("assignment");

  // c's socket sends nothing: the alarm closes it, and leaves a's (still valid) socket open.
  await keepAlive(g, [a, c], (now + 3) * 1000 + 50);
  await runDurableObjectAlarm(stub(g));
  expectUnauthenticated(await silent.next());
  expect((await closeOf(silent)).code).toBe(4001);
  expect(pushed.closeCode()).toBeNull();

  // b's join moves a's assignment: the push must not reach a socket whose token expired.
  await keepAlive(g, [a, c], (now + 6) * 1000 + 50);
  await join(g, "b", { t: 4 });
  expectUnauthenticated(await pushed.next());
  expect((await closeOf(pushed)).code).toBe(4001);
  for (const s of [silent, pushed]) expect(s.messages.map((m) => m.type)).toEqual(["assignment", "error"]);
});

it("accepts the token as the cohort.bearer subprotocol and answers cohort.v1", async () => {
  const g = freshGroup("wa");
  const a = await join(g, "a", { t: 2 });
  const jwt = await token({ groups: [g], scope: "consume" });
  const up = await openWatch(g, "a", { token: null, protocols: ["cohort.v1", `cohort.bearer.${jwt}`] });
  expect({ status: up.status, protocol: up.protocol }).toEqual({ status: 101, protocol: "cohort.v1" });
  const socket = up.socket as WatchClient;
  expect(await socket.next()).toMatchObject({ type: "assignment", memberEpoch: a.memberEpoch });
  socket.send({ type: "heartbeat", memberEpoch: a.memberEpoch, ownedPartitions: a.owned });
  expect(await socket.next()).toMatchObject({ type: "heartbeat", memberId: "a" });
  socket.close();

  // Header authentication offers no subprotocol and gets none.
  const plain = await openWatch(g, "a");
  expect({ status: plain.status, protocol: plain.protocol }).toEqual({ status: 101, protocol: null });
  plain.socket?.close();
});

it("refuses forged, expired, misdirected and badly offered subprotocol tokens", async () => {
  const g = freshGroup("wa");
  await join(g, "a", { t: 2 });
  const bearer = (jwt: string) => ["cohort.v1", `cohort.bearer.${jwt}`];
  const forged = await sign(
    { exp: Math.floor(Date.now() / 1000) + 3600, groups: ["*"], scope: "admin" },
    "x",
  );
  const expired = await token({ exp: Math.floor(Date.now() / 1000) - 10 });
  const otherGroup = await token({ groups: ["elsewhere"], scope: "consume" });
  const describeOnly = await token({ scope: "describe" });
  const valid = await token();

  const cases: [string, Parameters<typeof openWatch>[2], number, string][] = [
    ["forged", { token: null, protocols: bearer(forged) }, 401, "UNAUTHENTICATED"],
    ["expired", { token: null, protocols: bearer(expired) }, 401, "UNAUTHENTICATED"],
    ["another group", { token: null, protocols: bearer(otherGroup) }, 403, "GROUP_AUTHORIZATION_FAILED"],
    ["no consume scope", { token: null, protocols: bearer(describeOnly) }, 403, "GROUP_AUTHORIZATION_FAILED"],
    ["no cohort.v1", { token: null, protocols: [`cohort.bearer.${valid}`] }, 400, "INVALID_REQUEST"],
    ["a foreign subprotocol", { protocols: ["chat"] }, 400, "INVALID_REQUEST"],
    [
      "two tokens",
      { token: null, protocols: [...bearer(valid), `cohort.bearer.${valid}`] },
      400,
      "INVALID_REQUEST",
    ],
    ["header and subprotocol", { protocols: bearer(valid) }, 400, "INVALID_REQUEST"],
    ["an empty token", { token: null, protocols: ["cohort.v1", "cohort.bearer."] }, 401, "UNAUTHENTICATED"],
    ["only cohort.v1", { token: null, protocols: ["cohort.v1"] }, 401, "UNAUTHENTICATED"],
    ["a token in the query", { token: null, query: `access_token=${valid}` }, 400, "INVALID_REQUEST"],
    ["a token in the query beside the header", { query: `token=${valid}` }, 400, "INVALID_REQUEST"],
  ];
  for (const [name, opts, status, code] of cases) {
    const up = await openWatch(g, "a", opts);
    const kafkaCode = status === 403 ? 30 : status === 400 ? 42 : null;
    expect({ name, status: up.status, error: up.body?.error, socket: up.socket }).toEqual({
      name,
      status,
      error: { code, kafkaCode, message: expect.any(String) },
      socket: null,
    });
  }
});
