/**
 * The browser tests' way into the coordinator besides the console: tokens signed with the test secret
 * and real groups made over the /v1 API (members, commits with log ends, a share group's archived
 * records), exactly as clients would make them. Nothing here touches storage directly.
 */

import { sign } from "hono/jwt";
import { expect, inject } from "vitest";
import { TEST_JWT_SECRET } from "../test-secret.ts";

/** The local coordinator's URL; throws the fixture's instructions when it could not start. */
export function baseUrl(): string {
  const missing = inject("browserMissing");
  if (missing) throw new Error(missing);
  return inject("consoleUrl");
}

export interface Claims {
  groups?: string[];
  scope?: string;
  sub?: string;
  exp?: number;
}

/** An HS256 token valid for an hour; by default an operator's: every group, `admin`. */
export function token(claims: Claims = {}): Promise<string> {
  return sign(
    {
      exp: Math.floor(Date.now() / 1000) + 3600,
      groups: ["*"],
      scope: "admin",
      sub: "operator@test",
      ...claims,
    },
    TEST_JWT_SECRET,
    "HS256",
  );
}

/** A /v1 call with the operator's token; the parsed body and the status. */
export async function api<T = any>(
  method: string,
  path: string,
  body?: unknown,
  bearer?: string,
): Promise<{ status: number; body: T }> {
  const res = await fetch(baseUrl() + path, {
    method,
    headers: {
      authorization: `Bearer ${bearer ?? (await token())}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** A call that must succeed (200); its body. */
export async function ok<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const reply = await api<T>(method, path, body);
  expect(reply, `${method} ${path}`).toMatchObject({ status: 200 });
  return reply.body;
}

const run = Date.now().toString(36);
/** A group id unique to this run and file, under a team prefix (team-a-… is what scoped tokens see). */
export const groupId = (team: string, name: string) => `${team}-${name}-${run}`;

interface ConsumerMember {
  memberId: string;
  memberEpoch: number;
  assignment: { partitions: { topic: string; partitions: number[] }[] };
}

/** A KIP-848 member joining a consumer group subscribed to `topic`. */
export function joinConsumer(group: string, clientId: string, topic = "orders", partitions = 4) {
  return ok<ConsumerMember>("POST", `/v1/groups/${group}/heartbeat`, {
    memberEpoch: 0,
    clientId,
    rebalanceTimeoutMs: 30_000,
    subscribedTopics: [{ name: topic, partitions }],
    ownedPartitions: [],
  });
}

/** Heartbeats every member, reporting what it was assigned, until the group is Stable (revoke, then assign). */
async function settle(group: string, members: ConsumerMember[]): Promise<ConsumerMember[]> {
  for (let round = 0; round < 5; round++) {
    members = await Promise.all(
      members.map(async (member) => ({
        ...(await ok<ConsumerMember>("POST", `/v1/groups/${group}/heartbeat`, {
          memberId: member.memberId,
          memberEpoch: member.memberEpoch,
          ownedPartitions: member.assignment.partitions,
        })),
        memberId: member.memberId,
      })),
    );
    if ((await ok("GET", `/v1/groups/${group}`)).state === "Stable") return members;
  }
  throw new Error(`${group} did not settle`);
}

/** Commits `offset` on every partition with the log end at `logEndOffset`, so each has lag. */
function offsets(topic: string, committed: number[], logEndOffset: number) {
  return committed.map((offset, partition) => ({ topic, partition, offset, logEndOffset }));
}

/** A Stable consumer group of two members sharing four partitions, with lag on each partition. */
export async function seedConsumerGroup(group: string) {
  const first = await joinConsumer(group, "orders-svc-1");
  const [one, two] = await settle(group, [first, await joinConsumer(group, "orders-svc-2")]);
  await ok("POST", `/v1/groups/${group}/offsets`, {
    memberId: one!.memberId,
    memberEpoch: one!.memberEpoch,
    offsets: offsets("orders", [40, 55, 70, 90], 100),
  });
  return { members: [one!.memberId, two!.memberId], totalLag: 60 + 45 + 30 + 10 };
}

/** A classic (JoinGroup/SyncGroup) group of one member that owns both partitions and has committed. */
export async function seedClassicGroup(group: string) {
  const join = {
    groupInstanceId: null,
    clientId: "payments-svc",
    sessionTimeoutMs: 600_000,
    rebalanceTimeoutMs: 30_000,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: JSON.stringify({ topics: ["payments"] }) }],
  };
  const first = await api("POST", `/v1/groups/${group}/classic/join`, { ...join, memberId: "" });
  expect(first.status).toBe(409); // KIP-394: join again with the id handed out
  const memberId: string = first.body.error.memberId;
  const joined = await ok("POST", `/v1/groups/${group}/classic/join`, { ...join, memberId });
  const assignment = JSON.stringify({ partitions: [{ topic: "payments", partitions: [0, 1] }] });
  await ok("POST", `/v1/groups/${group}/classic/sync`, {
    memberId,
    generationId: joined.generationId,
    assignments: [{ memberId, assignment }],
  });
  await ok("POST", `/v1/groups/${group}/offsets`, {
    memberId,
    generationId: joined.generationId,
    offsets: offsets("payments", [5, 8], 20),
  });
  return { memberId };
}

/** A group with offsets and no members (a "simple" commit, as admin tools make): resettable. */
export async function seedEmptyGroup(group: string) {
  await ok("POST", `/v1/groups/${group}/offsets`, { offsets: offsets("audit", [10, 20], 50) });
}

/** The committed offsets of a group, partition → offset, for one topic. */
export async function committed(group: string, topic: string): Promise<Record<number, number>> {
  const reply = await ok<{ offsets: { topic: string; partition: number; offset: number }[] }>(
    "GET",
    `/v1/groups/${group}/offsets?topic=${topic}`,
  );
  return Object.fromEntries(reply.offsets.map((o) => [o.partition, o.offset]));
}

/**
 * A share group with one member that acquired records of partition 0, accepted some and rejected
 * others (archived: the dead-letter ranges the console lists and can redrive); the rest stay in flight.
 */
export async function seedShareGroup(group: string) {
  const member = await ok("POST", `/v1/groups/${group}/share/heartbeat`, {
    memberEpoch: 0,
    clientId: "jobs-worker",
    subscribedTopics: [{ name: "jobs", partitions: 2 }],
  });
  const acquired = await ok("POST", `/v1/groups/${group}/share/acquire`, {
    memberId: member.memberId,
    maxRecords: 20,
    partitions: [{ topic: "jobs", partition: 0, logEndOffset: 30 }],
  });
  expect(acquired.records.length).toBeGreaterThan(0);
  const reply = await ok("POST", `/v1/groups/${group}/share/acknowledge`, {
    memberId: member.memberId,
    acknowledgements: [
      { topic: "jobs", partition: 0, firstOffset: 0, lastOffset: 2, type: "reject" },
      { topic: "jobs", partition: 0, firstOffset: 3, lastOffset: 9, type: "accept" },
    ],
  });
  expect(reply.acknowledgements.map((a: { error: unknown }) => a.error)).toEqual([null, null]);
  return { memberId: member.memberId as string };
}

/** Polls `probe` until it returns true (the group list follows changes within moments, API.md §6). */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface SeededGroups {
  consumer: string;
  classic: string;
  empty: string;
  share: string;
}

/**
 * One group of each kind the console shows, named by `ids`, then waits until the group list has them
 * all (it follows a group's own state by moments, API.md §6). Returns the consumer group's members.
 */
export async function seedGroups(ids: SeededGroups, extraEmpty: string[] = []) {
  const [consumer] = await Promise.all([
    seedConsumerGroup(ids.consumer),
    seedClassicGroup(ids.classic),
    seedEmptyGroup(ids.empty),
    seedShareGroup(ids.share),
    ...extraEmpty.map(seedEmptyGroup),
  ]);
  const wanted = [...Object.values(ids), ...extraEmpty];
  await eventually(async () => {
    const listed = await api<{ groups: { groupId: string }[] }>("GET", "/v1/groups");
    const ids = listed.body.groups.map((g) => g.groupId);
    return wanted.every((id) => ids.includes(id));
  });
  return consumer;
}
