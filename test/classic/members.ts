/**
 * Classic-protocol clients for integration tests: join (with the KIP-394 round trip), sync, heartbeat,
 * leave, over the real Worker. Reuses the shared HTTP helpers.
 */

import { expect } from "vitest";
import { call, type Reply } from "../integration/helpers";

export const meta = (...topics: string[]) => JSON.stringify({ topics });
export const assignment = (topic: string, partitions: number[]) =>
  JSON.stringify({ partitions: [{ topic, partitions }] });

export interface JoinOptions {
  memberId?: string;
  groupInstanceId?: string | null;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  topics?: string[];
}

export const join = (groupId: string, o: JoinOptions = {}): Promise<Reply> =>
  call("POST", `/v1/groups/${groupId}/classic/join`, {
    memberId: o.memberId ?? "",
    groupInstanceId: o.groupInstanceId ?? null,
    clientId: "it",
    sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
    rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? 10_000,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: meta(...(o.topics ?? ["orders"])) }],
  });

/** A new dynamic member: MEMBER_ID_REQUIRED, then the join with the issued id (held until the phase ends). */
export async function joinNew(groupId: string, o: JoinOptions = {}): Promise<Reply> {
  const first = await join(groupId, o);
  expect(first.status).toBe(409);
  expect(first.body.error.code).toBe("MEMBER_ID_REQUIRED");
  return join(groupId, { ...o, memberId: first.body.error.memberId });
}

export const sync = (
  groupId: string,
  memberId: string,
  generationId: number,
  assignments: Record<string, string> = {},
  groupInstanceId: string | null = null,
) =>
  call("POST", `/v1/groups/${groupId}/classic/sync`, {
    memberId,
    generationId,
    groupInstanceId,
    assignments: Object.entries(assignments).map(([m, a]) => ({ memberId: m, assignment: a })),
  });

export const heartbeat = (
  groupId: string,
  memberId: string,
  generationId: number,
  groupInstanceId?: string,
) =>
  call("POST", `/v1/groups/${groupId}/classic/heartbeat`, {
    memberId,
    generationId,
    groupInstanceId: groupInstanceId ?? null,
  });

export const leave = (groupId: string, members: { memberId?: string; groupInstanceId?: string }[]) =>
  call("POST", `/v1/groups/${groupId}/classic/leave`, { members });

/** Syncs every member concurrently, the leader handing partition i to the i-th member. */
export async function syncAll(groupId: string, joined: Reply[], topic = "orders"): Promise<Reply[]> {
  const leader = joined.find((r) => r.body.members.length > 0)!.body;
  const plan = Object.fromEntries(
    leader.members.map((m: any, i: number) => [m.memberId, assignment(topic, [i])]),
  );
  return Promise.all(
    joined.map((r) =>
      sync(groupId, r.body.memberId, r.body.generationId, r.body.memberId === leader.memberId ? plan : {}),
    ),
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
