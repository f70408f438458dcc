/**
 * Membership changes in the history, each exactly once (API.md §4, §5, §8): a consumer leave (−1), a
 * static leave (−2) and the instance's return, a repeated leave that fails (409: nothing), a classic
 * static member replaced by its instance's new join (fenced `replaced_static`, no rebalance), and
 * steady classic heartbeats (nothing). The ring holds 10 here, so each step is checked by what it added.
 */

import { describe, expect, it } from "vitest";
import { beat, join } from "../consumer/consumer-helpers";
import { call, expectError, freshGroup } from "../integration/helpers";

const kept = async (g: string) =>
  (await call("GET", `/v1/groups/${g}/events?limit=1000`)).body.events as any[];

/** The events `step` added, as [type, memberId, reason or target state]. */
async function added(g: string, step: () => Promise<unknown>) {
  const before = (await kept(g)).at(-1)?.seq ?? 0;
  await step();
  return (await kept(g))
    .filter((e) => e.seq > before)
    .map((e) => [e.type, e.memberId ?? null, e.detail.reason ?? e.detail.to ?? null]);
}

describe("consumer protocol", () => {
  it("a leave is one member_left; leaving again is a 409 that records nothing", async () => {
    const g = freshGroup("aleave");
    const a = await join(g, "a", { t: 2 });
    const b = await join(g, "b", { t: 2 });
    await beat(g, a);
    const left = await added(g, async () => {
      expect(
        (await call("POST", `/v1/groups/${g}/heartbeat`, { memberId: "b", memberEpoch: -1 })).status,
      ).toBe(200);
    });
    expect(left.filter(([t]) => t === "member_left")).toEqual([["member_left", "b", "leave"]]);
    expect(left.filter(([t]) => t.startsWith("member_") && t !== "member_left")).toEqual([]);
    const again = await added(g, async () => {
      expectError(
        await call("POST", `/v1/groups/${g}/heartbeat`, { memberId: "b", memberEpoch: -1 }),
        409,
        "UNKNOWN_MEMBER_ID",
        25,
      );
      expectError(
        await call("POST", `/v1/groups/${g}/heartbeat`, { memberId: "b", memberEpoch: b.memberEpoch }),
        409,
        "UNKNOWN_MEMBER_ID",
        25,
      );
    });
    expect(again).toEqual([]);
  });

  it("a static leave (−2) is one member_left static_leave; the instance's return one member_joined", async () => {
    const g = freshGroup("astatic");
    await join(g, "a", { t: 2 });
    await join(g, "s1", { t: 2 }, { groupInstanceId: "inst" });
    const left = await added(g, async () => {
      const res = await call("POST", `/v1/groups/${g}/heartbeat`, {
        memberId: "s1",
        memberEpoch: -2,
        groupInstanceId: "inst",
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    });
    expect(left.filter(([t]) => t.startsWith("member_"))).toEqual([["member_left", "s1", "static_leave"]]);
    const back = await added(g, async () => {
      const res = await call("POST", `/v1/groups/${g}/heartbeat`, {
        memberId: "s2",
        memberEpoch: 0,
        groupInstanceId: "inst",
        subscribedTopics: [{ name: "t", partitions: 2 }],
        ownedPartitions: [],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    });
    // The −2 member stays in describe (epoch −2) until its instance returns; its departure is on record
    // already, so the return is the new member's join alone (no member_fenced replaced_static for s1).
    const members = back.filter(([t]) => t.startsWith("member_"));
    expect(members).toEqual([["member_joined", "s2", null]]);
  });
});

describe("classic protocol", () => {
  const joinClassic = (g: string, body: Record<string, unknown>) =>
    call("POST", `/v1/groups/${g}/classic/join`, {
      memberId: "",
      clientId: "svc",
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 2000,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: JSON.stringify({ topics: ["t"] }) }],
      ...body,
    });

  it("steady heartbeats record nothing; a static rejoin fences the old member once, without a rebalance", async () => {
    const g = freshGroup("aclassic");
    const first = await joinClassic(g, { groupInstanceId: "w1" });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const { memberId, generationId } = first.body;
    const sync = await call("POST", `/v1/groups/${g}/classic/sync`, {
      memberId,
      generationId,
      groupInstanceId: "w1",
      assignments: [
        { memberId, assignment: JSON.stringify({ partitions: [{ topic: "t", partitions: [0] }] }) },
      ],
    });
    expect(sync.status, JSON.stringify(sync.body)).toBe(200);
    const steady = await added(g, async () => {
      for (let i = 0; i < 4; i++) {
        const hb = await call("POST", `/v1/groups/${g}/classic/heartbeat`, {
          memberId,
          generationId,
          groupInstanceId: "w1",
        });
        expect(hb.status, JSON.stringify(hb.body)).toBe(200);
      }
    });
    expect(steady).toEqual([]);
    const replaced = await added(g, async () => {
      const again = await joinClassic(g, { groupInstanceId: "w1" });
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(again.body.generationId).toBe(generationId);
      expectError(
        await call("POST", `/v1/groups/${g}/classic/heartbeat`, {
          memberId,
          generationId,
          groupInstanceId: "w1",
        }),
        409,
        "FENCED_INSTANCE_ID",
        82,
      );
    });
    expect(replaced.filter(([t]) => t === "member_fenced")).toEqual([
      ["member_fenced", memberId, "replaced_static"],
    ]);
    expect(replaced.filter(([t]) => t === "rebalance")).toEqual([]);
    expect(replaced.filter(([t]) => t === "member_joined")).toHaveLength(1);
  });
});
