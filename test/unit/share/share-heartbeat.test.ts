/**
 * Share-group membership (API.md §7) with a fake clock: join, fencing, leave, session expiry by the
 * alarm, epochs told in the member's own heartbeat, rows written only when something changed, and
 * refusals for groups of another type.
 */

import { describe, expect, it } from "vitest";
import { ClassicGroup } from "../../../src/core/classic/classic-group";
import { ShareGroup } from "../../../src/core/share/share-group";
import { ShareHarness } from "./harness";

const flat = (r: { assignment: { partitions: { topic: string; partitions: number[] }[] } }) =>
  Object.fromEntries(r.assignment.partitions.map((tp) => [tp.topic, tp.partitions]));

describe("joining", () => {
  it("epoch 0 joins: a missing memberId is generated; the group is Stable with the whole topic", () => {
    const h = new ShareHarness();
    const r = h.must({ memberEpoch: 0, subscribedTopics: [{ name: "t", partitions: 3 }] });
    expect(r.memberId).toBe("gen-1");
    expect(r.memberEpoch).toBe(1);
    expect(r.heartbeatIntervalMs).toBe(5000);
    expect(flat(r)).toEqual({ t: [0, 1, 2] });
    expect(h.share.state).toBe("Stable");
    expect(h.share.describe().type).toBe("share");
  });

  it("joining needs subscribedTopics; a refused first heartbeat creates no group", () => {
    const h = new ShareHarness();
    const r = h.heartbeat({ memberId: "a", memberEpoch: 0 });
    expect(!r.ok && r.error.code).toBe("INVALID_REQUEST");
    expect(h.group).toBeNull();
  });

  it("GROUP_MAX_SIZE bounds the members; a rejoin of a member under its id is not a new member", () => {
    const h = new ShareHarness({}, { groupMaxSize: 2 });
    h.join("a", { t: 1 });
    h.join("b", { t: 1 });
    const r = h.heartbeat({
      memberId: "c",
      memberEpoch: 0,
      subscribedTopics: [{ name: "t", partitions: 1 }],
    });
    expect(!r.ok && r.error.code).toBe("GROUP_MAX_SIZE_REACHED");
    expect(h.join("a", { t: 1 }).memberEpoch).toBe(h.share.members.get("a")!.memberEpoch);
    expect(h.share.memberCount).toBe(2);
  });

  it("more members than partitions share them; fewer get exclusive ones, within one", () => {
    const h = new ShareHarness();
    for (const id of ["a", "b", "c"]) h.join(id, { t: 1 });
    for (const id of ["a", "b", "c"]) expect(flat(h.beat(id))).toEqual({ t: [0] });
    const g = new ShareHarness();
    for (const id of ["a", "b"]) g.join(id, { t: 5 });
    const loads = ["a", "b"].map((id) => flat(g.beat(id)).t!.length).sort();
    expect(loads).toEqual([2, 3]);
  });

  it("a group of another type refuses share heartbeats with INCONSISTENT_GROUP_PROTOCOL", () => {
    const h = new ShareHarness();
    h.group = ClassicGroup.simple("g", h.now);
    const r = h.heartbeat({ memberId: "a", memberEpoch: 0, subscribedTopics: [] });
    expect(!r.ok && r.error.code).toBe("INCONSISTENT_GROUP_PROTOCOL");
    expect(h.group).toBeInstanceOf(ClassicGroup);
  });

  it("partition counts: the largest reported wins and moves the epoch; limits as consumer groups", () => {
    const h = new ShareHarness({}, { groupMaxPartitions: 10 });
    h.join("a", { t: 2 });
    const epoch = h.share.groupEpoch;
    h.must({ memberId: "a", memberEpoch: 1, subscribedTopics: [{ name: "t", partitions: 1 }] });
    expect(h.share.groupEpoch).toBe(epoch);
    const r = h.must({ memberId: "a", memberEpoch: 1, subscribedTopics: [{ name: "t", partitions: 4 }] });
    expect(h.share.groupEpoch).toBe(epoch + 1);
    expect(flat(r)).toEqual({ t: [0, 1, 2, 3] });
    const over = h.heartbeat({
      memberId: "a",
      memberEpoch: r.memberEpoch,
      subscribedTopics: [{ name: "t", partitions: 11 }],
    });
    expect(!over.ok && over.error.code).toBe("INVALID_REQUEST");
  });
});

describe("fencing", () => {
  it("unknown member → UNKNOWN_MEMBER_ID; an epoch it was never told → FENCED_MEMBER_EPOCH", () => {
    const h = new ShareHarness();
    h.join("a", { t: 2 });
    const unknown = h.heartbeat({ memberId: "x", memberEpoch: 1 });
    expect(!unknown.ok && unknown.error.code).toBe("UNKNOWN_MEMBER_ID");
    const fenced = h.heartbeat({ memberId: "a", memberEpoch: 7 });
    expect(!fenced.ok && fenced.error.code).toBe("FENCED_MEMBER_EPOCH");
    expect(h.heartbeat({ memberId: "a", memberEpoch: -2 }).ok).toBe(false);
  });

  it("the epoch moves in the member's own heartbeat; the previous one still passes (a lost response)", () => {
    const h = new ShareHarness();
    const a = h.join("a", { t: 2 });
    h.join("b", { t: 2 }); // a's assignment shrinks: it is told at its next heartbeat
    expect(h.share.members.get("a")!.memberEpoch).toBe(a.memberEpoch);
    const told = h.beat("a");
    expect(told.memberEpoch).toBe(h.share.groupEpoch);
    expect(flat(told).t!.length).toBe(1);
    // The response was lost: a retries with the epoch before; it is brought up to date.
    expect(h.must({ memberId: "a", memberEpoch: a.memberEpoch }).memberEpoch).toBe(told.memberEpoch);
    h.join("c", { t: 2 });
    h.beat("a"); // told a third epoch: the first is two behind now
    const older = h.heartbeat({ memberId: "a", memberEpoch: a.memberEpoch });
    expect(!older.ok && older.error.code).toBe("FENCED_MEMBER_EPOCH");
  });
});

describe("leaving and expiry", () => {
  it("epoch -1 leaves: the others take its partitions at once; the group is Empty after the last", () => {
    const h = new ShareHarness();
    h.join("a", { t: 2 });
    h.join("b", { t: 2 });
    const left = h.must({ memberId: "a", memberEpoch: -1 });
    expect(left.memberEpoch).toBe(-1);
    expect(flat(left)).toEqual({});
    expect(h.share.describe().members.map((m) => m.memberId)).toEqual(["b"]);
    expect(h.share.members.get("b")!.assignment).toEqual({ t: [0, 1] });
    expect(h.share.takeRemovals()).toEqual([{ memberId: "a", reason: "left" }]);
    h.must({ memberId: "b", memberEpoch: -1 });
    expect(h.share.state).toBe("Empty");
    expect(h.share.emptySince).toBe(h.now);
  });

  it("a member silent for SHARE_SESSION_TIMEOUT_MS is removed by the alarm, not a moment before", () => {
    const h = new ShareHarness();
    h.join("a", { t: 1 });
    h.join("b", { t: 1 });
    h.advance(30_000);
    h.beat("b");
    expect(h.share.nextDeadline()).toBe(h.now - 30_000 + 45_000);
    h.advance(14_999);
    h.alarm();
    expect(h.share.memberCount).toBe(2);
    h.advance(1);
    h.alarm();
    expect([...h.share.memberIds()]).toEqual(["b"]);
    expect(h.share.takeRemovals()).toEqual([{ memberId: "a", reason: "session" }]);
  });

  it("after a restart, heard members get a fresh session; silent ones keep the deadline they had", () => {
    const h = new ShareHarness();
    h.join("a", { t: 1 });
    h.join("b", { t: 1 });
    h.advance(1000);
    h.restart(); // life 2 starts
    h.advance(10_000);
    h.beat("b"); // only b is heard in life 2
    h.restart(); // life 3: a was silent through life 2
    const restartedAt = h.now;
    h.pass(35_000 - 1);
    expect(h.share.memberCount).toBe(2);
    h.pass(1); // a's deadline from life 2: its start + 45 s
    expect([...h.share.memberIds()]).toEqual(["b"]);
    expect(h.now).toBe(restartedAt + 35_000);
  });
});

describe("rows", () => {
  it("a steady heartbeat writes no row and visits no share-partition", () => {
    const h = new ShareHarness();
    h.join("a", { t: 2 });
    h.join("b", { t: 2 });
    h.beat("a");
    h.beat("b");
    h.take("a", 5, { partitions: [{ topic: "t", partition: 0, logEndOffset: 10 }] });
    h.take("b", 5, { partitions: [{ topic: "t", partition: 1, logEndOffset: 10 }] });
    const writes = h.rows.writes;
    const table = (h.share as unknown as { table: { edit: (...a: unknown[]) => unknown } }).table;
    let edits = 0;
    const edit = table.edit.bind(table);
    table.edit = (...a: unknown[]) => {
      edits++;
      return edit(...(a as [string, number]));
    };
    for (let i = 0; i < 5; i++) {
      h.advance(5000);
      h.beat("a");
      h.beat("b");
    }
    expect(h.rows.writes).toBe(writes);
    expect(h.share.dirty).toBe(false);
    expect(edits).toBe(0);
  });

  it("a new group epoch writes the group row and the rows of members whose assignment changed", () => {
    const h = new ShareHarness();
    h.join("a", { t: 4 });
    h.join("b", { t: 4 });
    h.join("c", { u: 1 });
    const before = h.rows.writes;
    h.join("d", { u: 1 }); // shares u-0 with c; a and b are untouched
    expect(h.rows.writes - before).toBe(1 /* group */ + 1 /* d */ + 0);
    expect(h.share.members.get("a")!.assignmentEpoch).toBeLessThan(h.share.groupEpoch);
  });

  it("restore: a group rebuilt from its rows describes the same", () => {
    const h = new ShareHarness();
    h.join("a", { t: 3 });
    h.join("b", { t: 3, u: 1 });
    const described = h.share.describe();
    h.restart();
    expect(h.share).toBeInstanceOf(ShareGroup);
    expect(h.share.describe()).toEqual(described);
  });
});
