/**
 * The consumer group's epoch, assignment, fencing, leave and deadline rules (API.md §3, §5), one rule
 * per test, against the pure core with a fake clock.
 */

import { describe, expect, it } from "vitest";
import { ClassicGroup } from "../../../src/core/classic/classic-group";
import type { ConsumerMember, ConsumerRecord } from "../../../src/core/consumer/consumer-group";
import { restoreGroup } from "../../../src/core/restore";
import { flat, Harness } from "./harness";

const owned = (assignment: { partitions: { topic: string; partitions: number[] }[] }) =>
  assignment.partitions;

describe("group epoch and target assignment", () => {
  it("bumps the group epoch on join and gives disjoint assignments covering every partition", () => {
    const h = new Harness();
    h.join("a", { t: 4 });
    h.join("b", { t: 4 });
    expect(h.consumer.groupEpoch).toBe(2);
    const a = h.must({
      memberId: "a",
      memberEpoch: 1,
      ownedPartitions: [{ topic: "t", partitions: [0, 1, 2, 3] }],
    });
    // a had everything at epoch 1; it must revoke half before b gets them.
    expect(a.memberEpoch).toBe(1);
    const kept = flat(a.assignment.partitions).t ?? [];
    expect(kept).toHaveLength(2);
    const a2 = h.must({ memberId: "a", memberEpoch: 1, ownedPartitions: owned(a.assignment) });
    expect(a2.memberEpoch).toBe(2);
    const b = h.must({ memberId: "b", memberEpoch: 2 });
    const all = [...kept, ...(flat(b.assignment.partitions).t ?? [])].sort();
    expect(all).toEqual([0, 1, 2, 3]);
    expect(h.consumer.state).toBe("Stable");
  });

  it("does not move the epoch for a heartbeat that changes nothing", () => {
    const h = new Harness();
    const a = h.join("a", { t: 2 });
    h.must({
      memberId: "a",
      memberEpoch: a.memberEpoch,
      subscribedTopics: [{ name: "t", partitions: 2 }],
      ownedPartitions: owned(a.assignment),
    });
    expect(h.consumer.groupEpoch).toBe(1);
  });

  it("bumps the epoch when a subscription changes", () => {
    const h = new Harness();
    const a = h.join("a", { t: 2 });
    const next = h.must({
      memberId: "a",
      memberEpoch: a.memberEpoch,
      subscribedTopics: [
        { name: "t", partitions: 2 },
        { name: "u", partitions: 1 },
      ],
    });
    expect(h.consumer.groupEpoch).toBe(2);
    expect(flat(next.assignment.partitions)).toEqual({ t: [0, 1], u: [0] });
  });

  it("takes the largest reported partition count, and growth bumps the epoch", () => {
    const h = new Harness();
    h.join("a", { t: 2 });
    h.join("b", { t: 4 });
    expect(h.consumer.partitionCounts).toEqual({ t: 4 });
    const epoch = h.consumer.groupEpoch;
    h.must({
      memberId: "a",
      memberEpoch: h.member("a")!.memberEpoch,
      subscribedTopics: [{ name: "t", partitions: 3 }],
    });
    expect(h.consumer.groupEpoch).toBe(epoch);
    expect(h.consumer.partitionCounts).toEqual({ t: 4 });
    h.must({
      memberId: "a",
      memberEpoch: h.member("a")!.memberEpoch,
      subscribedTopics: [{ name: "t", partitions: 6 }],
    });
    expect(h.consumer.groupEpoch).toBe(epoch + 1);
  });

  it("uses the assignor most members ask for, uniform by default, and refuses unknown names", () => {
    const h = new Harness();
    h.join("a", { t: 2 });
    expect(h.consumer.describe().assignor).toBe("uniform");
    h.join("b", { t: 2 }, { serverAssignor: "range" });
    expect(h.consumer.describe().assignor).toBe("range");
    const bad = h.heartbeat({
      memberEpoch: 0,
      subscribedTopics: [],
      ownedPartitions: [],
      serverAssignor: "nope",
    });
    expect(!bad.ok && bad.error.code).toBe("UNSUPPORTED_ASSIGNOR");
  });

  it("generates a memberId when a join has none, and answers with the configured heartbeat interval", () => {
    const h = new Harness();
    const r = h.must({
      memberEpoch: 0,
      subscribedTopics: [{ name: "t", partitions: 1 }],
      ownedPartitions: [],
    });
    expect(r).toEqual({
      memberId: "gen-1",
      memberEpoch: 1,
      heartbeatIntervalMs: 5000,
      assignment: { partitions: [{ topic: "t", partitions: [0] }] },
    });
  });

  it("requires subscribedTopics and ownedPartitions to join", () => {
    const h = new Harness();
    const r = h.heartbeat({ memberId: "a", memberEpoch: 0 });
    expect(!r.ok && r.error.code).toBe("INVALID_REQUEST");
  });
});

describe("fencing", () => {
  const twoMembers = () => {
    const h = new Harness();
    h.join("a", { t: 2 });
    h.must({ memberId: "a", memberEpoch: 1, ownedPartitions: [{ topic: "t", partitions: [0, 1] }] });
    return h;
  };

  it("fences an epoch newer than the member's", () => {
    const h = twoMembers();
    const r = h.heartbeat({ memberId: "a", memberEpoch: 5 });
    expect(!r.ok && r.error.code).toBe("FENCED_MEMBER_EPOCH");
  });

  it("fences an older epoch, except the previous one with owned partitions inside the assignment (lost response)", () => {
    const h = new Harness();
    h.join("a", { t: 2 }); // epoch 1, owns 0 and 1
    h.must({ memberId: "a", memberEpoch: 1, subscribedTopics: [{ name: "t", partitions: 3 }] }); // epoch 2: 0,1,2 (response "lost")
    expect(h.member("a")!.memberEpoch).toBe(2);
    const outside = h.heartbeat({
      memberId: "a",
      memberEpoch: 1,
      ownedPartitions: [{ topic: "t", partitions: [0, 5] }],
    });
    expect(!outside.ok && outside.error.code).toBe("FENCED_MEMBER_EPOCH");
    const noReport = h.heartbeat({ memberId: "a", memberEpoch: 1 });
    expect(!noReport.ok && noReport.error.code).toBe("FENCED_MEMBER_EPOCH");
    const retried = h.must({
      memberId: "a",
      memberEpoch: 1,
      ownedPartitions: [{ topic: "t", partitions: [0, 1] }],
    });
    expect(retried.memberEpoch).toBe(2);
    h.must({ memberId: "a", memberEpoch: 2, subscribedTopics: [{ name: "t", partitions: 4 }] }); // epoch 3, confirmed 2
    const tooOld = h.heartbeat({
      memberId: "a",
      memberEpoch: 1,
      ownedPartitions: [{ topic: "t", partitions: [0] }],
    });
    expect(!tooOld.ok && tooOld.error.code).toBe("FENCED_MEMBER_EPOCH");
  });

  it("answers UNKNOWN_MEMBER_ID for a member that is not in the group", () => {
    const h = twoMembers();
    const r = h.heartbeat({ memberId: "ghost", memberEpoch: 1 });
    expect(!r.ok && r.error.code).toBe("UNKNOWN_MEMBER_ID");
  });

  it("refuses a static instance id held by a live member (UNRELEASED_INSTANCE_ID)", () => {
    const h = new Harness();
    h.join("a", { t: 2 }, { groupInstanceId: "w1" });
    const r = h.heartbeat({
      memberId: "b",
      memberEpoch: 0,
      groupInstanceId: "w1",
      subscribedTopics: [],
      ownedPartitions: [],
    });
    expect(!r.ok && r.error.code).toBe("UNRELEASED_INSTANCE_ID");
  });

  it("fences commits by member epoch (STALE_MEMBER_EPOCH) and unknown members (UNKNOWN_MEMBER_ID)", () => {
    const h = twoMembers();
    const g = h.consumer;
    expect(g.checkMemberCommit({ memberId: "a", memberEpoch: 1 }, h.now)).toBeNull();
    expect(g.checkMemberCommit({ memberId: "a", memberEpoch: 0 }, h.now)?.code).toBe("STALE_MEMBER_EPOCH");
    expect(g.checkMemberCommit({ memberId: "zombie", memberEpoch: 1 }, h.now)?.code).toBe(
      "UNKNOWN_MEMBER_ID",
    );
  });
});

describe("leave and static membership", () => {
  it("leave (-1) removes the member, bumps the epoch and frees its partitions for the others", () => {
    const h = new Harness();
    h.join("a", { t: 2 });
    h.join("b", { t: 2 });
    expect(h.must({ memberId: "a", memberEpoch: -1 }).memberEpoch).toBe(-1);
    expect(h.consumer.groupEpoch).toBe(3);
    // b's target moved: it is told to heartbeat (at the epoch it has), and that heartbeat brings it all.
    const notice = h.consumer.takeNotices().find((n) => n.memberId === "b")!;
    expect({ epoch: notice.memberEpoch, reconcile: notice.reconcile }).toEqual({ epoch: 2, reconcile: true });
    const b = h.must({ memberId: "b", memberEpoch: 2, ownedPartitions: [] });
    expect({ epoch: b.memberEpoch, assigned: flat(b.assignment.partitions) }).toEqual({
      epoch: 3,
      assigned: { t: [0, 1] },
    });
  });

  it("static leave (-2) keeps the assignment for the instance id; the rejoin takes it over without a rebalance", () => {
    const h = new Harness();
    const a = h.join("a", { t: 2 }, { groupInstanceId: "w1" });
    const epoch = h.consumer.groupEpoch;
    expect(h.must({ memberId: "a", memberEpoch: -2, groupInstanceId: "w1" }).memberEpoch).toBe(-2);
    expect(h.consumer.describe().members[0]).toMatchObject({ memberEpoch: -2, state: "Left" });
    const back = h.join("a2", { t: 2 }, { groupInstanceId: "w1" });
    expect(back.memberEpoch).toBe(a.memberEpoch);
    expect(back.assignment).toEqual(a.assignment);
    expect(h.consumer.groupEpoch).toBe(epoch);
    expect([...h.consumer.members.keys()]).toEqual(["a2"]);
  });

  it("removes a static member whose session expires while away", () => {
    const h = new Harness();
    h.join("a", { t: 2 }, { groupInstanceId: "w1" });
    h.must({ memberId: "a", memberEpoch: -2, groupInstanceId: "w1" });
    h.advance(45_000);
    h.alarm();
    expect(h.consumer.memberCount).toBe(0);
    expect(h.consumer.state).toBe("Empty");
  });
});

describe("deadlines", () => {
  it("expires a member that misses CONSUMER_SESSION_TIMEOUT_MS and moves its partitions", () => {
    const h = new Harness();
    h.join("a", { t: 2 });
    h.advance(30_000);
    h.join("b", { t: 2 });
    h.must({ memberId: "b", memberEpoch: 2 });
    h.advance(15_000);
    expect(h.consumer.nextDeadline()).toBe(h.now);
    h.alarm();
    expect([...h.consumer.members.keys()]).toEqual(["b"]);
    h.must({ memberId: "b", memberEpoch: 2, ownedPartitions: [] });
    expect(h.consumer.describe().members[0]!.assignment).toEqual([{ topic: "t", partitions: [0, 1] }]);
  });

  it("fences a member that keeps partitions past its rebalance timeout", () => {
    const h = new Harness();
    h.join("a", { t: 2 }, { rebalanceTimeoutMs: 1000 });
    h.join("b", { t: 2 });
    // The revocation (and its timer) starts when a is told, in its own heartbeat.
    expect(h.member("a")!.state).toBe("Stable");
    h.advance(500);
    h.must({ memberId: "a", memberEpoch: 1, ownedPartitions: [{ topic: "t", partitions: [0, 1] }] });
    expect(h.member("a")!.state).toBe("UnrevokedPartitions");
    h.advance(999);
    h.alarm();
    expect(h.member("a")).toBeDefined();
    h.advance(1);
    h.alarm();
    expect(h.member("a")).toBeUndefined();
    h.must({ memberId: "b", memberEpoch: 2, ownedPartitions: [] });
    expect(flat(h.consumer.describe().members[0]!.assignment as never)).toEqual({ t: [0, 1] });
  });

  it("restarts the revocation timer for each new revocation, as Kafka reschedules it", () => {
    const h = new Harness();
    h.join("a", { t: 6 }, { rebalanceTimeoutMs: 1000 });
    h.join("b", { t: 6 });
    const first = h.must({
      memberId: "a",
      memberEpoch: 1,
      ownedPartitions: [{ topic: "t", partitions: [0, 1, 2, 3, 4, 5] }],
    });
    expect(h.member("a")!.state).toBe("UnrevokedPartitions");
    h.advance(300);
    h.join("c", { t: 6 });
    h.advance(300);
    // a acknowledges the first revocation; its target moved meanwhile, so it is asked to revoke again.
    const second = h.must({ memberId: "a", memberEpoch: 1, ownedPartitions: owned(first.assignment) });
    expect(h.member("a")!.state).toBe("UnrevokedPartitions");
    expect(flat(second.assignment.partitions).t!.length).toBeLessThan(
      flat(first.assignment.partitions).t!.length,
    );
    h.advance(999);
    h.alarm();
    expect(h.member("a")).toBeDefined();
    h.advance(1);
    h.alarm();
    expect(h.member("a")).toBeUndefined();
  });

  it("a steady heartbeat writes no row and only moves the session deadline later", () => {
    const h = new Harness();
    const a = h.join("a", { t: 2 });
    h.consumer.takeDirty();
    const before = h.consumer.nextDeadline()!;
    h.advance(1000);
    h.must({ memberId: "a", memberEpoch: a.memberEpoch, ownedPartitions: owned(a.assignment) });
    const dirty = h.consumer.takeDirty();
    expect({ group: dirty.group, members: dirty.members.size }).toEqual({ group: false, members: 0 });
    expect(h.consumer.nextDeadline()).toBe(before + 1000);
  });
});

describe("states, restore and protocol switch", () => {
  it("derives Empty, Reconciling and Stable from the epochs", () => {
    const h = new Harness();
    h.join("a", { t: 2 });
    expect(h.consumer.state).toBe("Stable");
    h.join("b", { t: 2 });
    expect(h.consumer.state).toBe("Reconciling");
    const told = h.must({
      memberId: "a",
      memberEpoch: 1,
      ownedPartitions: [{ topic: "t", partitions: [0, 1] }],
    });
    expect(h.consumer.state).toBe("Reconciling");
    h.must({ memberId: "a", memberEpoch: 1, ownedPartitions: owned(told.assignment) });
    h.must({ memberId: "b", memberEpoch: 2 });
    expect(h.consumer.state).toBe("Stable");
  });

  it("restores the same group, mid-reconciliation, from its group and member rows", () => {
    const h = new Harness();
    h.join("a", { t: 4 });
    h.join("b", { t: 4 });
    const rows = [...h.consumer.members.keys()].map((id) => h.consumer.memberRecord(id)!);
    const copy = restoreGroup(
      JSON.parse(JSON.stringify(h.consumer.toRecord())) as ConsumerRecord,
      JSON.parse(JSON.stringify(rows)) as ConsumerMember[],
      h.now,
    );
    expect(copy.describe()).toEqual(h.consumer.describe());
    expect(copy.partitionOwners()).toEqual(h.consumer.partitionOwners());
  });

  it("after a restart, times sessions from the restart, except members not heard during the previous life", () => {
    const h = new Harness();
    h.join("a", { t: 2 });
    h.join("b", { t: 2 });
    const save = (g: typeof h.consumer) =>
      JSON.parse(JSON.stringify([g.toRecord(), [...g.members.keys()].map((id) => g.memberRecord(id))]));
    h.advance(10_000);
    const [record, rows] = save(h.consumer);
    const life2 = restoreGroup(record, rows, h.now) as typeof h.consumer;
    expect(life2.nextDeadline()).toBe(h.now + 45_000);
    h.advance(10_000);
    life2.heard("a", life2.members.get("a")!.memberEpoch, h.now);
    const [record2, rows2] = save(life2);
    h.advance(10_000);
    const life3 = restoreGroup(record2, rows2, h.now) as typeof h.consumer;
    // b was silent through life 2: its session counts from life 2's start, a's from now.
    expect(life3.nextDeadline()).toBe(h.now - 20_000 + 45_000);
    life3.onDeadlines(h.now - 20_000 + 45_000);
    expect([...life3.members.keys()]).toEqual(["a"]);
  });

  it("a member silent across many lives shorter than its session is removed at one fixed deadline", () => {
    const h = new Harness();
    h.join("a", { t: 2 });
    h.join("b", { t: 2 });
    const save = (g: typeof h.consumer) =>
      JSON.parse(JSON.stringify([g.toRecord(), [...g.members.keys()].map((id) => g.memberRecord(id))]));
    let life = h.consumer;
    let lastHeardA = h.now;
    // a goes on heartbeating; b dies. The object restarts every 10 s (a poison request, an eviction).
    let deadlineOfB: number | undefined;
    for (let i = 0; i < 12; i++) {
      h.advance(10_000);
      const [record, rows] = save(life);
      life = restoreGroup(record, rows, h.now) as typeof h.consumer;
      life.heard("a", life.members.get("a")!.memberEpoch, h.now);
      lastHeardA = h.now;
      life.onDeadlines(h.now);
      if (!life.members.has("b")) {
        deadlineOfB = h.now;
        break;
      }
    }
    // b was last heard at the start; the first restart gave it one fresh session (as Kafka gives on
    // loading a group), and no later life moved it: gone within a restart of start + 10 s + 45 s.
    expect(deadlineOfB).toBeDefined();
    expect(deadlineOfB! - 1_000_000).toBeLessThanOrEqual(10_000 + 45_000 + 10_000);
    expect([...life.members.keys()]).toEqual(["a"]);
    expect(lastHeardA).toBe(h.now);
  });

  it("refuses a classic group with members and converts an offsets-only group, keeping emptySince until the join", () => {
    const classic = ClassicGroup.simple("g", 5);
    classic.members.set("m", {} as never);
    const busy = new Harness("g", classic);
    const r = busy.heartbeat({ memberEpoch: 0, subscribedTopics: [], ownedPartitions: [] });
    expect(!r.ok && r.error.code).toBe("INCONSISTENT_GROUP_PROTOCOL");
    expect(busy.group).toBe(classic);
    const h = new Harness("g", ClassicGroup.simple("g", 5));
    const failed = h.heartbeat({ memberId: "x", memberEpoch: 3 });
    expect(!failed.ok && h.group?.type).toBe("classic");
    h.join("a", { t: 1 });
    expect(h.group?.type).toBe("consumer");
    expect(h.consumer.emptySince).toBeNull();
  });
});
