/**
 * The classic and share protocols' events on the real runtime, each written once with its change:
 * a classic generation (joins, every state transition, one rebalance at the leader's sync, a leave),
 * and a share group's archived range, its redrive by an actor, and the lag sample of an
 * acknowledgement. The join phase is ended by moving the coordinator's clock and firing the alarm.
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advanceClock } from "../../src/core/clock";
import { join, leave, syncAll } from "../classic/members";
import { freshGroup, token } from "../integration/helpers";
import { acknowledge, joinShare, redrive, take } from "../share/share-helpers";
import { allEvents, lagHistory, rows, stub } from "./history-helpers";

const issued = async (g: string) => (await join(g)).body.error.memberId as string;

describe("classic protocol", () => {
  it("a generation: joins, three transitions, one rebalance; a leave", async () => {
    const g = freshGroup("hist-classic");
    const [a, b] = [await issued(g), await issued(g)];
    const joins = [join(g, { memberId: a }), join(g, { memberId: b })];
    // Through the initial delay (GROUP_INITIAL_REBALANCE_DELAY_MS, 3 s by default, extended while
    // members arrive) in virtual time: move the clock a step and fire the alarm until the phase ends.
    let done = false;
    const all = Promise.all(joins).finally(() => {
      done = true;
    });
    for (let step = 0; step < 10 && !done; step++) {
      await new Promise((r) => setTimeout(r, 20));
      advanceClock(3_000);
      await runDurableObjectAlarm(stub(g) as never);
    }
    const joined = await all;
    expect(joined.map((r) => r.status)).toEqual([200, 200]);
    const synced = await syncAll(g, joined);
    expect(synced.map((r) => r.status)).toEqual([200, 200]);
    const list = await allEvents(g);
    expect(list.map((e) => [e.type, e.memberId ?? e.detail.to ?? null])).toEqual([
      ["member_joined", a],
      ["state_changed", "PreparingRebalance"],
      ["member_joined", b],
      ["state_changed", "CompletingRebalance"],
      ["state_changed", "Stable"],
      ["rebalance", null],
    ]);
    expect(list.at(-1).detail).toEqual({ generationId: 1, members: 2, partitionsMoved: 2 });
    expect((await rows(g)).events).toBe(6);
    expect((await leave(g, [{ memberId: a }])).status).toBe(200);
    expect((await allEvents(g)).slice(6).map((e) => [e.type, e.memberId ?? e.detail.to])).toEqual([
      ["member_left", a],
      ["state_changed", "PreparingRebalance"],
    ]);
  });
});

describe("share groups", () => {
  it("an archived range, its redrive with the actor, and a lag sample from the acknowledgement", async () => {
    const g = freshGroup("hist-share");
    const m = await joinShare(g, { t: 1 });
    const got = await take(g, m, [{ partition: 0, logEndOffset: 10, logStartOffset: 0 }]);
    expect(got.body.records.length).toBeGreaterThan(0);
    const before = await rows(g);
    const acked = await acknowledge(g, {
      memberId: m.memberId,
      acknowledgements: [{ topic: "t", partition: 0, firstOffset: 0, lastOffset: 1, type: "reject" }],
    });
    expect(acked.status).toBe(200);
    const after = await rows(g);
    expect({ events: after.lastSeq - before.lastSeq, samples: after.samples - before.samples }).toEqual({
      events: 1,
      samples: 1,
    });
    const bob = await token({ sub: "bob" });
    expect((await redrive(g, { topic: "t", partition: 0 }, bob)).body).toEqual({ redriven: 2 });
    const tail = (await allEvents(g)).slice(-2);
    expect(tail.map((e) => [e.type, e.actor ?? null, e.detail])).toEqual([
      [
        "share_archived",
        null,
        { topic: "t", partition: 0, firstOffset: 0, lastOffset: 1, reason: "rejected" },
      ],
      ["share_redriven", "bob", { topic: "t", partition: 0, firstOffset: 0, lastOffset: 1, count: 2 }],
    ]);
    // The sample is the share group's lag from its start offset once the rejected range was archived.
    const [sample] = (await lagHistory(g)).body.samples;
    expect((await lagHistory(g)).body.samples).toHaveLength(1);
    expect(sample.totalLag).toBe(8);
  });
});
