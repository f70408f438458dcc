/**
 * Share-group clients for integration tests (API.md §7) over HTTP through the Worker: join, heartbeat,
 * acquire, acknowledge, the archived listing and redrive, and the settings the workers-share project
 * runs with (vitest.config.ts).
 */

import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call, type Reply } from "../integration/helpers";

/** The workers-share project's SHARE_* values (vitest.config.ts). */
export const LOCK_MS = 1500;
export const SESSION_MS = 3000;
export const DELIVERY_LIMIT = 3;
export const MAX_IN_FLIGHT = 100;

export const stub = (groupId: string) => env.GROUPS.getByName(groupId);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ShareMember {
  memberId: string;
  memberEpoch: number;
  /** What the member was last told it is assigned. */
  assigned: { topic: string; partitions: number[] }[];
}

const path = (groupId: string, route: string) => `/v1/groups/${groupId}/share/${route}`;

export const shareHeartbeat = (groupId: string, body: Record<string, unknown>, token?: string | null) =>
  call("POST", path(groupId, "heartbeat"), body, { ...(token !== undefined ? { token } : {}) });

export const acquire = (groupId: string, body: Record<string, unknown>, token?: string | null) =>
  call("POST", path(groupId, "acquire"), body, { ...(token !== undefined ? { token } : {}) });

export const acknowledge = (groupId: string, body: Record<string, unknown>, token?: string | null) =>
  call("POST", path(groupId, "acknowledge"), body, { ...(token !== undefined ? { token } : {}) });

export const archived = (groupId: string, query = "", token?: string | null) =>
  call("GET", `${path(groupId, "archived")}${query}`, undefined, {
    ...(token !== undefined ? { token } : {}),
  });

export const redrive = (groupId: string, body: Record<string, unknown>, token?: string | null) =>
  call("POST", path(groupId, "archived/redrive"), body, { ...(token !== undefined ? { token } : {}) });

/** Joins a member subscribing to `topics` (name → partitions) and returns it as told. */
export async function joinShare(
  groupId: string,
  topics: Record<string, number>,
  memberId?: string,
): Promise<ShareMember> {
  const res = await shareHeartbeat(groupId, {
    ...(memberId ? { memberId } : {}),
    memberEpoch: 0,
    subscribedTopics: Object.entries(topics).map(([name, partitions]) => ({ name, partitions })),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return {
    memberId: res.body.memberId,
    memberEpoch: res.body.memberEpoch,
    assigned: res.body.assignment.partitions,
  };
}

/** One heartbeat at the member's epoch; the member adopts what it is told. */
export async function beatShare(groupId: string, m: ShareMember): Promise<Reply> {
  const res = await shareHeartbeat(groupId, { memberId: m.memberId, memberEpoch: m.memberEpoch });
  if (res.status === 200) {
    m.memberEpoch = res.body.memberEpoch;
    m.assigned = res.body.assignment.partitions;
  }
  return res;
}

/** Acquires for a member, reporting `logEnd` (and optionally `logStart`) for each listed partition. */
export async function take(
  groupId: string,
  m: ShareMember,
  partitions: { topic?: string; partition: number; logEndOffset?: number; logStartOffset?: number }[],
  extra: Record<string, unknown> = {},
): Promise<Reply> {
  const res = await acquire(groupId, {
    memberId: m.memberId,
    maxRecords: 100,
    partitions: partitions.map((p) => ({ topic: "t", ...p })),
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res;
}

export type Ranges = { topic: string; partition: number; firstOffset: number; lastOffset: number }[];

/** The offsets of acquired ranges, sorted, as `topic-partition:offset` strings. */
export const offsetsOf = (ranges: Ranges): string[] =>
  ranges
    .flatMap((r) =>
      Array.from(
        { length: r.lastOffset - r.firstOffset + 1 },
        (_, i) => `${r.topic}-${r.partition}:${r.firstOffset + i}`,
      ),
    )
    .sort();

export const ack = (ranges: Ranges, type: "accept" | "release" | "reject" | "renew") =>
  ranges.map((r) => ({
    topic: r.topic,
    partition: r.partition,
    firstOffset: r.firstOffset,
    lastOffset: r.lastOffset,
    type,
  }));

/** A fresh member holding offset 0 of t-0 at its last delivery (released until the limit). */
export async function atLastDelivery(groupId: string): Promise<{ m: ShareMember; held: any[] }> {
  const m = await joinShare(groupId, { t: 1 }, "a");
  let held = (await take(groupId, m, [{ partition: 0, logEndOffset: 1 }])).body.records;
  for (let i = 1; i < DELIVERY_LIMIT; i++)
    held = (await take(groupId, m, [], { acknowledgements: ack(held, "release") })).body.records;
  expect(held[0].deliveryCount).toBe(DELIVERY_LIMIT);
  return { m, held };
}

/** One share-partition of describe. */
export async function sharePartition(groupId: string, topic = "t", partition = 0): Promise<any> {
  const d = await call("GET", `/v1/groups/${groupId}`);
  expect(d.status, JSON.stringify(d.body)).toBe(200);
  return d.body.partitions.find((p: any) => p.topic === topic && p.partition === partition);
}
