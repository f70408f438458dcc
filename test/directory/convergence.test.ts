/**
 * Directory updates off the request path and never lost (API.md §6: the list lags a group by at most
 * 10 s while its shard is reachable): out-of-order updates keep the newest version; updates that fail
 * or hang are retried by the group's alarm until acknowledged, also after the group was deleted,
 * expired or restarted; a request never waits for the directory. Shards fail through a real test hook
 * (COHORT_TEST_HOOKS=1): they throw, or hold every call until released.
 */

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { RETRY_MAX_MS } from "../../src/directory/outbox.ts";
import type { GroupObject } from "../../src/group-object.ts";
import { call, commit, expectError, freshGroup } from "../integration/helpers";
import { clearFaults, groupObject, listed, setFault, shardFor, sleep, until } from "./directory-helpers";

/** One alarm cycle: the longest retry wait (with its jitter) and the time to send. */
const CYCLE_MS = RETRY_MAX_MS * 1.2 + 1000;
const entry = [{ topic: "t", partition: 0, offset: 1 }];

const outboxRow = (groupId: string) =>
  runInDurableObject(groupObject(groupId) as unknown as DurableObjectStub<GroupObject>, (_o, state) =>
    state.storage.sql.exec("SELECT group_id, version, summary, acked FROM directory_outbox").toArray(),
  );

const join = (groupId: string, memberId: string) =>
  call("POST", `/v1/groups/${groupId}/heartbeat`, {
    memberId,
    memberEpoch: 0,
    subscribedTopics: [{ name: "t", partitions: 2 }],
    ownedPartitions: [],
  });

afterEach(clearFaults);

describe("a directory shard", () => {
  it("keeps the newest version of a group: older updates and removals arriving late change nothing", async () => {
    const g = freshGroup("ooo");
    const shard = shardFor(g);
    const summary = (members: number) => ({
      groupId: g,
      type: "consumer" as const,
      state: "Stable",
      members,
    });
    expect(await shard.record(g, 3, summary(3))).toBe(true);
    expect(await shard.record(g, 2, summary(2))).toBe(false);
    expect(await shard.record(g, 3, summary(9))).toBe(false);
    expect(await listed(g)).toEqual(summary(3));
    expect(await shard.record(g, 5, null)).toBe(true);
    // The removal is a tombstone at version 5: the late version 4 does not bring the group back.
    expect(await shard.record(g, 4, summary(4))).toBe(false);
    expect(await listed(g)).toBeUndefined();
    expect(await shard.record(g, 6, summary(1))).toBe(true);
    expect(await listed(g)).toEqual(summary(1));
  });
});

describe("a group's directory updates", () => {
  it("never hold a request: commits and deletes complete while the shard hangs, and the list follows", async () => {
    const g = freshGroup("hang");
    await setFault(g, "hang");
    const t0 = Date.now();
    expect((await commit(g, entry)).status).toBe(200);
    expect((await call("GET", `/v1/groups/${g}`)).status).toBe(200);
    expect((await commit(g, [{ topic: "u", partition: 0, offset: 2 }])).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1500);
    await setFault(g, "none");
    await until(
      () => listed(g),
      (e) => e?.type === "classic",
      CYCLE_MS,
      "listed after the hang",
    );

    await setFault(g, "hang");
    const t1 = Date.now();
    expect((await call("DELETE", `/v1/groups/${g}`)).status).toBe(200);
    expect(Date.now() - t1).toBeLessThan(1500);
    await setFault(g, "none");
    await until(
      () => listed(g),
      (e) => e === undefined,
      CYCLE_MS,
      "unlisted after the hang",
    );
  });

  it("never hold a consumer join, heartbeat or leave while the shard hangs (each changes the summary)", async () => {
    // The bench's join path (mutate "after-decision"): a send awaited there would hold each of these
    // requests for SEND_TIMEOUT_MS (5 s); four of them well under one such timeout prove none waits.
    const g = freshGroup("hangc");
    await setFault(g, "hang");
    const t0 = Date.now();
    const a = await join(g, "ma");
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(a.status).toBe(200);
    expect((await join(g, "mb")).status).toBe(200);
    const beat = await call("POST", `/v1/groups/${g}/heartbeat`, {
      memberId: "ma",
      memberEpoch: a.body.memberEpoch,
      ownedPartitions: a.body.assignment.partitions,
    });
    expect(beat.status).toBe(200);
    const leave = await call("POST", `/v1/groups/${g}/heartbeat`, { memberId: "mb", memberEpoch: -1 });
    expect(leave.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(2500);
    await setFault(g, "none");
    await until(
      () => listed(g),
      (e) => e?.type === "consumer" && e.members === 1,
      CYCLE_MS,
      "listed with the member left",
    );
  });

  it("that fail are retried by the alarm until acknowledged, converging to the newest summary", async () => {
    const g = freshGroup("fail");
    await setFault(g, "throw");
    // Three changes while the shard fails: created (classic), deleted, created again (consumer).
    expect((await commit(g, entry)).status).toBe(200);
    expect((await call("DELETE", `/v1/groups/${g}`)).status).toBe(200);
    expect((await join(g, "m1")).status).toBe(200);
    const described = (await call("GET", `/v1/groups/${g}`)).body;
    // A listing that needs the failing shard is a retriable 503, not a stale or partial page.
    const during = await call("GET", "/v1/groups");
    expectError(during, 503, "COORDINATOR_NOT_AVAILABLE", 15);
    expect(during.headers.get("retry-after")).not.toBeNull();
    await until(
      async () => (await groupObject(g).stats()).alarmAt,
      (at) => at !== null,
      3000,
      "a retry armed",
    );
    const [row] = await outboxRow(g);
    expect(row).toMatchObject({ version: 3 });
    expect(row!.acked as number).toBeLessThan(3);

    await setFault(g, "none");
    const took = await until(
      () => listed(g),
      (e) => e?.type === "consumer" && e.members === 1,
      CYCLE_MS,
      "converged",
    );
    expect(took).toBeLessThan(CYCLE_MS);
    expect(await listed(g)).toEqual({ groupId: g, type: "consumer", state: described.state, members: 1 });
    // A restart re-sends the last version once (its acknowledgement is written with the next change).
    await evictDurableObject(groupObject(g));
    expect((await call("GET", `/v1/groups/${g}`)).status).toBe(200);
    // A late copy of an older version is ignored.
    expect(await shardFor(g).record(g, 1, { groupId: g, type: "classic", state: "Empty", members: 0 })).toBe(
      false,
    );
    expect((await listed(g)).type).toBe("consumer");
  });
});

describe("a deleted or expired group", () => {
  it("leaves the list within one alarm cycle once its shard is back, across a restart of the group", async () => {
    const g = freshGroup("del");
    expect((await commit(g, entry)).status).toBe(200);
    await until(
      () => listed(g),
      (e) => e !== undefined,
      CYCLE_MS,
      "listed",
    );
    await setFault(g, "throw");
    expect((await call("DELETE", `/v1/groups/${g}`)).status).toBe(200);
    expectError(await call("GET", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
    // The removal outlives the group's rows, and keeps the alarm armed while unacknowledged.
    const [row] = await outboxRow(g);
    expect(row).toMatchObject({ group_id: g, summary: null, version: 2, acked: 1 });
    expect((await groupObject(g).stats()).alarmAt).not.toBeNull();
    await sleep(1200);
    expect((await groupObject(g).stats()).alarmAt).not.toBeNull();
    await evictDurableObject(groupObject(g));
    await setFault(g, "none");
    expect(
      await until(
        () => listed(g),
        (e) => e === undefined,
        CYCLE_MS,
        "unlisted",
      ),
    ).toBeLessThan(CYCLE_MS);
    await until(
      async () => (await outboxRow(g))[0]!.acked,
      (v) => v === 2,
      CYCLE_MS,
      "removal acknowledged",
    );
    // No retry left: the alarm waits only for the purge of the group's history, a retention after
    // its last event (OFFSETS_RETENTION_MS, the default here; README, History).
    const dead = (await call("GET", `/v1/groups/${g}/events`)).body.events.at(-1);
    expect(dead).toMatchObject({ type: "state_changed", detail: { to: "Dead" } });
    await until(
      async () => (await groupObject(g).stats()).alarmAt,
      (at) => at === dead.at + 604_800_000,
      CYCLE_MS,
      "alarm idle until the history's purge",
    );
  });

  it("whose last member's session expired leaves the list, also when its shard failed meanwhile", async () => {
    // No heartbeats after the join: the 1.5 s session ends, the alarm removes the member, then the group.
    const expire = async (g: string) => {
      expect((await join(g, "m1")).status).toBe(200);
      await until(
        () => listed(g),
        (e) => e?.members === 1,
        CYCLE_MS,
        "listed with its member",
      );
      return () =>
        until(
          async () => (await call("GET", `/v1/groups/${g}`)).status,
          (s) => s === 404,
          6000,
          "expired",
        );
    };
    const plain = freshGroup("exp");
    await (await expire(plain))();
    await until(
      () => listed(plain),
      (e) => e === undefined,
      CYCLE_MS,
      "expired group unlisted",
    );

    const failing = freshGroup("expf");
    const expired = await expire(failing);
    await setFault(failing, "throw");
    await expired();
    await sleep(500);
    expect((await groupObject(failing).stats()).alarmAt).not.toBeNull();
    await setFault(failing, "none");
    await until(
      () => listed(failing),
      (e) => e === undefined,
      CYCLE_MS,
      "unlisted after the fault",
    );
  });
});
