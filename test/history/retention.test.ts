/**
 * Lag sampling cadence and what happens to history when the group itself goes, in virtual time: the
 * test moves the coordinator's clock (src/core/clock.ts) and fires the object's real alarm, as the
 * model tests do. OFFSETS_RETENTION_MS is 600,000 in this project.
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advanceClock, now } from "../../src/core/clock";
import { call, commit, expectError, freshGroup, LIST_LAG, listedIds, token } from "../integration/helpers";
import { allEvents, cost, events, inObject, lagHistory, rows, stub } from "./history-helpers";

const RETENTION = 600_000;

/** Moves the clock to the start of the next minute (samples are one per minute of the clock). */
const nextMinute = () => advanceClock(60_000 - (now() % 60_000));

const reported = (offset: number, logEndOffset: number) => [
  { topic: "t", partition: 0, offset, logEndOffset },
  { topic: "t", partition: 1, offset, logEndOffset: logEndOffset + 5 },
];

async function fireAlarm(g: string): Promise<number | null> {
  const at = await inObject(g, (_o, state) => state.storage.getAlarm());
  if (at !== null) await runDurableObjectAlarm(stub(g) as never);
  return at;
}

describe("lag samples", () => {
  it("at most one per minute, from the log ends commits report; one more row than the commit", async () => {
    const g = freshGroup("lag");
    nextMinute();
    const first = await cost(g, () => commit(g, reported(10, 30)));
    expect(first.after.samples).toBe(1);
    const t0 = now();
    advanceClock(20_000);
    // The same minute: the commit costs its offset rows only.
    const again = await cost(g, () => commit(g, reported(12, 30)));
    expect(again).toMatchObject({ written: 2, events: 0 });
    expect(again.after.samples).toBe(1);
    advanceClock(40_000);
    // A commit without log ends takes no sample, even in a new minute.
    const plain = await cost(g, () => commit(g, [{ topic: "t", partition: 0, offset: 13 }]));
    expect(plain).toMatchObject({ written: 1, events: 0 });
    expect(plain.after.samples).toBe(1);
    const next = await cost(g, () => commit(g, reported(15, 40)));
    // Two offset rows and one sample row, in one transaction.
    expect(next.written).toBe(3);
    const samples = (await lagHistory(g)).body.samples;
    expect(samples.map((s: any) => s.totalLag)).toEqual([20 + 25, 25 + 30]);
    expect(samples[0].at).toBeGreaterThanOrEqual(t0 - 1000);
    expect((await lagHistory(g, `?since=${samples[1].at}`)).body.samples).toHaveLength(1);
  });

  it("kept for OFFSETS_RETENTION_MS: older samples leave the answer and their slots are reused", async () => {
    const g = freshGroup("lag");
    for (let minute = 0; minute < 14; minute++) {
      nextMinute();
      expect((await commit(g, reported(minute, 100))).status).toBe(200);
    }
    const samples = (await lagHistory(g)).body.samples;
    // Ten minutes of retention: the samples of the last ten minutes (one slot more is kept as margin).
    expect(samples.length).toBe(10);
    expect(samples.every((s: any) => s.at > now() - RETENTION)).toBe(true);
    expect((await rows(g)).samples).toBe(11);
  });
});

describe("history after the group is gone", () => {
  it("an expired group: describe 404, the history says it died, purged a retention later by the one alarm", async () => {
    const g = freshGroup("gone");
    const alice = await token({ sub: "alice" });
    expect((await commit(g, reported(10, 20))).status).toBe(200);
    await call("POST", `/v1/groups/${g}/offsets/reset`, { topic: "t", to: "earliest" }, { token: alice });
    const lastSeq = (await rows(g)).lastSeq;
    advanceClock(RETENTION + 1);
    await fireAlarm(g);
    expectError(await call("GET", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
    expectError(await call("GET", `/v1/groups/${g}/lag`), 404, "GROUP_ID_NOT_FOUND", 69);
    const list = await allEvents(g);
    expect(list.at(-1)).toMatchObject({
      seq: lastSeq + 1,
      type: "state_changed",
      detail: { from: "Empty", to: "Dead" },
    });
    expect("actor" in list.at(-1)).toBe(false);
    await expect.poll(() => listedIds(`?prefix=${g}`), LIST_LAG).toEqual([]);
    // The alarm stays armed for the purge, a retention after the last event.
    const armed = await inObject(g, (_o, state) => state.storage.getAlarm());
    expect(armed).toBe(list.at(-1).at + RETENTION);
    advanceClock(RETENTION);
    await fireAlarm(g);
    expectError(await events(g), 404, "GROUP_ID_NOT_FOUND", 69);
    expectError(await lagHistory(g), 404, "GROUP_ID_NOT_FOUND", 69);
    expect(await rows(g)).toMatchObject({ events: 0, samples: 0 });
    expect(await inObject(g, (_o, state) => state.storage.getAlarm())).toBeNull();
    // A group created again under the id continues the seq.
    expect((await commit(g, reported(1, 2))).status).toBe(200);
    await call("POST", `/v1/groups/${g}/offsets/reset`, { topic: "t", to: "latest" }, { token: alice });
    expect((await allEvents(g)).map((e) => [e.seq, e.type, e.actor])).toEqual([
      [lastSeq + 2, "offsets_reset", "alice"],
    ]);
  });

  it("a consumer group whose last member's session expired: fenced, Empty, Dead", async () => {
    const g = freshGroup("gone");
    const res = await call("POST", `/v1/groups/${g}/heartbeat`, {
      memberId: "m",
      memberEpoch: 0,
      subscribedTopics: [{ name: "t", partitions: 1 }],
      ownedPartitions: [],
    });
    expect(res.status).toBe(200);
    advanceClock(3001);
    await fireAlarm(g);
    expectError(await call("GET", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
    const tail = (await allEvents(g)).slice(-3);
    expect(tail.map((e) => [e.type, e.detail.reason ?? e.detail.to])).toEqual([
      ["member_fenced", "session_timeout"],
      ["state_changed", "Empty"],
      ["state_changed", "Dead"],
    ]);
  });
});
