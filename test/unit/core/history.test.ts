/**
 * The group's history (API.md §8) as the real core transitions record it, with a fake clock: every
 * event type of the classic, consumer and share protocols (the offsets and delete events are the
 * shell's, tested on the Workers pool), nothing for steady heartbeats, and a failed step's events
 * undone with the rest of the step.
 */

import { describe, expect, it } from "vitest";
import { toList } from "../../../src/core/consumer/partitions";
import type { Group } from "../../../src/core/group";
import type { HistoryEvent } from "../../../src/core/history";
import { MAX_DETAIL_PARTITIONS } from "../../../src/core/history";
import { consumerAssignment, Driver, SESSION } from "../classic/harness";
import { Harness } from "../consumer/harness";
import { ShareHarness } from "../share/harness";

/** The events a group recorded since the last call, as the shell would write them (then cleared). */
function drain(group: Group | null): HistoryEvent[] {
  if (!group) return [];
  const out = [...group.history.pending];
  group.history.saved();
  return out;
}

const types = (events: HistoryEvent[]) => events.map((e) => e.type);
const states = (events: HistoryEvent[]) =>
  events.filter((e) => e.type === "state_changed").map((e) => `${e.detail.from}>${e.detail.to}`);
const ofType = (events: HistoryEvent[], type: HistoryEvent["type"]) => events.filter((e) => e.type === type);
const memberEvents = (events: HistoryEvent[]) => events.filter((e) => e.type.startsWith("member_"));

/** A steady heartbeat of consumer member `id`: its current epoch, reporting what it holds. */
function beat(h: Harness, id: string, groupInstanceId?: string) {
  const m = h.member(id)!;
  return h.must({
    memberId: id,
    memberEpoch: m.memberEpoch,
    ownedPartitions: toList(m.assigned),
    groupInstanceId,
  });
}

/** A classic static member of instance `instance`, joined and synced (generation 1) alone: its id. */
function syncedStatic(d: Driver, instance: string): string {
  const joining = d.join("", { groupInstanceId: instance });
  d.advance(1000);
  const { memberId } = d.value(joining);
  d.sync(memberId, 1, { [memberId]: consumerAssignment("orders", [0]) }, instance);
  return memberId;
}

describe("classic groups", () => {
  it("a rebalance: joins, every state transition, one rebalance event with the partitions moved", () => {
    const d = new Driver();
    const [a, b] = d.stableGroup(2, (_id, i) => consumerAssignment("orders", i === 0 ? [0, 1] : [2]));
    const events = drain(d.group);
    expect(ofType(events, "member_joined").map((e) => e.memberId)).toEqual([a, b]);
    expect(ofType(events, "member_joined")[0]!.detail).toEqual({
      clientId: "client",
      clientHost: "",
      groupInstanceId: null,
    });
    expect(states(events)).toEqual([
      "Empty>PreparingRebalance",
      "PreparingRebalance>CompletingRebalance",
      "CompletingRebalance>Stable",
    ]);
    expect(ofType(events, "rebalance").map((e) => e.detail)).toEqual([
      { generationId: 1, members: 2, partitionsMoved: 3 },
    ]);
    // Steady heartbeats record nothing.
    d.heartbeat(a!, 1);
    d.heartbeat(b!, 1);
    expect(drain(d.group)).toEqual([]);
  });

  it("a member that leaves, and one that is removed by its instance id (admin)", () => {
    const d = new Driver();
    const [a] = d.stableGroup(2);
    drain(d.group);
    d.leave({ memberId: a! });
    const events = drain(d.group);
    expect(ofType(events, "member_left")).toEqual([
      { type: "member_left", memberId: a, detail: { reason: "leave" } },
    ]);
    expect(states(events)).toEqual(["Stable>PreparingRebalance"]);
  });

  it("session timeout and rebalance timeout fence members", () => {
    const d = new Driver();
    const [a, b] = d.stableGroup(2);
    drain(d.group);
    // b keeps heartbeating, a goes silent: a's session expires.
    for (let t = 0; t < 3; t++) {
      d.advance(400);
      d.heartbeat(b!, 1);
    }
    const fenced = ofType(drain(d.group), "member_fenced");
    expect(fenced).toEqual([{ type: "member_fenced", memberId: a, detail: { reason: "session_timeout" } }]);
    // The rebalance that followed: b heartbeats (told REBALANCE_IN_PROGRESS) but never rejoins.
    for (let t = 0; t < 15; t++) {
      d.advance(400);
      d.heartbeat(b!, 1);
    }
    const later = drain(d.group);
    expect(ofType(later, "member_fenced")).toEqual([
      { type: "member_fenced", memberId: b, detail: { reason: "rebalance_timeout" } },
    ]);
    expect(states(later).at(-1)).toBe("PreparingRebalance>Empty");
  });

  it("a restarted static instance fences the member id it replaces; leave by instance id is static", () => {
    const d = new Driver();
    const a = d.join("", { groupInstanceId: "a" });
    d.advance(1000);
    const old = d.value(a).memberId;
    d.sync(old, 1, { [old]: consumerAssignment("orders", [0]) }, "a");
    drain(d.group);
    const again = d.value(d.join("", { groupInstanceId: "a" }));
    const events = drain(d.group);
    expect(events.map((e) => [e.type, e.memberId])).toEqual([
      ["member_fenced", old],
      ["member_joined", again.memberId],
    ]);
    expect(events[0]!.detail).toEqual({ reason: "replaced_static" });
    expect(events[1]!.detail.groupInstanceId).toBe("a");
    d.leave({ memberId: again.memberId, groupInstanceId: "a" });
    expect(ofType(drain(d.group), "member_left")[0]!.detail).toEqual({ reason: "static_leave" });
  });

  it("a restarted static instance: the replaced id's old session records nothing more", () => {
    const d = new Driver();
    syncedStatic(d, "a");
    const again = d.value(d.join("", { groupInstanceId: "a" }));
    drain(d.group);
    for (let t = 0; t < 5; t++) {
      d.advance(SESSION / 2);
      d.heartbeat(again.memberId, again.generationId, "a");
    }
    expect(memberEvents(drain(d.group))).toEqual([]);
  });

  it("a static member's leave with its instance id, then the instance rejoins: left once, then joined", () => {
    const d = new Driver();
    const first = syncedStatic(d, "a");
    drain(d.group);
    d.leave({ memberId: first, groupInstanceId: "a" });
    // Kafka's classic LeaveGroup removes a static member at once: nothing waits for its session.
    d.advance(SESSION * 2);
    const left = drain(d.group);
    expect(memberEvents(left)).toEqual([
      { type: "member_left", memberId: first, detail: { reason: "static_leave" } },
    ]);
    const back = d.join("", { groupInstanceId: "a" });
    d.advance(1000);
    const rejoined = d.value(back);
    expect(rejoined.memberId).not.toBe(first);
    expect(memberEvents(drain(d.group)).map((e) => [e.type, e.memberId])).toEqual([
      ["member_joined", rejoined.memberId],
    ]);
  });

  it("an admin removal names no member id", () => {
    const d = new Driver();
    d.join("", { groupInstanceId: "x" });
    d.advance(1000);
    drain(d.group);
    d.leave({ groupInstanceId: "x" });
    expect(ofType(drain(d.group), "member_left")[0]!.detail).toEqual({ reason: "admin" });
  });
});

describe("consumer groups", () => {
  it("a join: member_joined, the state, one rebalance; a steady heartbeat records nothing", () => {
    const h = new Harness();
    const a = h.join("a", { t: 4 }, { clientId: "svc", clientHost: "10.0.0.1" });
    const events = drain(h.group);
    expect(types(events)).toEqual(["member_joined", "rebalance", "state_changed"]);
    expect(events[0]).toEqual({
      type: "member_joined",
      memberId: "a",
      detail: { clientId: "svc", clientHost: "10.0.0.1", groupInstanceId: null },
    });
    expect(events[1]!.detail).toEqual({ groupEpoch: 1, members: 1, partitionsMoved: 4 });
    expect(states(events)).toEqual(["Empty>Stable"]);
    for (let i = 0; i < 5; i++) {
      h.advance(1000);
      h.must({ memberId: "a", memberEpoch: a.memberEpoch, ownedPartitions: a.assignment.partitions });
    }
    expect(drain(h.group)).toEqual([]);
  });

  it("a second member: a rebalance moving half the partitions, Reconciling until the handover, then Stable", () => {
    const h = new Harness();
    const a = h.join("a", { t: 4 });
    drain(h.group);
    h.join("b", { t: 4 });
    const joined = drain(h.group);
    expect(ofType(joined, "rebalance").map((e) => e.detail)).toEqual([
      { groupEpoch: 2, members: 2, partitionsMoved: 2 },
    ]);
    expect(states(joined)).toEqual(["Stable>Reconciling"]);
    const revoking = h.must({
      memberId: "a",
      memberEpoch: a.memberEpoch,
      ownedPartitions: a.assignment.partitions,
    });
    h.must({
      memberId: "a",
      memberEpoch: revoking.memberEpoch,
      ownedPartitions: revoking.assignment.partitions,
    });
    const b = h.must({ memberId: "b", memberEpoch: 2, ownedPartitions: [] });
    h.must({ memberId: "b", memberEpoch: b.memberEpoch, ownedPartitions: b.assignment.partitions });
    expect(states(drain(h.group)).at(-1)).toBe("Reconciling>Stable");
  });

  it("leave (-1) and static leave (-2)", () => {
    const h = new Harness();
    h.join("a", { t: 2 });
    h.join("s", { t: 2 }, { groupInstanceId: "inst" });
    drain(h.group);
    h.must({ memberId: "s", memberEpoch: -2, groupInstanceId: "inst" });
    expect(ofType(drain(h.group), "member_left")).toEqual([
      { type: "member_left", memberId: "s", detail: { reason: "static_leave" } },
    ]);
    h.must({ memberId: "a", memberEpoch: -1 });
    const left = drain(h.group);
    expect(ofType(left, "member_left")).toEqual([
      { type: "member_left", memberId: "a", detail: { reason: "leave" } },
    ]);
  });

  it("a static member that left (-2) and rejoins under a new id: left once, then the new id joins (no fencing)", () => {
    const h = new Harness();
    h.join("s1", { t: 2 }, { groupInstanceId: "inst" });
    drain(h.group);
    h.must({ memberId: "s1", memberEpoch: -2, groupInstanceId: "inst" });
    h.advance(1000);
    h.join("s2", { t: 2 }, { groupInstanceId: "inst", clientId: "svc-2", clientHost: "10.0.0.2" });
    const events = drain(h.group);
    // Kafka replaces a consumer-protocol static member only after its -2 leave
    // (throwIfInstanceIdIsUnreleased): the old id left, it was not fenced.
    expect(events).toEqual([
      { type: "member_left", memberId: "s1", detail: { reason: "static_leave" } },
      {
        type: "member_joined",
        memberId: "s2",
        detail: { clientId: "svc-2", clientHost: "10.0.0.2", groupInstanceId: "inst" },
      },
    ]);
    // The old id's session ends with the takeover: nothing more is recorded for it.
    for (let t = 0; t < 10; t++) {
      h.advance(h.config.consumerSessionTimeoutMs / 5);
      beat(h, "s2", "inst");
      h.alarm();
    }
    expect(ofType(drain(h.group), "member_fenced")).toEqual([]);
  });

  it("a static member that left (-2) and rejoins under its own id: left, then joined again", () => {
    const h = new Harness();
    h.join("s", { t: 2 }, { groupInstanceId: "inst" });
    drain(h.group);
    h.must({ memberId: "s", memberEpoch: -2, groupInstanceId: "inst" });
    h.join("s", { t: 2 }, { groupInstanceId: "inst" });
    expect(drain(h.group).map((e) => [e.type, e.memberId, e.detail.reason])).toEqual([
      ["member_left", "s", "static_leave"],
      ["member_joined", "s", undefined],
    ]);
  });

  it("a static member that left (-2) and rejoins by its member id alone: left, then joined, not fenced", () => {
    const h = new Harness();
    h.join("s", { t: 2 }, { groupInstanceId: "inst" });
    drain(h.group);
    h.must({ memberId: "s", memberEpoch: -2, groupInstanceId: "inst" });
    h.join("s", { t: 2 });
    expect(memberEvents(drain(h.group)).map((e) => [e.type, e.memberId, e.detail.reason])).toEqual([
      ["member_left", "s", "static_leave"],
      ["member_joined", "s", undefined],
    ]);
    // It is back, not away: no longer shown as Left at epoch -2.
    expect(h.member("s")?.left).toBe(false);
  });

  it("a static member that left (-2) and never returns: its expiry records no second departure", () => {
    const h = new Harness();
    h.join("a", { t: 2 });
    h.join("s", { t: 2 }, { groupInstanceId: "inst" });
    for (let i = 0; i < 3; i++) for (const id of ["a", "s"]) beat(h, id, id === "s" ? "inst" : undefined);
    expect(toList(h.member("s")!.assigned)).toHaveLength(1);
    drain(h.group);
    h.must({ memberId: "s", memberEpoch: -2, groupInstanceId: "inst" });
    expect(ofType(drain(h.group), "member_left")).toEqual([
      { type: "member_left", memberId: "s", detail: { reason: "static_leave" } },
    ]);
    // a stays; s's reservation lasts its session, then its partition goes to a.
    for (let t = 0; t < 10; t++) {
      h.advance(h.config.consumerSessionTimeoutMs / 5);
      beat(h, "a");
      h.alarm();
    }
    expect(h.member("s")).toBeUndefined();
    const later = drain(h.group);
    expect(memberEvents(later)).toEqual([]);
    expect(ofType(later, "rebalance").map((e) => e.detail.members)).toEqual([1]);
  });

  it("a static member that left (-2) while revoking is not fenced at its rebalance timeout", () => {
    const h = new Harness();
    h.join("s", { t: 2 }, { groupInstanceId: "inst", rebalanceTimeoutMs: 1000 });
    h.join("b", { t: 2 });
    // s learns it must give a partition to b, then leaves temporarily without acknowledging.
    h.must({ memberId: "s", memberEpoch: 1, ownedPartitions: [{ topic: "t", partitions: [0, 1] }] });
    drain(h.group);
    h.must({ memberId: "s", memberEpoch: -2, groupInstanceId: "inst" });
    h.advance(5000);
    h.alarm();
    const events = drain(h.group);
    expect(memberEvents(events)).toEqual([
      { type: "member_left", memberId: "s", detail: { reason: "static_leave" } },
    ]);
    // As Kafka's -2 leave drops the member's pending revocation: s's place is kept, b gets the partition.
    expect(h.member("s")?.left).toBe(true);
    const b = h.must({ memberId: "b", memberEpoch: 2, ownedPartitions: [] });
    expect(b.assignment.partitions.flatMap((tp) => tp.partitions)).toHaveLength(1);
  });

  it("a live static instance is not replaced in a consumer group: the join is refused, nothing recorded", () => {
    const h = new Harness();
    h.join("s1", { t: 2 }, { groupInstanceId: "inst" });
    drain(h.group);
    const r = h.heartbeat({
      memberId: "s2",
      memberEpoch: 0,
      groupInstanceId: "inst",
      subscribedTopics: [{ name: "t", partitions: 2 }],
      ownedPartitions: [],
    });
    expect(r.ok ? "OK" : r.error.code).toBe("UNRELEASED_INSTANCE_ID");
    expect(drain(h.group)).toEqual([]);
  });

  it("session timeout, rebalance timeout and a fenced epoch", () => {
    const h = new Harness();
    h.join("a", { t: 2 }, { rebalanceTimeoutMs: 1000 });
    h.join("b", { t: 2 });
    h.advance(500);
    h.must({ memberId: "a", memberEpoch: 1, ownedPartitions: [{ topic: "t", partitions: [0, 1] }] });
    drain(h.group);
    h.advance(1000);
    h.alarm();
    const revoked = drain(h.group);
    expect(ofType(revoked, "member_fenced")).toEqual([
      { type: "member_fenced", memberId: "a", detail: { reason: "rebalance_timeout" } },
    ]);
    // b rejoins with epoch 0 after it held an epoch: its old epoch was fenced.
    h.must({ memberId: "b", memberEpoch: 2, ownedPartitions: [] });
    h.join("b", { t: 2 });
    expect(ofType(drain(h.group), "member_fenced")).toEqual([
      { type: "member_fenced", memberId: "b", detail: { reason: "fenced_epoch" } },
    ]);
    h.advance(h.config.consumerSessionTimeoutMs);
    h.alarm();
    const expired = drain(h.group);
    expect(ofType(expired, "member_fenced")[0]!.detail).toEqual({ reason: "session_timeout" });
    expect(states(expired).at(-1)).toMatch(/>Empty$/);
  });

  it("a failed step leaves no event: rollback drops what it recorded", () => {
    const h = new Harness();
    h.join("a", { t: 2 });
    drain(h.group);
    h.group!.checkpoint();
    h.join("b", { t: 2 });
    expect(h.group!.history.pending.length).toBeGreaterThan(0);
    h.group!.rollback();
    expect(h.group!.history.pending).toEqual([]);
  });
});

describe("share groups", () => {
  it("join, leave, session timeout, rebalance and state", () => {
    const s = new ShareHarness();
    const captured: HistoryEvent[] = [];
    s.join("a", { t: 2 });
    // The harness saves rows after each step (clearing the pending events): capture them first.
    const saved = s.share.history.saved.bind(s.share.history);
    s.share.history.saved = () => {
      captured.push(...s.share.history.pending);
      saved();
    };
    s.join("b", { t: 2 });
    expect(types(captured)).toEqual(["member_joined", "rebalance"]);
    expect(captured[1]!.detail).toEqual({ groupEpoch: 2, members: 2, partitionsMoved: 1 });
    captured.length = 0;
    s.must({ memberId: "b", memberEpoch: -1 });
    expect(types(captured)).toEqual(["member_left", "rebalance"]);
    captured.length = 0;
    s.pass(s.settings.sessionTimeoutMs + 1);
    expect(captured.map((e) => [e.type, e.detail.reason ?? e.detail.to])).toEqual([
      ["member_fenced", "session_timeout"],
      ["state_changed", "Empty"],
    ]);
  });

  it("archived ranges, a redrive, a reset and an offsets delete, with the actor", () => {
    const s = new ShareHarness();
    s.join("a", { t: 1 });
    s.take("a", 10, { partitions: [{ topic: "t", partition: 0, logEndOffset: 5 }] });
    drain(s.group);
    s.share.acknowledge(
      "a",
      [{ topic: "t", partition: 0, firstOffset: 1, lastOffset: 2, type: "reject" }],
      s.now,
    );
    const archived = ofType(drain(s.group), "share_archived");
    expect(archived.map((e) => e.detail)).toEqual([
      { topic: "t", partition: 0, firstOffset: 1, lastOffset: 2, reason: "rejected" },
    ]);
    s.share.redrive({ topic: "t", partition: 0 }, s.now, "ops@example");
    expect(ofType(drain(s.group), "share_redriven")).toEqual([
      {
        type: "share_redriven",
        actor: "ops@example",
        detail: { topic: "t", partition: 0, firstOffset: 1, lastOffset: 2, count: 2 },
      },
    ]);
    s.must({ memberId: "a", memberEpoch: -1 });
    drain(s.group);
    s.share.reset({ topic: "t", to: "offset", offset: 3 }, s.now, null);
    expect(drain(s.group)).toEqual([
      {
        type: "offsets_reset",
        actor: null,
        detail: { topic: "t", partitions: [{ partition: 0, previousOffset: 0, newOffset: 3 }] },
      },
    ]);
    s.share.deleteOffsets("t", undefined, "ops@example");
    expect(drain(s.group)).toEqual([
      { type: "offsets_deleted", actor: "ops@example", detail: { topic: "t", partitions: [0] } },
    ]);
  });

  it("acknowledgements ask for at most one lag sample per minute", () => {
    const s = new ShareHarness();
    s.join("a", { t: 1 });
    s.take("a", 10, { partitions: [{ topic: "t", partition: 0, logEndOffset: 5 }] });
    const asked: number[] = [];
    const saved = s.share.history.saved.bind(s.share.history);
    s.share.history.saved = () => {
      if (s.share.history.lagDue !== null) asked.push(s.share.history.lagDue);
      saved();
    };
    const start = Math.ceil(s.now / 60_000) * 60_000;
    s.now = start;
    for (let i = 0; i < 5; i++) {
      s.ack("a", [{ topic: "t", partition: 0, firstOffset: i, lastOffset: i, type: "accept" }]);
      s.advance(25_000);
    }
    // At 0 s, 25 s, 50 s, 75 s, 100 s: one sample in each of minutes 0 and 1.
    expect(asked).toEqual([start, start + 75_000]);
  });
});

describe("event details stay one row", () => {
  it("an offsets event lists at most MAX_DETAIL_PARTITIONS partitions and counts the rest", () => {
    const d = new Driver();
    const partitions = Array.from({ length: MAX_DETAIL_PARTITIONS + 5 }, (_, i) => i);
    d.group.history.offsetsDeleted(null, "t", partitions);
    const [event] = drain(d.group);
    expect((event!.detail.partitions as number[]).length).toBe(MAX_DETAIL_PARTITIONS);
    expect(event!.detail.omitted).toBe(5);
  });
});
