/**
 * The alarm's offset-expiry work is proportional to what can expire (OFFSETS_RETENTION_MS=1500): with
 * members, an alarm (armed for a session deadline) reads no offset row however many are committed;
 * an Empty group's alarm before its one deadline reads none either; a simple group reads its offsets
 * once per expiry, not once per alarm; after a restart, a group with members learns which topics
 * it holds once (KIP-496 looks only at unsubscribed ones), not at every alarm; and expiry itself still
 * happens on time.
 */

import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { api, RETENTION } from "./retention-helpers";

const PARTITIONS = 3000;

const offsets = (n: number) => Array.from({ length: n }, (_, p) => ({ topic: "t", partition: p, offset: p }));

/** Rows the object read during one alarm run. */
async function rowsReadByAlarm(g: string): Promise<number> {
  const stub = env.GROUPS.getByName(g);
  const before = (await stub.stats()).rowsRead;
  expect(await runDurableObjectAlarm(stub)).toBe(true);
  return (await stub.stats()).rowsRead - before;
}

it("reads no offset row in an alarm of a group with members, however many offsets it holds", async () => {
  const g = "alarm-reads-members";
  const joined = await api("POST", `/v1/groups/${g}/heartbeat`, {
    memberId: "w1",
    memberEpoch: 0,
    subscribedTopics: [{ name: "t", partitions: 4 }],
    ownedPartitions: [],
  });
  const { memberEpoch } = joined.body;
  const done = await api("POST", `/v1/groups/${g}/offsets`, {
    memberId: "w1",
    memberEpoch,
    offsets: offsets(PARTITIONS),
  });
  expect(done.body).toEqual({ committed: PARTITIONS });
  // The alarm is armed for the member's session deadline; firing it processes nothing due.
  expect((await env.GROUPS.getByName(g).stats()).alarmAt).not.toBeNull();
  expect(await rowsReadByAlarm(g)).toBe(0);
  expect((await api("GET", `/v1/groups/${g}/offsets`)).body.offsets).toHaveLength(PARTITIONS);
});

it("reads no offset row in an Empty group's alarm before its deadline, then expires everything at it", async () => {
  const g = "alarm-reads-empty";
  const stub = env.GROUPS.getByName(g);
  const joined = await api("POST", `/v1/groups/${g}/heartbeat`, {
    memberId: "w1",
    memberEpoch: 0,
    subscribedTopics: [{ name: "t", partitions: 4 }],
    ownedPartitions: [],
  });
  await api("POST", `/v1/groups/${g}/offsets`, {
    memberId: "w1",
    memberEpoch: joined.body.memberEpoch,
    offsets: offsets(PARTITIONS),
  });
  await api("POST", `/v1/groups/${g}/heartbeat`, { memberId: "w1", memberEpoch: -1 });
  const alarmAt = (await stub.stats()).alarmAt as number;
  expect(await rowsReadByAlarm(g)).toBe(0);
  expect((await stub.stats()).alarmAt).toBe(alarmAt);
  while (Date.now() <= alarmAt) await new Promise((r) => setTimeout(r, alarmAt - Date.now() + 1));
  await runDurableObjectAlarm(stub);
  expect((await api("GET", `/v1/groups/${g}`)).status).toBe(404);
});

it("reads a simple group's offsets once per expiry, not once per alarm", async () => {
  const g = "alarm-reads-simple";
  const stub = env.GROUPS.getByName(g);
  await api("POST", `/v1/groups/${g}/offsets`, { offsets: offsets(PARTITIONS) });
  const committedAt = (await api("GET", `/v1/groups/${g}/offsets/t/0`)).body.committedAt as number;
  // The first alarm learns the oldest commit (one scan); early alarms after it read nothing.
  expect(await rowsReadByAlarm(g)).toBeLessThanOrEqual(PARTITIONS + 1);
  expect(await rowsReadByAlarm(g)).toBe(0);
  expect(await rowsReadByAlarm(g)).toBe(0);
  expect((await stub.stats()).alarmAt).toBe(committedAt + RETENTION);
  while (Date.now() <= committedAt + RETENTION) await new Promise((r) => setTimeout(r, 50));
  await runDurableObjectAlarm(stub);
  expect((await api("GET", `/v1/groups/${g}/offsets`)).body.offsets).toEqual([]);
  expect((await api("GET", `/v1/groups/${g}`)).status).toBe(404);
});

it("after a restart, a group with members scans its offsets once to learn their topics, not at every alarm", async () => {
  const g = "alarm-reads-members-restart";
  const stub = env.GROUPS.getByName(g);
  const joined = await api("POST", `/v1/groups/${g}/heartbeat`, {
    memberId: "w1",
    memberEpoch: 0,
    subscribedTopics: [{ name: "t", partitions: 4 }],
    ownedPartitions: [],
  });
  await api("POST", `/v1/groups/${g}/offsets`, {
    memberId: "w1",
    memberEpoch: joined.body.memberEpoch,
    offsets: offsets(PARTITIONS),
  });
  await evictDurableObject(stub);
  expect(await rowsReadByAlarm(g)).toBeLessThanOrEqual(PARTITIONS + 1);
  expect(await rowsReadByAlarm(g)).toBe(0);
  expect(await rowsReadByAlarm(g)).toBe(0);
  expect((await api("GET", `/v1/groups/${g}/offsets`)).body.offsets).toHaveLength(PARTITIONS);
});
