/**
 * The watch WebSocket (API.md §5) under hostile input, through a real socket (the Worker's fetch with
 * Upgrade): upgrades for hostile group and member ids, then hostile messages on an open socket — not
 * JSON, binary, nested 10,000 deep, duplicate keys, prototype keys, wrong types, numbers past every
 * bound, another member's id, epochs it was never given. Every upgrade is a 101 or an API.md §1 error
 * (never a 5xx); every message gets exactly one answer — a heartbeat response or a §1 error body, never
 * COORDINATOR_NOT_AVAILABLE — on a socket that stays open; and after each refused message every other
 * member's deadlines, the describe output and the rows are unchanged.
 */

import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";
import { ERRORS } from "../../src/core/errors";
import { join, type Member, settle } from "../consumer/consumer-helpers";
import { others, snapshot } from "./fuzz-state";
import { contractProblem, deepJson, PROTO_KEYS, pool, Tally, UNICODE_HOSTILE } from "./fuzz-values";
import { freshGroup, token } from "./helpers";

interface Socket {
  /** The next message that is not an assignment push (waits up to `ms`); null if none came. */
  reply(ms?: number): Promise<any | null>;
  send(data: string | ArrayBuffer): void;
  closedWith(): number | null;
  close(): void;
}

async function open(path: string): Promise<{ status: number; text: string; socket?: Socket }> {
  const res = await exports.default.fetch(`http://cohort.test${path}`, {
    headers: { Upgrade: "websocket", authorization: `Bearer ${await token()}` },
  });
  const ws = res.webSocket;
  if (!ws) return { status: res.status, text: await res.text() };
  ws.accept();
  const inbox: any[] = [];
  let closed: number | null = null;
  let wake: (() => void) | null = null;
  ws.addEventListener("message", (e) => {
    inbox.push(typeof e.data === "string" ? JSON.parse(e.data) : { binary: true });
    wake?.();
  });
  ws.addEventListener("close", (e) => {
    closed = e.code;
    wake?.();
  });
  const socket: Socket = {
    async reply(ms = 5000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const i = inbox.findIndex((m) => m.type !== "assignment");
        if (i >= 0) return inbox.splice(i, 1)[0];
        if (closed !== null || Date.now() > deadline) return null;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
    send: (data) => ws.send(data),
    closedWith: () => closed,
    close: () => ws.close(1000, "done"),
  };
  return { status: res.status, text: "", socket };
}

const encode = (s: string): string => {
  try {
    return encodeURIComponent(s);
  } catch {
    return "%ED%A0%80";
  }
};

it("answers upgrades for hostile group and member ids with a 101 or an API.md §1 error", async () => {
  const tally = new Tally();
  const ids = [
    ...PROTO_KEYS,
    ...UNICODE_HOSTILE,
    "m".repeat(256),
    "m".repeat(257),
    "%ED%A0%80",
    "%zz",
    "%2F",
  ];
  const paths = [
    ...ids.map((id) => `/v1/groups/fuzz-watch/members/${id.startsWith("%") ? id : encode(id)}/watch`),
    ...ids.map((id) => `/v1/groups/${id.startsWith("%") ? id : encode(id)}/members/m/watch`),
  ];
  await pool(
    paths.map((path) => async () => {
      const r = await open(path);
      r.socket?.close();
      const { problem, code } =
        r.status === 101 ? { problem: null, code: undefined } : contractProblem(r.status, r.text);
      tally.add(
        {
          route: "watch-upgrade",
          status: r.status,
          code,
          detail: `${path.slice(0, 120)} → ${r.text.slice(0, 160)}`,
        },
        problem,
      );
    }),
    4,
  );
  console.log(
    `watch upgrades:\n${[...tally.counts]
      .sort()
      .map(([k, n]) => `  ${n} × ${k}`)
      .join("\n")}`,
  );
  tally.expectClean();
});

/** Messages that must be refused, for a socket of member `a` (at epoch `e`) in a settled group. */
function hostileMessages(a: Member, other: Member): [string, string | ArrayBuffer][] {
  const e = a.memberEpoch;
  const hb = (fields: Record<string, unknown>) => JSON.stringify({ type: "heartbeat", ...fields });
  const out: [string, string | ArrayBuffer][] = [
    ["not JSON", "{"],
    ["empty", ""],
    ["NUL", "\u0000"],
    ["lone surrogate", '"\uD800"'],
    ["binary garbage", new Uint8Array([0xff, 0xfe, 0x00, 0x7b]).buffer],
    ["binary JSON, epoch ahead", new TextEncoder().encode(hb({ memberEpoch: e + 1 })).buffer as ArrayBuffer],
    ["deep array", deepJson(10_000)],
    ["deep object", deepJson(10_000, "object")],
    ["null", "null"],
    ["array", "[]"],
    ["number", "1e999"],
    ["no type", JSON.stringify({ memberEpoch: e })],
    [
      "type assignment",
      JSON.stringify({ type: "assignment", memberEpoch: e, assignment: { partitions: [] } }),
    ],
    ["duplicate type", `{"type":"heartbeat","type":"__proto__","memberEpoch":${e}}`],
    ["duplicate epoch", `{"type":"heartbeat","memberEpoch":${e},"memberEpoch":"x"}`],
    ["proto payload", `{"type":"heartbeat","__proto__":{"memberEpoch":${e}},"constructor":{"prototype":{}}}`],
    ["no epoch", hb({})],
    ["epoch ahead", hb({ memberEpoch: e + 1 })],
    ["epoch max", hb({ memberEpoch: 2 ** 31 - 1 })],
    ["epoch over max", hb({ memberEpoch: 2 ** 31 })],
    ["epoch float", `{"type":"heartbeat","memberEpoch":${e}.5}`],
    ["epoch string", hb({ memberEpoch: String(e) })],
    ["epoch -3", hb({ memberEpoch: -3 })],
    ["another member", hb({ memberId: other.memberId, memberEpoch: other.memberEpoch })],
    ["member 1025 chars", hb({ memberId: "m".repeat(1025), memberEpoch: e })],
    [
      "topic over the limit",
      hb({ memberEpoch: e, subscribedTopics: [{ name: "x".repeat(250), partitions: 1 }] }),
    ],
    [
      "partitions over the bound",
      hb({ memberEpoch: e, subscribedTopics: [{ name: "t", partitions: 100_001 }] }),
    ],
    [
      "owned partition 2^31",
      hb({ memberEpoch: e, ownedPartitions: [{ topic: "t", partitions: [2 ** 31] }] }),
    ],
    [
      "owned 1001 topics",
      hb({
        memberEpoch: e,
        ownedPartitions: Array.from({ length: 1001 }, (_, i) => ({ topic: `t${i}`, partitions: [0] })),
      }),
    ],
    [
      "~900 KB of owned partitions (valid: answered either way)",
      hb({
        memberEpoch: e,
        ownedPartitions: [{ topic: "t", partitions: Array.from({ length: 150_000 }, (_, i) => i) }],
      }),
    ],
  ];
  for (const key of PROTO_KEYS) {
    out.push([`assignor ${key}`, hb({ memberEpoch: e, serverAssignor: key })]);
    out.push([
      `owned ${key}, epoch ahead`,
      hb({ memberEpoch: e + 3, ownedPartitions: [{ topic: key, partitions: [0] }] }),
    ]);
    out.push([
      `topic ${key}, epoch ahead`,
      hb({ memberEpoch: e + 3, subscribedTopics: [{ name: key, partitions: 2 }] }),
    ]);
    out.push([`type ${key}`, JSON.stringify({ type: key, memberEpoch: e })]);
  }
  for (const bad of UNICODE_HOSTILE.filter((n) => !/^[A-Za-z0-9._-]{1,249}$/.test(n)))
    out.push([
      `topic ${JSON.stringify(bad).slice(0, 20)}`,
      hb({ memberEpoch: e, subscribedTopics: [{ name: bad, partitions: 1 }] }),
    ]);
  return out;
}

it("answers every hostile socket message once, keeps the socket open and changes nobody else's deadline", async () => {
  const g = freshGroup("fuzz-watch");
  const members = [await join(g, "a", { t: 4 }), await join(g, "b", { t: 4 })];
  await settle(g, members);
  const [a, b] = members as [Member, Member];
  const opened = await open(`/v1/groups/${g}/members/a/watch`);
  const socket = opened.socket!;
  expect(opened.status).toBe(101);

  const tally = new Tally();
  const messages = hostileMessages(a, b);
  for (const [label, message] of messages) {
    const before = await snapshot(g);
    socket.send(message);
    const reply = await socket.reply();
    const after = await snapshot(g);
    let problem: string | null = null;
    const code = reply?.error?.code as keyof typeof ERRORS | undefined;
    if (reply === null) problem = `no answer (socket closed with ${socket.closedWith()})`;
    else if (reply.type === "heartbeat" && !label.includes("answered either way")) problem = "accepted";
    else if (reply.type === "heartbeat") {
      // A valid message: only its own member may have moved.
    } else if (!code || !ERRORS[code])
      problem = `not an API.md §1 error: ${JSON.stringify(reply).slice(0, 120)}`;
    else if (ERRORS[code].status >= 500) problem = `${code}: a 5xx on the socket`;
    else if (reply.error.kafkaCode !== ERRORS[code].kafkaCode || typeof reply.error.message !== "string")
      problem = `${code} without its kafkaCode or message`;
    else if (JSON.stringify(others(before, ["a"])) !== JSON.stringify(others(after, ["a"])))
      problem = "state changed";
    tally.add(
      {
        route: `socket: ${label}`,
        status: code ? ERRORS[code].status : 0,
        code,
        detail: `${label} → ${JSON.stringify(reply).slice(0, 200)}`,
      },
      problem,
    );
  }
  // The socket still serves its member: a proper heartbeat is answered, at the epoch it was given.
  socket.send(JSON.stringify({ type: "heartbeat", memberEpoch: a.memberEpoch, ownedPartitions: a.owned }));
  const fine = await socket.reply();
  expect(fine, `socket closed with ${socket.closedWith()}`).toMatchObject({
    type: "heartbeat",
    memberId: "a",
  });
  expect(socket.closedWith()).toBeNull();
  socket.close();
  console.log(
    `socket messages (${messages.length}):\n${[...tally.counts]
      .sort()
      .map(([k, n]) => `  ${n} × ${k}`)
      .join("\n")}`,
  );
  tally.expectClean();
}, 60_000);

it("refuses heartbeats on sockets of ids that are not members (prototype keys) without touching the group", async () => {
  const g = freshGroup("fuzz-watch-ghost");
  const members = [await join(g, "a", { t: 2 })];
  await settle(g, members);
  const tally = new Tally();
  for (const key of PROTO_KEYS) {
    const opened = await open(`/v1/groups/${g}/members/${key}/watch`);
    if (!opened.socket) {
      // A coordinator may refuse sockets for non-members at the upgrade: then with a §1 error.
      const { problem, code } = contractProblem(opened.status, opened.text);
      tally.add(
        { route: "ghost upgrade", status: opened.status, code, detail: `${key} → ${opened.text}` },
        problem,
      );
      continue;
    }
    for (const message of [
      { type: "heartbeat", memberEpoch: 1 },
      { type: "heartbeat", memberEpoch: 5, ownedPartitions: [{ topic: key, partitions: [0] }] },
      { type: "heartbeat", memberEpoch: -1 },
    ]) {
      const before = await snapshot(g);
      opened.socket.send(JSON.stringify(message));
      const reply = await opened.socket.reply();
      const after = await snapshot(g);
      const code = reply?.error?.code as keyof typeof ERRORS | undefined;
      const status = code ? ERRORS[code].status : 0;
      let problem: string | null = null;
      if (!code || !ERRORS[code]) problem = `not refused: ${JSON.stringify(reply)}`;
      else if (status >= 500) problem = `${code}: a 5xx on the socket`;
      else if (JSON.stringify(before) !== JSON.stringify(after)) problem = "state changed";
      tally.add(
        {
          route: `ghost ${JSON.stringify(message)}`,
          status,
          code,
          detail: `${key} → ${JSON.stringify(reply)}`,
        },
        problem,
      );
    }
    opened.socket.close();
  }
  console.log(
    `ghost sockets:\n${[...tally.counts]
      .sort()
      .map(([k, n]) => `  ${n} × ${k}`)
      .join("\n")}`,
  );
  tally.expectClean();
}, 30_000);
