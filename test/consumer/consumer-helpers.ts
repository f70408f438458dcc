/**
 * Consumer-protocol clients for integration tests: heartbeats over HTTP (through the shared
 * test/integration/helpers), a watch WebSocket, and a driver that heartbeats members until settled.
 */

import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { call, type Reply, token } from "../integration/helpers";

export type Tps = { topic: string; partitions: number[] }[];

export interface Member {
  memberId: string;
  memberEpoch: number;
  /** What the member was last told it may use: it reports this as `ownedPartitions`. */
  owned: Tps;
}

export const heartbeat = (groupId: string, body: Record<string, unknown>): Promise<Reply> =>
  call("POST", `/v1/groups/${groupId}/heartbeat`, body);

export const stub = (groupId: string) => env.GROUPS.getByName(groupId);

/** Joins and returns the member as told by the response. */
export async function join(
  groupId: string,
  memberId: string,
  topics: Record<string, number>,
  extra: Record<string, unknown> = {},
): Promise<Member> {
  const res = await heartbeat(groupId, {
    memberId,
    memberEpoch: 0,
    subscribedTopics: Object.entries(topics).map(([name, partitions]) => ({ name, partitions })),
    ownedPartitions: [],
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return {
    memberId: res.body.memberId,
    memberEpoch: res.body.memberEpoch,
    owned: res.body.assignment.partitions,
  };
}

/** One heartbeat reporting what the member owns; the member adopts the answer (it revokes at once). */
export async function beat(groupId: string, m: Member, extra: Record<string, unknown> = {}): Promise<Reply> {
  const res = await heartbeat(groupId, {
    memberId: m.memberId,
    memberEpoch: m.memberEpoch,
    ownedPartitions: m.owned,
    ...extra,
  });
  if (res.status === 200) {
    m.memberEpoch = res.body.memberEpoch;
    m.owned = res.body.assignment.partitions;
  }
  return res;
}

/** Heartbeats every member in turn until the group describes itself Stable. */
export async function settle(groupId: string, members: Member[], rounds = 6): Promise<any> {
  for (let i = 0; i < rounds; i++) {
    for (const m of members) expect((await beat(groupId, m)).status).toBe(200);
    const d = await call("GET", `/v1/groups/${groupId}`);
    if (d.body.state === "Stable") return d.body;
  }
  throw new Error(`group ${groupId} did not settle`);
}

export const partitionsOf = (owned: Tps, topic = "t"): number[] =>
  owned.find((tp) => tp.topic === topic)?.partitions ?? [];

/** Asserts no partition is held by two members, and returns the union, sorted. */
export function disjointUnion(members: Member[], topic = "t"): number[] {
  const all = members.flatMap((m) => partitionsOf(m.owned, topic));
  expect(new Set(all).size).toBe(all.length);
  return all.sort((a, b) => a - b);
}

export interface Watch {
  messages: any[];
  /** The next message not yet taken (waits up to `ms`). */
  next(ms?: number): Promise<any>;
  send(message: unknown): void;
  close(): void;
}

/** Opens the member's watch WebSocket through the Worker, authenticated like any request. */
export async function watch(groupId: string, memberId: string): Promise<Watch> {
  const res = await exports.default.fetch(
    `http://cohort.test/v1/groups/${groupId}/members/${memberId}/watch`,
    {
      headers: { Upgrade: "websocket", authorization: `Bearer ${await token()}` },
    },
  );
  const ws = res.webSocket;
  if (!ws) throw new Error(`no WebSocket: ${res.status} ${await res.text()}`);
  ws.accept();
  const inbox = messageQueue(ws);
  return { ...inbox, close: () => ws.close(1000, "done") };
}

/**
 * An accepted socket's messages, parsed, in order: `next()` waits (polling every 50 ms) until one it
 * has not returned arrives, or fails after `ms`.
 */
export function messageQueue(ws: WebSocket): {
  messages: any[];
  next(ms?: number): Promise<any>;
  send(message: unknown): void;
} {
  const messages: any[] = [];
  let taken = 0;
  const waiters: (() => void)[] = [];
  ws.addEventListener("message", (e) => {
    messages.push(JSON.parse(e.data as string));
    for (const w of waiters.splice(0)) w();
  });
  ws.addEventListener("close", () => {
    for (const w of waiters.splice(0)) w();
  });
  return {
    messages,
    async next(ms = 3000) {
      const deadline = Date.now() + ms;
      while (taken >= messages.length) {
        if (Date.now() > deadline) throw new Error("no message arrived");
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return messages[taken++];
    },
    send: (message) => ws.send(JSON.stringify(message)),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
