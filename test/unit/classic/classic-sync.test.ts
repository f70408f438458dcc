/**
 * SyncGroup, Heartbeat, LeaveGroup and session expiry on the pure state machine with a fake clock.
 */

import { describe, expect, it } from "vitest";
import { checkCommitter } from "../../../src/core/offsets";
import { consumerAssignment, Driver, REBALANCE, SESSION } from "./harness";

describe("classic sync", () => {
  it("parks followers until the leader's assignments arrive; members left out get an empty one", () => {
    const d = new Driver();
    const joins = [d.newMember(), d.newMember(), d.newMember()];
    d.advance(1000);
    const leader = d.group.leaderId!;
    const [f1, f2] = joins.map((j) => j.memberId).filter((id) => id !== leader);
    const s1 = d.sync(f1!, 1);
    expect(s1.kind).toBe("parked");
    expect(d.code(d.heartbeat(f1!, 1))).toBe("OK");
    const sl = d.sync(leader, 1, {
      [leader]: consumerAssignment("orders", [0]),
      [f1!]: consumerAssignment("orders", [1]),
    });
    expect(d.value(sl).assignment).toBe(consumerAssignment("orders", [0]));
    expect(d.value(s1)).toEqual({
      protocolType: "consumer",
      protocolName: "range",
      assignment: consumerAssignment("orders", [1]),
    });
    expect(d.group.state).toBe("Stable");
    // f2 syncs after the leader: it gets its (empty) assignment at once.
    expect(d.value(d.sync(f2!, 1)).assignment).toBe("");
  });

  it("refuses syncs with the wrong generation, from unknown members, and during a rebalance", () => {
    const d = new Driver();
    const [a] = d.stableGroup(1);
    expect(d.code(d.sync(a!, 7))).toBe("ILLEGAL_GENERATION");
    expect(d.code(d.sync("nobody", 1))).toBe("UNKNOWN_MEMBER_ID");
    d.newMember();
    expect(d.code(d.sync(a!, 1))).toBe("REBALANCE_IN_PROGRESS");
  });

  it("answers parked syncs REBALANCE_IN_PROGRESS when a rebalance starts before the leader syncs", () => {
    const d = new Driver();
    const joins = [d.newMember(), d.newMember()];
    d.advance(1000);
    const follower = joins.map((j) => j.memberId).find((id) => id !== d.group.leaderId)!;
    const parked = d.sync(follower, 1);
    d.newMember();
    expect(d.code(parked)).toBe("REBALANCE_IN_PROGRESS");
  });

  it("refuses unreadable consumer assignments from the leader with INVALID_REQUEST", () => {
    const d = new Driver();
    const a = d.newMember();
    d.advance(1000);
    expect(d.code(d.sync(a.memberId, 1, { [a.memberId]: "{nope" }))).toBe("INVALID_REQUEST");
    expect(d.group.state).toBe("CompletingRebalance");
  });

  it("removes members that never sync after the rebalance timeout, and rebalances", () => {
    const d = new Driver();
    const joins = [d.newMember(), d.newMember()];
    d.advance(1000);
    const leader = d.group.leaderId!;
    const follower = joins.map((j) => j.memberId).find((id) => id !== leader)!;
    // The follower heartbeats but the leader never syncs.
    const parked = d.sync(follower, 1);
    for (let t = 0; t < REBALANCE + SESSION; t += SESSION / 2) {
      d.advance(SESSION / 2);
      if (d.group.members.has(follower) && d.group.state !== "PreparingRebalance") d.heartbeat(follower, 1);
    }
    expect(d.group.members.has(leader)).toBe(false);
    expect(d.code(parked)).toBe("REBALANCE_IN_PROGRESS");
  });
});

describe("classic heartbeat", () => {
  it("validates membership and generation", () => {
    const d = new Driver();
    const [a] = d.stableGroup(1);
    expect(d.code(d.heartbeat(a!, 1))).toBe("OK");
    expect(d.code(d.heartbeat(a!, 0))).toBe("ILLEGAL_GENERATION");
    expect(d.code(d.heartbeat("ghost", 1))).toBe("UNKNOWN_MEMBER_ID");
  });

  it("answers REBALANCE_IN_PROGRESS while the group prepares a rebalance, OK while it completes one", () => {
    const d = new Driver();
    const ids = d.stableGroup(2);
    d.newMember();
    expect(d.code(d.heartbeat(ids[0]!, 1))).toBe("REBALANCE_IN_PROGRESS");
    d.join(ids[0]!);
    d.join(ids[1]!);
    expect(d.group.state).toBe("CompletingRebalance");
    expect(d.code(d.heartbeat(ids[0]!, 2))).toBe("OK");
    expect(d.code(d.heartbeat(ids[0]!, 1))).toBe("ILLEGAL_GENERATION");
  });

  it("writes no row and never moves the earliest deadline earlier", () => {
    const d = new Driver();
    const ids = d.stableGroup(3);
    d.group.takeDirty();
    for (let i = 0; i < 10; i++) {
      const before = d.group.nextDeadline()!;
      d.advance(SESSION / 3);
      for (const id of ids) d.heartbeat(id, 1);
      expect(d.group.nextDeadline()!).toBeGreaterThanOrEqual(before);
    }
    const dirty = d.group.takeDirty();
    expect({ group: dirty.group, members: dirty.members.size }).toEqual({ group: false, members: 0 });
    expect(d.group.members.size).toBe(3);
  });

  it("evicts a member whose heartbeats went stale; a fresh member then leads the next generation", () => {
    const d = new Driver();
    const [old] = d.stableGroup(1);
    d.advance(SESSION - 1);
    expect(d.group.members.has(old!)).toBe(true);
    const fresh = d.newMember();
    d.advance(1);
    expect(d.group.members.has(old!)).toBe(false);
    expect(d.value(fresh.step)).toMatchObject({ generationId: 2, leaderId: fresh.memberId });
  });

  it("keeps a member whose join is parked past its session timeout", () => {
    const d = new Driver();
    const ids = d.stableGroup(2);
    d.join(ids[0]!);
    // ids[1] stays alive by heartbeating but does not rejoin; ids[0] waits in its join, silent.
    for (let t = 0; t < SESSION * 2; t += SESSION / 2) {
      d.advance(SESSION / 2);
      expect(d.code(d.heartbeat(ids[1]!, 1))).toBe("REBALANCE_IN_PROGRESS");
    }
    expect(d.group.members.has(ids[0]!)).toBe(true);
    expect(d.group.state).toBe("PreparingRebalance");
  });
});

describe("classic leave", () => {
  it("removes the leader and elects another member, which leads the next generation", () => {
    const d = new Driver();
    const ids = d.stableGroup(3);
    const leader = d.group.leaderId!;
    expect(d.code(d.leave({ memberId: leader }))).toBe("OK");
    expect(d.group.members.has(leader)).toBe(false);
    expect(ids).toContain(d.group.leaderId);
    expect(d.group.leaderId).not.toBe(leader);
    const rest = ids.filter((id) => id !== leader);
    const steps = rest.map((id) => d.join(id));
    const leaders = steps.map((s) => d.value(s).leaderId);
    expect(new Set(leaders).size).toBe(1);
    expect(rest).toContain(leaders[0]);
    expect(d.value(steps[0]!).generationId).toBe(2);
  });

  it("leaves in batches by member id or instance id, reporting the ones that could not", () => {
    const d = new Driver();
    const [a, b] = d.stableGroup(2);
    const res = d.value(d.leave({ memberId: a! }, { memberId: "ghost" }, { groupInstanceId: "nobody" }));
    expect(res.members?.map((m) => [m.memberId, m.groupInstanceId, m.error.code])).toEqual([
      ["ghost", null, "UNKNOWN_MEMBER_ID"],
      [null, "nobody", "UNKNOWN_MEMBER_ID"],
    ]);
    expect(d.group.members.has(a!)).toBe(false);
    // A leave retried after a lost response is no error: it reports the member as already gone.
    expect(d.value(d.leave({ memberId: a! })).members?.[0]?.error.code).toBe("UNKNOWN_MEMBER_ID");
    expect(d.code(d.leave({ memberId: b! }))).toBe("OK");
    expect(d.group.memberCount).toBe(0);
    expect(d.group.state).toBe("Empty");
    expect(checkCommitter(d.group, {}, d.now)).toBeNull();
  });
});
