/**
 * KIP-496 driven by the real alarm (OFFSETS_RETENTION_MS=1500): in a group with members, the offsets
 * of a topic no member subscribes to expire RETENTION after their commit, while a subscribed topic's
 * stay. Consumer-protocol groups know subscriptions from heartbeats, classic groups of protocol type
 * "consumer" from the join metadata; a classic group of another protocol type keeps everything.
 * Follows Kafka's OffsetMetadataManagerTest.testCleanupExpiredOffsets and
 * ClassicGroupTest.testOffsetExpirationCondition.
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { api, RETENTION, sleepUntil } from "./retention-helpers";

/** A consumer-protocol heartbeat subscribing to `topics`; returns the member's epoch. */
async function heartbeat(g: string, memberId: string, memberEpoch: number, topics: string[]) {
  const r = await api("POST", `/v1/groups/${g}/heartbeat`, {
    memberId,
    memberEpoch,
    subscribedTopics: topics.map((name) => ({ name, partitions: 2 })),
    ownedPartitions: [],
  });
  expect(r.status).toBe(200);
  return r.body.memberEpoch as number;
}

/** Commits partition 0 of each topic with `auth`; returns the commit time of the last topic. */
async function commit(g: string, auth: object, topics: string[]): Promise<number> {
  const offsets = topics.map((topic) => ({ topic, partition: 0, offset: 7 }));
  expect((await api("POST", `/v1/groups/${g}/offsets`, { ...auth, offsets })).body).toEqual({
    committed: topics.length,
  });
  return (await api("GET", `/v1/groups/${g}/offsets/${topics.at(-1)}/0`)).body.committedAt as number;
}

const committedTopics = async (g: string): Promise<string[]> =>
  (await api("GET", `/v1/groups/${g}/offsets`)).body.offsets.map((o: any) => o.topic);

/** A classic member that joined alone and synced with `assignment`: the group is Stable. */
async function classicStable(g: string, protocolType: string, metadata: string, assignment: string) {
  const body = (memberId: string) => ({
    memberId,
    groupInstanceId: null,
    clientId: "it",
    sessionTimeoutMs: 30_000,
    rebalanceTimeoutMs: 30_000,
    protocolType,
    protocols: [{ name: "range", metadata }],
  });
  const first = await api("POST", `/v1/groups/${g}/classic/join`, body(""));
  expect(first.body.error.code).toBe("MEMBER_ID_REQUIRED");
  const memberId = first.body.error.memberId as string;
  // Held until GROUP_INITIAL_REBALANCE_DELAY_MS passed: the alarm completes the join phase.
  const joined = await api("POST", `/v1/groups/${g}/classic/join`, body(memberId));
  expect(joined.status).toBe(200);
  const generationId = joined.body.generationId as number;
  const synced = await api("POST", `/v1/groups/${g}/classic/sync`, {
    memberId,
    generationId,
    groupInstanceId: null,
    assignments: [{ memberId, assignment }],
  });
  expect(synced.status).toBe(200);
  expect((await api("GET", `/v1/groups/${g}`)).body.state).toBe("Stable");
  return { memberId, generationId };
}

/** Waits past `committedAt + RETENTION`, runs the alarm and returns the topics left. */
async function afterRetention(g: string, committedAt: number): Promise<string[]> {
  await sleepUntil(committedAt + RETENTION);
  await runDurableObjectAlarm(env.GROUPS.getByName(g));
  return committedTopics(g);
}

it("testCleanupExpiredOffsets: a consumer-protocol group expires the topic no member subscribes to", async () => {
  const g = "kip496-consumer";
  const stub = env.GROUPS.getByName(g);
  const memberEpoch = await heartbeat(g, "w1", 0, ["s"]);
  const t = await commit(g, { memberId: "w1", memberEpoch }, ["s", "u"]);
  // The alarm is armed at u's expiry, before the member's session deadline.
  expect((await stub.stats()).alarmAt).toBe(t + RETENTION);
  // An early alarm expires nothing.
  await runDurableObjectAlarm(stub);
  expect(await committedTopics(g)).toEqual(["s", "u"]);

  expect(await afterRetention(g, t)).toEqual(["s"]);
  expect((await api("GET", `/v1/groups/${g}`)).body.members).toHaveLength(1);
  // Only the session deadline is left to arm for.
  expect((await stub.stats()).alarmAt).toBeGreaterThan(t + RETENTION);
});

it("testOffsetExpirationCondition: a Stable classic group of protocol type consumer expires unsubscribed topics", async () => {
  const g = "kip496-classic";
  const assignment = JSON.stringify({ partitions: [{ topic: "s", partitions: [0, 1] }] });
  const auth = await classicStable(g, "consumer", JSON.stringify({ topics: ["s"] }), assignment);
  const t = await commit(g, auth, ["s", "u"]);
  expect(await afterRetention(g, t)).toEqual(["s"]);
  expect((await api("GET", `/v1/groups/${g}`)).body.state).toBe("Stable");
});

it("testOffsetExpirationCondition: a classic group of another protocol type keeps every offset", async () => {
  const g = "kip496-connect";
  const auth = await classicStable(g, "connect", "opaque", "opaque-assignment");
  const t = await commit(g, auth, ["s", "u"]);
  expect(await afterRetention(g, t)).toEqual(["s", "u"]);
});

it("a subscription change that drops a topic makes its offsets expire RETENTION after their commit", async () => {
  const g = "kip496-unsubscribe";
  const stub = env.GROUPS.getByName(g);
  let memberEpoch = await heartbeat(g, "w1", 0, ["s", "u"]);
  const t = await commit(g, { memberId: "w1", memberEpoch }, ["s", "u"]);
  // Both subscribed: nothing to expire, the alarm waits for the session deadline only.
  expect((await stub.stats()).alarmAt).toBeGreaterThan(t + RETENTION);
  memberEpoch = await heartbeat(g, "w1", memberEpoch, ["s"]);
  expect((await stub.stats()).alarmAt).toBe(t + RETENTION);
  expect(await afterRetention(g, t)).toEqual(["s"]);
});

it("a re-subscription before expiry keeps the topic's offsets", async () => {
  const g = "kip496-resubscribe";
  let memberEpoch = await heartbeat(g, "w1", 0, ["s"]);
  const t = await commit(g, { memberId: "w1", memberEpoch }, ["s", "u"]);
  memberEpoch = await heartbeat(g, "w1", memberEpoch, ["s", "u"]);
  expect(await afterRetention(g, t)).toEqual(["s", "u"]);
});
