/**
 * KIP-345 static membership and the declared state table, on the pure state machine.
 */

import { describe, expect, it } from "vitest";
import { isLegalTransition, LEGAL_PREDECESSORS } from "../../../src/core/classic/classic-states";
import { checkCommitter } from "../../../src/core/offsets";
import { consumerAssignment, consumerMeta, Driver } from "./harness";

/** A Stable group of static members "a" and "b"; returns their member ids by instance. */
function staticGroup(d: Driver): Record<string, string> {
  const a = d.join("", { groupInstanceId: "a" });
  const b = d.join("", { groupInstanceId: "b" });
  d.advance(1000);
  const ids = { a: d.value(a).memberId, b: d.value(b).memberId };
  const leader = d.group.leaderId!;
  const follower = leader === ids.a ? ids.b : ids.a;
  d.sync(follower, 1, {}, leader === ids.a ? "b" : "a");
  d.sync(
    leader,
    1,
    { [ids.a]: consumerAssignment("orders", [0]), [ids.b]: consumerAssignment("orders", [1]) },
    leader === ids.a ? "a" : "b",
  );
  expect(d.group.state).toBe("Stable");
  return ids;
}

describe("static membership (KIP-345)", () => {
  it("joins without MEMBER_ID_REQUIRED", () => {
    const d = new Driver();
    expect(d.join("", { groupInstanceId: "a" }).kind).toBe("parked");
  });

  it("lets a restarted instance take over with no rebalance, keeping its assignment; the old id is fenced", () => {
    const d = new Driver();
    const ids = staticGroup(d);
    d.group.takeDirty();
    const again = d.value(d.join("", { groupInstanceId: "b" }));
    expect(again.generationId).toBe(1);
    expect(again.memberId).not.toBe(ids.b);
    expect(d.group.state).toBe("Stable");
    expect(d.value(d.sync(again.memberId, 1, {}, "b")).assignment).toBe(consumerAssignment("orders", [1]));
    expect(d.code(d.heartbeat(ids.b!, 1, "b"))).toBe("FENCED_INSTANCE_ID");
    expect(d.code(d.sync(ids.b!, 1, {}, "b"))).toBe("FENCED_INSTANCE_ID");
    expect(
      checkCommitter(d.group, { memberId: ids.b, generationId: 1, groupInstanceId: "b" }, d.now)?.code,
    ).toBe("FENCED_INSTANCE_ID");
    expect(d.code(d.heartbeat(again.memberId, 1, "b"))).toBe("OK");
    expect(d.group.generationId).toBe(1);
  });

  it("rebalances a takeover that changes the selected protocol", () => {
    const d = new Driver();
    staticGroup(d);
    const both = [
      { name: "sticky", metadata: consumerMeta(["orders"]) },
      { name: "range", metadata: consumerMeta(["orders"]) },
    ];
    // With only two members, one vote each: the tie goes by name, so "range" stays and no rebalance.
    expect(d.join("", { groupInstanceId: "a", protocols: both }).kind).toBe("reply");
    expect(d.group.state).toBe("Stable");
    const step = d.join("", { groupInstanceId: "b", protocols: both });
    expect(step.kind).toBe("parked");
    expect(d.group.state).toBe("PreparingRebalance");
  });

  it("fences the replaced id's parked join, and refuses a known instance with another member id", () => {
    const d = new Driver();
    const ids = staticGroup(d);
    const leaderInstance = d.group.leaderId === ids.a ? "a" : "b";
    const parked = d.join(d.group.leaderId!, { groupInstanceId: leaderInstance });
    expect(parked.kind).toBe("parked");
    d.join("", { groupInstanceId: leaderInstance });
    expect(d.code(parked)).toBe("FENCED_INSTANCE_ID");
    expect(d.code(d.join("someone-else", { groupInstanceId: "a" }))).toBe("FENCED_INSTANCE_ID");
    expect(d.code(d.join("someone-else", { groupInstanceId: "zzz" }))).toBe("UNKNOWN_MEMBER_ID");
  });

  it("keeps a static member that does not rejoin through the rebalance, until its session expires", () => {
    const d = new Driver();
    const ids = staticGroup(d);
    const step = d.join(ids.a!, { groupInstanceId: "a" });
    d.heartbeat(ids.b!, 1, "b");
    expect(d.group.state).toBe("PreparingRebalance");
    d.advance(5000);
    expect(d.value(step).generationId).toBe(2);
    expect(d.group.members.has(ids.b!)).toBe(false); // its session ran out meanwhile
  });

  it("leaves by instance id; a mismatched member id is FENCED_INSTANCE_ID", () => {
    const d = new Driver();
    const ids = staticGroup(d);
    const fenced = d.value(d.leave({ groupInstanceId: "a", memberId: "other" }));
    expect(fenced.members).toEqual([
      {
        memberId: "other",
        groupInstanceId: "a",
        error: expect.objectContaining({ code: "FENCED_INSTANCE_ID", kafkaCode: 82 }),
      },
    ]);
    expect(d.group.members.has(ids.a!)).toBe(true);
    expect(d.value(d.leave({ groupInstanceId: "a" }))).toEqual({});
    expect(d.group.members.has(ids.a!)).toBe(false);
  });
});

describe("classic state table", () => {
  it("declares Kafka's legal predecessors and nothing else", () => {
    expect(LEGAL_PREDECESSORS).toEqual({
      Empty: ["PreparingRebalance"],
      PreparingRebalance: ["Stable", "CompletingRebalance", "Empty"],
      CompletingRebalance: ["PreparingRebalance"],
      Stable: ["CompletingRebalance"],
      Dead: ["Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead"],
    });
    expect(isLegalTransition("Empty", "Stable")).toBe(false);
    expect(isLegalTransition("Stable", "CompletingRebalance")).toBe(false);
  });

  it("asserts every transition", () => {
    const d = new Driver();
    expect(() => d.group.transitionTo("Stable")).toThrow(/cannot move from Empty to Stable/);
    expect(d.group.state).toBe("Empty");
  });
});
