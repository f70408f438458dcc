/**
 * History of share groups and of admin calls at their largest (API.md §7, §8): one `share_archived`
 * per archived range and one `share_redriven` per redrive that redrove something, with the actor;
 * a reset and an OffsetDelete of 10,000 partitions answer 200 and write one event each, whose row stays
 * readable (the detail may abbreviate, never break the page).
 */

import { describe, expect, it } from "vitest";
import { shareGroupWithArchive } from "../console/console-helpers";
import { call, freshGroup, token } from "../integration/helpers";

const kept = async (g: string) => {
  const res = await call("GET", `/v1/groups/${g}/events?limit=1000`);
  expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
  return res.body.events as any[];
};
const ofType = (list: any[], type: string) => list.filter((e) => e.type === type);

describe("share groups", () => {
  it("a reject archives once; a redrive records once with its actor; a redrive of nothing records nothing", async () => {
    const g = freshGroup("ashare");
    await shareGroupWithArchive(g, "jobs");
    const archived = ofType(await kept(g), "share_archived");
    expect(archived.map((e) => e.detail)).toEqual([
      { topic: "jobs", partition: 0, firstOffset: 0, lastOffset: 1, reason: "rejected" },
    ]);
    const ops = await token({ sub: "ops-1" });
    const first = await call(
      "POST",
      `/v1/groups/${g}/share/archived/redrive`,
      { topic: "jobs" },
      { token: ops },
    );
    expect(first.body).toEqual({ redriven: 2 });
    const afterFirst = await kept(g);
    const redriven = ofType(afterFirst, "share_redriven");
    expect(redriven).toHaveLength(1);
    expect(redriven[0]).toMatchObject({ actor: "ops-1", detail: { topic: "jobs", partition: 0, count: 2 } });
    // Nothing is archived any more: the same redrive changes nothing, so it is no event.
    const again = await call(
      "POST",
      `/v1/groups/${g}/share/archived/redrive`,
      { topic: "jobs" },
      { token: ops },
    );
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ redriven: 0 });
    expect(await kept(g)).toEqual(afterFirst);
  });

  it("a share member's steady heartbeats and acquire polls that find nothing record nothing", async () => {
    const g = freshGroup("asharehb");
    const memberId = await shareGroupWithArchive(g, "jobs");
    const before = await kept(g);
    for (let i = 0; i < 3; i++) {
      const hb = await call("POST", `/v1/groups/${g}/share/heartbeat`, { memberId, memberEpoch: 1 });
      expect([200, 409], JSON.stringify(hb.body)).toContain(hb.status);
      const epoch = hb.status === 200 ? hb.body.memberEpoch : null;
      if (epoch !== null) expect(epoch).toBeGreaterThan(0);
    }
    const acquire = await call("POST", `/v1/groups/${g}/share/acquire`, {
      memberId,
      maxRecords: 10,
      partitions: [{ topic: "jobs", partition: 0, logEndOffset: 5 }],
    });
    expect(acquire.status).toBe(200);
    expect(acquire.body.records).toEqual([]);
    expect(await kept(g)).toEqual(before);
  });
});

describe("admin calls at their largest", () => {
  it("a reset and an OffsetDelete of 10,000 partitions: one event each, readable", async () => {
    const g = freshGroup("abig");
    const offsets = Array.from({ length: 10_000 }, (_, partition) => ({ topic: "t", partition, offset: 7 }));
    expect((await call("POST", `/v1/groups/${g}/offsets`, { offsets })).status).toBe(200);
    const before = (await kept(g)).length;
    const reset = await call(
      "POST",
      `/v1/groups/${g}/offsets/reset`,
      { topic: "t", to: "earliest" },
      { token: await token({ sub: "x".repeat(4000) }) },
    );
    expect(reset.status).toBe(200);
    expect(reset.body.offsets).toHaveLength(10_000);
    const del = await call("DELETE", `/v1/groups/${g}/offsets/t`);
    expect(del.status, JSON.stringify(del.body).slice(0, 300)).toBe(200);
    const list = await kept(g);
    expect(ofType(list, "offsets_reset")).toHaveLength(1);
    expect(ofType(list, "offsets_deleted")).toHaveLength(1);
    expect(list.length - before).toBeGreaterThanOrEqual(2);
    expect(ofType(list, "offsets_reset")[0].actor).toBe("x".repeat(4000));
  });
});
