/**
 * JoinGroup on the pure state machine with a fake clock: KIP-394 ids, the initial delay and its
 * extension, leader election, the join barrier, rejoins in Stable, and every join error code.
 */

import { describe, expect, it } from "vitest";
import { ClassicGroup } from "../../../src/core/classic/classic-group";
import { CONFIG, consumerMeta, Driver, REBALANCE, SESSION } from "./harness";

describe("classic join", () => {
  it("asks a new member to rejoin with an issued id, then makes the first joiner leader of generation 1", () => {
    const d = new Driver();
    const first = d.join("");
    expect(d.code(first)).toBe("MEMBER_ID_REQUIRED");
    const memberId = (first as any).result.error.extra.memberId as string;
    expect(memberId).toMatch(/^client-/);
    const second = d.join(memberId);
    expect(second.kind).toBe("parked");
    expect(d.group.state).toBe("PreparingRebalance");
    d.advance(CONFIG.groupInitialRebalanceDelayMs - 1);
    expect(d.result(second)).toBeUndefined();
    d.advance(1);
    const res = d.value(second);
    expect(res).toMatchObject({ generationId: 1, leaderId: memberId, memberId, protocolName: "range" });
    expect(res.members).toEqual([{ memberId, groupInstanceId: null, metadata: consumerMeta(["orders"]) }]);
    expect(d.group.state).toBe("CompletingRebalance");
  });

  it("extends the initial delay in steps while members keep arriving, up to the rebalance timeout", () => {
    const d = new Driver({ ...CONFIG, groupInitialRebalanceDelayMs: 100 });
    const a = d.newMember({ rebalanceTimeoutMs: 350 });
    d.advance(50);
    const b = d.newMember({ rebalanceTimeoutMs: 350 });
    d.advance(50); // t=100: a member arrived during the first step, so wait another step
    expect(d.result(a.step)).toBeUndefined();
    d.advance(100); // t=200: nobody arrived in the second step
    expect(d.value(a.step).generationId).toBe(1);
    expect(d.value(b.step).generationId).toBe(1);

    const e = new Driver({ ...CONFIG, groupInitialRebalanceDelayMs: 100 });
    const steps = [e.newMember({ rebalanceTimeoutMs: 350 }).step];
    for (let t = 0; t < 6; t++) {
      e.advance(60);
      steps.push(e.newMember({ rebalanceTimeoutMs: 350 }).step);
    }
    // Delay 100 + at most (350 - 100) of extensions: done by t=350 although members kept coming.
    expect(e.now - 1_000_000).toBe(360);
    expect(e.group.generationId).toBe(1);
    expect(e.value(steps[0]!).members.length).toBeGreaterThanOrEqual(5);
  });

  it("gives three members one leader and one generation; only the leader gets the member list", () => {
    const d = new Driver();
    const joins = [d.newMember(), d.newMember(), d.newMember()];
    d.advance(1000);
    const answers = joins.map((j) => d.value(j.step));
    expect(new Set(answers.map((r) => r.generationId))).toEqual(new Set([1]));
    expect(new Set(answers.map((r) => r.leaderId)).size).toBe(1);
    const leader = answers[0]!.leaderId;
    for (const r of answers) expect(r.members.length).toBe(r.memberId === leader ? 3 : 0);
  });

  it("completes a rebalance as soon as every known member has rejoined", () => {
    const d = new Driver();
    const [a, b] = d.stableGroup(2);
    const gen = d.group.generationId;
    const c = d.newMember();
    expect(d.group.state).toBe("PreparingRebalance");
    const ra = d.join(a!);
    expect(d.result(ra)).toBeUndefined();
    const rb = d.join(b!);
    for (const s of [c.step, ra, rb]) expect(d.value(s).generationId).toBe(gen + 1);
    expect(d.group.state).toBe("CompletingRebalance");
  });

  it("removes dynamic members that did not rejoin by the rebalance timeout", () => {
    const d = new Driver();
    const [a, b] = d.stableGroup(2);
    const c = d.newMember();
    const ra = d.join(a!);
    // b keeps heartbeating (so its session lives) but never rejoins.
    for (let t = 0; t < REBALANCE; t += SESSION / 2) {
      d.advance(SESSION / 2);
      if (d.group.members.has(b!)) expect(d.code(d.heartbeat(b!, 1))).toBe("REBALANCE_IN_PROGRESS");
    }
    expect(d.value(ra).generationId).toBe(2);
    expect(d.value(c.step).members).toEqual([]);
    expect([...d.group.members.keys()].sort()).toEqual([a!, c.memberId].sort());
  });

  it("answers a follower's unchanged rejoin in a Stable group with the current generation", () => {
    const d = new Driver();
    const ids = d.stableGroup(3);
    const follower = ids.find((id) => id !== d.group.leaderId)!;
    d.group.takeDirty();
    const res = d.value(d.join(follower));
    expect(res).toMatchObject({ generationId: 1, memberId: follower, members: [] });
    expect(d.group.state).toBe("Stable");
    const dirty = d.group.takeDirty();
    expect({ group: dirty.group, members: dirty.members.size }).toEqual({ group: false, members: 0 });
  });

  it("rebalances when the leader rejoins or a follower's metadata changes", () => {
    const d = new Driver();
    const ids = d.stableGroup(2);
    const leader = d.group.leaderId!;
    const follower = ids.find((id) => id !== leader)!;
    expect(d.join(leader).kind).toBe("parked");
    expect(d.group.state).toBe("PreparingRebalance");

    const e = new Driver();
    const ids2 = e.stableGroup(2);
    const f2 = ids2.find((id) => id !== e.group.leaderId)!;
    const changed = e.join(f2, {
      protocols: [{ name: "range", metadata: consumerMeta(["orders", "refunds"]) }],
    });
    expect(changed.kind).toBe("parked");
    expect(e.group.state).toBe("PreparingRebalance");
    expect(e.group.members.get(f2)!.subscribedTopics).toEqual(["orders", "refunds"]);
    expect(follower).not.toBe(leader);
  });

  it("answers a rejoin with unchanged metadata during CompletingRebalance with the current generation", () => {
    const d = new Driver();
    const a = d.newMember();
    d.advance(1000);
    expect(d.group.state).toBe("CompletingRebalance");
    const again = d.value(d.join(a.memberId));
    expect(again).toMatchObject({ generationId: 1, leaderId: a.memberId });
    expect(again.members.length).toBe(1);
  });

  it("tells a superseded parked join to retry", () => {
    const d = new Driver();
    const a = d.newMember();
    const again = d.join(a.memberId);
    expect(d.code(a.step)).toBe("REBALANCE_IN_PROGRESS");
    d.advance(1000);
    expect(d.value(again).generationId).toBe(1);
  });

  describe("errors", () => {
    it("INVALID_SESSION_TIMEOUT outside [min, max]", () => {
      const d = new Driver();
      expect(d.code(d.join("", { sessionTimeoutMs: 99 }))).toBe("INVALID_SESSION_TIMEOUT");
      expect(d.code(d.join("", { sessionTimeoutMs: 60_001 }))).toBe("INVALID_SESSION_TIMEOUT");
    });

    it("INCONSISTENT_GROUP_PROTOCOL for another protocol type or no protocol in common", () => {
      const d = new Driver();
      d.stableGroup(1);
      expect(d.code(d.join("", { protocolType: "connect" }))).toBe("INCONSISTENT_GROUP_PROTOCOL");
      const other = [{ name: "roundrobin", metadata: consumerMeta(["orders"]) }];
      expect(d.code(d.join("", { protocols: other }))).toBe("INCONSISTENT_GROUP_PROTOCOL");
      expect(d.code(d.join("", { protocols: [] }))).toBe("INCONSISTENT_GROUP_PROTOCOL");
    });

    it("INVALID_REQUEST for unreadable consumer metadata; other protocol types are opaque", () => {
      const d = new Driver();
      expect(d.code(d.join("", { protocols: [{ name: "range", metadata: "not json" }] }))).toBe(
        "INVALID_REQUEST",
      );
      expect(d.code(d.join("", { protocols: [{ name: "range", metadata: '{"topics":[1]}' }] }))).toBe(
        "INVALID_REQUEST",
      );
      const e = new Driver();
      expect(
        d.code(e.join("", { protocolType: "connect", protocols: [{ name: "x", metadata: "??" }] })),
      ).toBe("MEMBER_ID_REQUIRED");
    });

    it("GROUP_MAX_SIZE_REACHED once the group is full", () => {
      const d = new Driver({ ...CONFIG, groupMaxSize: 2 });
      d.stableGroup(2);
      expect(d.code(d.join(""))).toBe("GROUP_MAX_SIZE_REACHED");
    });

    it("UNKNOWN_MEMBER_ID for an id the group never issued", () => {
      const d = new Driver();
      d.stableGroup(1);
      expect(d.code(d.join("made-up"))).toBe("UNKNOWN_MEMBER_ID");
    });
  });

  it("forgets an issued id after its session and then refuses it", () => {
    const d = new Driver();
    const first = d.join("");
    const memberId = (first as any).result.error.extra.memberId as string;
    expect(d.group.isPinned()).toBe(true);
    d.advance(SESSION);
    expect(d.group.isPinned()).toBe(false);
    expect(d.code(d.join(memberId))).toBe("UNKNOWN_MEMBER_ID");
  });

  it("reads consumer subscriptions so describe, lag and OffsetDelete know them", () => {
    const d = new Driver();
    const ids = d.stableGroup(2, (_id, i) =>
      JSON.stringify({ partitions: [{ topic: "orders", partitions: [i] }] }),
    );
    expect(d.group.isSubscribed("orders")).toBe(true);
    expect(d.group.isSubscribed("other")).toBe(false);
    expect(d.group.partitionOwners()).toEqual(
      new Map([
        ["orders:0", ids[0]],
        ["orders:1", ids[1]],
      ]),
    );
    const described = d.group.describe().members.map((m) => m.assignment);
    expect(described).toEqual([
      [{ topic: "orders", partitions: [0] }],
      [{ topic: "orders", partitions: [1] }],
    ]);
  });

  it("survives a restart from its rows: membership, generation, leader, protocol and assignments", () => {
    const d = new Driver();
    const ids = d.stableGroup(2, (id) =>
      JSON.stringify({ partitions: [{ topic: "orders", partitions: [id.length] }] }),
    );
    const members = ids.map((id) => d.group.memberRecord(id)!);
    const restored = new ClassicGroup(
      JSON.parse(JSON.stringify(d.group.toRecord())),
      structuredClone(members),
      d.now,
    );
    expect(restored.describe()).toEqual(d.group.describe());
    expect(restored.nextDeadline()).toBe(d.now + SESSION);
    const r = new Driver(CONFIG, restored);
    r.now = d.now;
    expect(r.code(r.heartbeat(ids[0]!, 1))).toBe("OK");
  });

  it("restores a group that was rebalancing with a join deadline, so nothing waits forever", () => {
    const d = new Driver();
    d.stableGroup(2);
    d.newMember();
    const record = d.group.toRecord();
    expect(record.state).toBe("PreparingRebalance");
    const members = [...d.group.members.keys()].map((id) => d.group.memberRecord(id)!);
    const restored = new ClassicGroup(record, members, d.now);
    const r = new Driver(CONFIG, restored);
    r.now = d.now;
    r.advance(REBALANCE);
    // Nobody rejoined: the dynamic members are gone and the generation moved forward, never back.
    expect(restored.state).toBe("Empty");
    expect(restored.generationId).toBe(2);
  });
});
