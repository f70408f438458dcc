/**
 * src/log.ts against the real Worker and GroupObject: one JSON line per rebalance, per member fenced
 * by the alarm, and per admin call (refusals included), each parseable and carrying its group.
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { call, commit, freshGroup, token } from "../integration/helpers";
import { beat, join, settle, sleep, stub } from "./consumer-helpers";

let lines: Record<string, unknown>[] = [];

beforeEach(() => {
  lines = [];
  for (const method of ["log", "warn", "error"] as const) {
    vi.spyOn(console, method).mockImplementation((text: unknown) => {
      if (typeof text !== "string" || !text.startsWith("{")) return;
      const line = JSON.parse(text);
      lines.push({ ...line, via: method });
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

const events = (event: string, groupId: string) =>
  lines.filter((l) => l.event === event && l.groupId === groupId);

describe("structured logs", () => {
  it("log each rebalance, and a member fenced by its session timeout", async () => {
    const g = freshGroup("log");
    const a = await join(g, "a", { t: 4 });
    const b = await join(g, "b", { t: 4 });
    await settle(g, [a, b]);
    const joined = events("cohort.rebalance", g);
    expect(joined.map((l) => l.groupEpoch)).toEqual([1, 2]);
    expect(joined[1]).toMatchObject({
      type: "consumer",
      members: 2,
      cause: "request",
      previous: 1,
      level: "info",
    });
    expect(typeof joined[0]!.at).toBe("string");
    // a stops heartbeating; b goes on until a's session (1.5 s) has lapsed.
    for (let i = 0; i < 4; i++) {
      await sleep(450);
      await beat(g, b);
    }
    await runDurableObjectAlarm(stub(g));
    expect(events("cohort.member_fenced", g)).toEqual([
      expect.objectContaining({
        memberId: "a",
        reason: "session_timeout",
        cause: "deadline",
        type: "consumer",
        level: "warn",
        via: "warn",
      }),
    ]);
    expect(events("cohort.rebalance", g).at(-1)).toMatchObject({
      groupEpoch: 3,
      members: 1,
      cause: "deadline",
    });
  });

  it("log a member that leaves as removed by a request, not fenced", async () => {
    const g = freshGroup("log");
    const a = await join(g, "a", { t: 2 });
    await beat(g, a, { memberEpoch: -1 });
    expect(events("cohort.member_removed", g)).toEqual([
      expect.objectContaining({ memberId: "a", reason: "leave", cause: "request" }),
    ]);
    expect(events("cohort.member_fenced", g)).toEqual([]);
  });

  it("log the history's reason for each departure: a static member's temporary leave, a stale epoch rejoining", async () => {
    const g = freshGroup("log");
    const s = await join(g, "s", { t: 2 }, { groupInstanceId: "i-1" });
    const d = await join(g, "d", { t: 2 });
    await settle(g, [s, d]);
    await beat(g, s, { memberEpoch: -2, groupInstanceId: "i-1" });
    // d rejoins at epoch 0 while holding an epoch: what a client does after FENCED_MEMBER_EPOCH.
    await join(g, "d", { t: 2 });
    expect(events("cohort.member_removed", g)).toEqual([
      expect.objectContaining({ memberId: "s", reason: "static_leave", level: "info" }),
    ]);
    expect(events("cohort.member_fenced", g)).toEqual([
      expect.objectContaining({ memberId: "d", reason: "fenced_epoch", cause: "request", level: "warn" }),
    ]);
    // The logs say what the group's history says, event for event.
    const history = (await call("GET", `/v1/groups/${g}/events?limit=1000`)).body.events;
    const departures = history
      .filter((e: any) => e.type === "member_left" || e.type === "member_fenced")
      .map((e: any) => [e.memberId, e.detail.reason]);
    const logged = lines
      .filter(
        (l) => l.groupId === g && (l.event === "cohort.member_removed" || l.event === "cohort.member_fenced"),
      )
      .map((l) => [l.memberId, l.reason]);
    expect(logged).toEqual(departures);
  });

  it("log each admin call with its action, group, topic and status, refusals as warnings", async () => {
    const g = freshGroup("log");
    expect((await commit(g, [{ topic: "t", partition: 0, offset: 5 }])).status).toBe(200);
    const reset = { topic: "t", to: "earliest", dryRun: true };
    expect((await call("POST", `/v1/groups/${g}/offsets/reset`, reset)).status).toBe(200);
    const describer = await token({ scope: "describe" });
    expect((await call("DELETE", `/v1/groups/${g}/offsets/t`, undefined, { token: describer })).status).toBe(
      403,
    );
    expect((await call("DELETE", `/v1/groups/${g}/offsets/t`)).status).toBe(200);
    expect(events("cohort.admin", g)).toEqual([
      expect.objectContaining({
        action: "offsets.reset",
        topic: "t",
        dryRun: true,
        status: 200,
        level: "info",
      }),
      expect.objectContaining({ action: "offsets.delete", topic: "t", status: 403, level: "warn" }),
      expect.objectContaining({ action: "offsets.delete", topic: "t", status: 200 }),
    ]);
    // A commit is not an admin action.
    expect(lines.filter((l) => l.event === "cohort.admin").length).toBe(3);
  });
});
