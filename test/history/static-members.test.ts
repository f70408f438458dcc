/**
 * A static member's departure in the history on the real runtime (API.md §8), read over HTTP: a
 * consumer-protocol member that leaves temporarily (memberEpoch −2) is recorded as `member_left`
 * (`static_leave`) once, whether its instance comes back under a new member id (then only the new id's
 * `member_joined`, no `replaced_static`) or never does (its session's expiry adds no member event).
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advanceClock } from "../../src/core/clock";
import { heartbeat, join } from "../consumer/consumer-helpers";
import { freshGroup } from "../integration/helpers";
import { allEvents, stub } from "./history-helpers";

/** The member events, as [type, memberId, reason]. */
const memberEvents = (list: any[]) =>
  list.filter((e) => e.type.startsWith("member_")).map((e) => [e.type, e.memberId, e.detail.reason]);

const leaveStatic = async (g: string, memberId: string, instance: string) => {
  const res = await heartbeat(g, { memberId, memberEpoch: -2, groupInstanceId: instance });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
};

describe("a static member that leaves with memberEpoch -2", () => {
  it("and rejoins under a new member id: left once, then the new id joined", async () => {
    const g = freshGroup("hist-static");
    await join(g, "s1", { t: 2 }, { groupInstanceId: "inst" });
    await leaveStatic(g, "s1", "inst");
    const back = await join(g, "s2", { t: 2 }, { groupInstanceId: "inst", clientId: "svc-2" });
    expect(back.owned.flatMap((tp) => tp.partitions)).toHaveLength(2);
    const list = await allEvents(g);
    expect(memberEvents(list)).toEqual([
      ["member_joined", "s1", undefined],
      ["member_left", "s1", "static_leave"],
      ["member_joined", "s2", undefined],
    ]);
    expect(list.at(-1)).toMatchObject({
      type: "member_joined",
      detail: { clientId: "svc-2", groupInstanceId: "inst" },
    });
  });

  it("and never returns: its session's expiry records no second departure", async () => {
    const g = freshGroup("hist-static");
    await join(g, "s", { t: 2 }, { groupInstanceId: "inst" });
    await leaveStatic(g, "s", "inst");
    // Past CONSUMER_SESSION_TIMEOUT_MS (3 s in this project) on the coordinator's clock.
    advanceClock(3_001);
    await runDurableObjectAlarm(stub(g) as never);
    const list = await allEvents(g);
    expect(memberEvents(list)).toEqual([
      ["member_joined", "s", undefined],
      ["member_left", "s", "static_leave"],
    ]);
    // The reservation ended with the session: the group went Empty, and with no offsets, Dead.
    const states = list.filter((e) => e.type === "state_changed").map((e) => e.detail.to);
    expect(states.slice(-2)).toEqual(["Empty", "Dead"]);
  });
});
