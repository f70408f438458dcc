/**
 * Retention of share groups by the object's alarm (OFFSETS_RETENTION_MS=1500, API.md §7): archived
 * ranges leave the list RETENTION after they were archived while the group lives on; an Empty share
 * group keeps its state RETENTION after it became Empty, then the group is gone (404, off the list,
 * no row left), as a consumer group's offsets go.
 */

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { api, LIST_LAG, listedIds, RETENTION, sleepUntil } from "./retention-helpers";

/** A member of `g` on t-0 that accepted 0 and rejected 1 of a log starting at 10 (SHARE_AUTO_OFFSET_RESET latest). */
async function worked(g: string): Promise<void> {
  const hb = await api("POST", `/v1/groups/${g}/share/heartbeat`, {
    memberId: "a",
    memberEpoch: 0,
    subscribedTopics: [{ name: "t", partitions: 1 }],
  });
  expect(hb.status, JSON.stringify(hb.body)).toBe(200);
  const report = (logEndOffset: number) => [{ topic: "t", partition: 0, logEndOffset }];
  await api("POST", `/v1/groups/${g}/share/acquire`, { memberId: "a", partitions: report(10) });
  const got = await api("POST", `/v1/groups/${g}/share/acquire`, { memberId: "a", partitions: report(12) });
  expect(got.body.records).toEqual([
    { topic: "t", partition: 0, firstOffset: 10, lastOffset: 11, deliveryCount: 1 },
  ]);
  const one = (offset: number, type: string) => ({
    topic: "t",
    partition: 0,
    firstOffset: offset,
    lastOffset: offset,
    type,
  });
  const acked = await api("POST", `/v1/groups/${g}/share/acknowledge`, {
    memberId: "a",
    acknowledgements: [one(10, "accept"), one(11, "reject")],
  });
  expect(acked.body.acknowledgements.map((x: any) => x.error)).toEqual([null, null]);
}

const listed = async (g: string) => (await api("GET", `/v1/groups/${g}/share/archived`)).body.ranges;

it("drops archived ranges from the list RETENTION after they were archived, keeping the group", async () => {
  const g = "share-retention-list";
  const stub = env.GROUPS.getByName(g);
  await worked(g);
  const [range] = await listed(g);
  expect(range).toMatchObject({ firstOffset: 11, reason: "rejected" });
  await sleepUntil(range.archivedAt + RETENTION);
  await runDurableObjectAlarm(stub);
  expect(await listed(g)).toEqual([]);
  const d = (await api("GET", `/v1/groups/${g}`)).body;
  expect(d).toMatchObject({ type: "share", state: "Stable" });
  expect(d.partitions[0]).toMatchObject({ startOffset: 12 });
});

it("keeps an Empty share group's state RETENTION after it became Empty, then removes the group", async () => {
  const g = "share-retention-empty";
  const stub = env.GROUPS.getByName(g);
  await worked(g);
  expect(
    (await api("POST", `/v1/groups/${g}/share/heartbeat`, { memberId: "a", memberEpoch: -1 })).status,
  ).toBe(200);
  const emptyAt = Date.now();
  expect((await api("GET", `/v1/groups/${g}`)).body).toMatchObject({ type: "share", state: "Empty" });
  await expect.poll(listedIds, LIST_LAG).toContain(g);
  expect((await api("GET", `/v1/groups/${g}/offsets/t/0`)).body.offset).toBe(12);
  await sleepUntil(emptyAt + RETENTION + 50);
  // The real alarm, when due (it fires on its own too).
  await runDurableObjectAlarm(stub);
  expect((await api("GET", `/v1/groups/${g}`)).status).toBe(404);
  await expect.poll(listedIds, LIST_LAG).not.toContain(g);
  const rows = await runInDurableObject(stub, (_i, state) =>
    ["share_partitions", "share_archived", "members", "group_row"].map(
      (t) => state.storage.sql.exec(`SELECT COUNT(*) AS n FROM ${t}`).one().n,
    ),
  );
  expect(rows).toEqual([0, 0, 0, 0]);
});
