/**
 * Retention (KIP-211) driven by the object's alarm, with OFFSETS_RETENTION_MS=1500: a simple group's
 * offsets expire 1500 ms after their last commit, each on its own; the alarm is armed at exactly the
 * earliest expiry, not moved later by further commits; a group left with nothing is gone (404) and
 * leaves the list.
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { api, LIST_LAG, listedIds, RETENTION, sleepUntil } from "./retention-helpers";

it("expires each offset of a simple group RETENTION after its last commit, then the group", async () => {
  const g = "retention-simple";
  const stub = env.GROUPS.getByName(g);
  await api("POST", `/v1/groups/${g}/offsets`, { offsets: [{ topic: "t", partition: 0, offset: 5 }] });
  const t0 = (await api("GET", `/v1/groups/${g}/offsets/t/0`)).body.committedAt as number;
  expect((await stub.stats()).alarmAt).toBe(t0 + RETENTION);

  // An early alarm expires nothing and re-arms at the same deadline.
  await runDurableObjectAlarm(stub);
  expect((await api("GET", `/v1/groups/${g}/offsets/t/0`)).body.offset).toBe(5);
  expect((await stub.stats()).alarmAt).toBe(t0 + RETENTION);

  await new Promise((r) => setTimeout(r, 600));
  await api("POST", `/v1/groups/${g}/offsets`, { offsets: [{ topic: "t", partition: 1, offset: 9 }] });
  const t1 = (await api("GET", `/v1/groups/${g}/offsets/t/1`)).body.committedAt as number;
  expect(t1).toBeGreaterThan(t0);
  // A later deadline does not move the alarm.
  expect((await stub.stats()).alarmAt).toBe(t0 + RETENTION);

  await sleepUntil(t0 + RETENTION);
  await runDurableObjectAlarm(stub);
  expect((await api("GET", `/v1/groups/${g}/offsets`)).body.offsets.map((o: any) => o.partition)).toEqual([
    1,
  ]);
  expect((await stub.stats()).alarmAt).toBe(t1 + RETENTION);
  await expect.poll(listedIds, LIST_LAG).toContain(g);

  await sleepUntil(t1 + RETENTION);
  await runDurableObjectAlarm(stub);
  expect((await api("GET", `/v1/groups/${g}/offsets`)).body.offsets).toEqual([]);
  expect((await api("GET", `/v1/groups/${g}`)).status).toBe(404);
  await expect.poll(listedIds, LIST_LAG).not.toContain(g);
  // The group is gone; its history (the Dead event) is kept a retention more, then the alarm purges it.
  const dead = (await api("GET", `/v1/groups/${g}/events`)).body.events.at(-1);
  expect(dead).toMatchObject({ type: "state_changed", detail: { from: "Empty", to: "Dead" } });
  expect((await stub.stats()).alarmAt).toBe(dead.at + RETENTION);
  await sleepUntil(dead.at + RETENTION);
  await runDurableObjectAlarm(stub);
  expect((await api("GET", `/v1/groups/${g}/events`)).status).toBe(404);
  expect((await stub.stats()).alarmAt).toBe(null);
});

it("keeps an offset recommitted before it expired", async () => {
  const g = "retention-recommit";
  const stub = env.GROUPS.getByName(g);
  await api("POST", `/v1/groups/${g}/offsets`, { offsets: [{ topic: "t", partition: 0, offset: 1 }] });
  const t0 = (await api("GET", `/v1/groups/${g}/offsets/t/0`)).body.committedAt as number;
  await new Promise((r) => setTimeout(r, 700));
  await api("POST", `/v1/groups/${g}/offsets`, { offsets: [{ topic: "t", partition: 0, offset: 2 }] });
  const t1 = (await api("GET", `/v1/groups/${g}/offsets/t/0`)).body.committedAt as number;
  await sleepUntil(t0 + RETENTION);
  await runDurableObjectAlarm(stub);
  expect((await api("GET", `/v1/groups/${g}/offsets/t/0`)).body.offset).toBe(2);
  expect((await stub.stats()).alarmAt).toBe(t1 + RETENTION);
});

it("keeps the offsets of a subscribed topic while the group has members, then expires them all RETENTION after it became Empty", async () => {
  const g = "retention-members";
  const stub = env.GROUPS.getByName(g);
  const joined = await api("POST", `/v1/groups/${g}/heartbeat`, {
    memberId: "w1",
    memberEpoch: 0,
    subscribedTopics: [{ name: "t", partitions: 1 }],
    ownedPartitions: [],
  });
  const { memberEpoch } = joined.body;
  await api("POST", `/v1/groups/${g}/offsets`, {
    memberId: "w1",
    memberEpoch,
    offsets: [{ topic: "t", partition: 0, offset: 3 }],
  });
  const committedAt = (await api("GET", `/v1/groups/${g}/offsets/t/0`)).body.committedAt as number;

  // Past the retention from the commit, with the member still there: the subscribed topic expires nothing.
  await sleepUntil(committedAt + RETENTION);
  await api("POST", `/v1/groups/${g}/heartbeat`, {
    memberId: "w1",
    memberEpoch,
    ownedPartitions: [{ topic: "t", partitions: [0] }],
  });
  await runDurableObjectAlarm(stub);
  expect((await api("GET", `/v1/groups/${g}/offsets/t/0`)).body.offset).toBe(3);

  // The member leaves: the group is Empty from now, and its offsets age from here.
  const leftAt = Date.now();
  await api("POST", `/v1/groups/${g}/heartbeat`, { memberId: "w1", memberEpoch: -1 });
  expect((await api("GET", `/v1/groups/${g}`)).body.state).toBe("Empty");
  const alarmAt = (await stub.stats()).alarmAt as number;
  expect(alarmAt).toBeGreaterThanOrEqual(leftAt + RETENTION);
  expect(alarmAt).toBeLessThanOrEqual(Date.now() + RETENTION);

  await runDurableObjectAlarm(stub);
  expect((await api("GET", `/v1/groups/${g}/offsets/t/0`)).body.offset).toBe(3);
  await sleepUntil(alarmAt);
  await runDurableObjectAlarm(stub);
  expect((await api("GET", `/v1/groups/${g}/offsets`)).body.offsets).toEqual([]);
  expect((await api("GET", `/v1/groups/${g}`)).status).toBe(404);
  await expect.poll(listedIds, LIST_LAG).not.toContain(g);
});
