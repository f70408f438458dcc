/**
 * The undo journals of a group's volatile state, and the failure path they serve: after a checkpoint,
 * any changes, a rollback, and a restore from the rows as they were, the group is exactly what it was:
 * description, every session and revocation deadline, parked tickets, notices, dirty marks.
 */

import fc from "fast-check";
import { expect, it } from "vitest";
import { DeadlineHeap } from "../../../src/core/deadline-heap";
import type { Group } from "../../../src/core/group";
import { restoreGroup } from "../../../src/core/restore";
import { UndoMap, UndoSet } from "../../../src/core/undo";
import { Driver } from "../classic/harness";
import { Harness } from "../consumer/harness";

const key = fc.integer({ min: 0, max: 12 }).map((n) => `k${n}`);
const op = fc.oneof(
  fc.record({ set: key, at: fc.integer({ min: 0, max: 50 }) }),
  fc.record({ del: key }),
  fc.constant({ clear: true as const }),
);
type Op = { set: string; at: number } | { del: string } | { clear: true };

it("DeadlineHeap: rollback restores every deadline touched since the checkpoint; release keeps them", () => {
  fc.assert(
    fc.property(fc.array(op), fc.array(op), fc.boolean(), (before, during, keep) => {
      const heap = new DeadlineHeap();
      const apply = (ops: Op[], ref: Map<string, number>) => {
        for (const o of ops) {
          if ("set" in o) {
            heap.set(o.set, o.at);
            ref.set(o.set, o.at);
          } else if ("del" in o) {
            heap.delete(o.del);
            ref.delete(o.del);
          }
        }
      };
      const ref = new Map<string, number>();
      apply(before, ref);
      const saved = new Map(ref);
      heap.checkpoint();
      apply(during, ref);
      if (keep) heap.release();
      else heap.rollback();
      const expected = keep ? ref : saved;
      expect(heap.size).toBe(expected.size);
      for (let k = 0; k <= 12; k++) expect(heap.get(`k${k}`)).toBe(expected.get(`k${k}`));
      expect(heap.min()).toBe(expected.size === 0 ? null : Math.min(...expected.values()));
      expect(heap.due(25).sort()).toEqual(
        [...expected]
          .filter(([, at]) => at <= 25)
          .map(([k]) => k)
          .sort(),
      );
      // Changes after a rollback or release are not journaled any more.
      heap.set("late", 1);
      heap.rollback();
      expect(heap.get("late")).toBe(1);
    }),
  );
});

it("UndoMap and UndoSet: rollback restores exactly the entries and their order at the checkpoint", () => {
  fc.assert(
    fc.property(fc.array(op), fc.array(op), (before, during) => {
      const map = new UndoMap<string, number>();
      const set = new UndoSet<string>();
      const apply = (ops: Op[]) => {
        for (const o of ops) {
          if ("set" in o) {
            map.set(o.set, o.at);
            set.add(o.set);
          } else if ("del" in o) {
            map.delete(o.del);
            set.delete(o.del);
          } else {
            map.clear();
            set.clear();
          }
        }
      };
      apply(before);
      const savedMap = [...map];
      const savedSet = [...set];
      map.checkpoint();
      set.checkpoint();
      apply(during);
      map.rollback();
      set.rollback();
      // Entries and their iteration order.
      expect([...map]).toEqual(savedMap);
      expect([...set]).toEqual(savedSet);
    }),
  );
});

/** The rows the shell would hold for `group`, as SQLite returns them. */
function rowsOf(group: Group): { record: any; members: unknown[] } {
  const ids = [...group.memberIds()].sort(); // SQLite returns them by primary key, not join order
  const json = (v: unknown) => JSON.parse(JSON.stringify(v));
  return { record: json(group.toRecord()), members: ids.map((id) => json(group.memberRecord(id))) };
}

/** Everything a failed request must leave as it was, read from the group. */
function volatileView(group: any): unknown {
  const ids = [...group.memberIds()] as string[];
  return {
    describe: group.describe(),
    nextDeadline: group.nextDeadline(),
    dirty: group.dirty,
    sessions: ids.map((id) => (group.sessionDeadlines ?? group.sessions).get(id) ?? null),
    revocations: ids.map((id) => group.revokeDeadlines?.get(id) ?? null),
    reported: group.lastReported ? [...group.lastReported].sort() : null,
    hasNotices: group.hasNotices ?? null,
    awaitingJoin: group.awaitingJoin ? [...group.awaitingJoin].sort() : null,
    awaitingSync: group.awaitingSync ? [...group.awaitingSync].sort() : null,
    joinDeadline: group.joinDeadline ?? null,
  };
}

/** What the shell does after a throw: roll the journal back, restore from the old rows, adopt. */
function recover(group: Group, rows: { record: any; members: unknown[] }, now: number): Group {
  group.rollback();
  const order = new Map([...group.memberIds()].map((id, i) => [id, i]));
  const members = [...rows.members].sort(
    (a: any, b: any) => (order.get(a.memberId) ?? 1e9) - (order.get(b.memberId) ?? 1e9),
  );
  const restored = restoreGroup(rows.record, members, now);
  restored.adoptVolatile(group);
  return restored;
}

it("consumer group: after any failed step, restore + adopt is exactly the group before it", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 8 }), (steps) => {
      const h = new Harness();
      for (const id of ["m3", "m1", "m2"]) h.join(id, { t: 6 }, { rebalanceTimeoutMs: 10_000 });
      h.advance(1000);
      h.join("m0", { t: 6 }); // the others are asked to revoke: revocation deadlines are running
      h.consumer.takeDirty();
      h.consumer.takeNotices();
      const rows = rowsOf(h.consumer);
      const before = volatileView(h.consumer);
      const group = h.consumer;
      group.checkpoint();
      for (const s of steps) {
        h.advance(700);
        const m = h.member(`m${s % 4}`);
        if (s === 4) h.join(`new${h.now}`, { t: 6, u: 2 });
        else if (s === 5) h.alarm();
        else if (m) h.heartbeat({ memberId: m.memberId, memberEpoch: m.memberEpoch, ownedPartitions: [] });
      }
      h.advance(50_000);
      h.alarm(); // fences everyone: the most any step can change
      const restored = recover(group, rows, h.now);
      expect(volatileView(restored)).toEqual(before);
    }),
    { numRuns: 60 },
  );
});

it("classic group: after a failed step, parked joins, sessions and the join deadline are as before", () => {
  const d = new Driver();
  const ids = d.stableGroup(3);
  d.advance(200);
  const parked = d.join(ids[0]!); // a rebalance starts; ids[0] waits for the others
  expect(parked.kind).toBe("parked");
  d.group.takeDirty();
  const rows = rowsOf(d.group);
  const before = volatileView(d.group);
  d.group.checkpoint();
  d.advance(100);
  d.join(ids[0]!); // supersedes the parked join (answering it) ...
  d.newMember(); // ... a new member joins ...
  d.heartbeat(ids[1]!, d.group.generationId);
  d.advance(60_000); // ... and the join phase ends, sessions expire
  const restored = recover(d.group, rows, d.now);
  expect(volatileView(restored)).toEqual(before);
  // The completions produced by the failed steps are gone with them: nobody is answered.
  expect(restored instanceof Object && (restored as any).takeCompletions()).toEqual([]);
});

/**
 * Every field of a group is classified, so a new one cannot silently escape the failure path: a
 * volatile field that is neither adopted nor rebuilt by a restore would be reset by every failure.
 */
it("every group field is persisted, rebuilt from the rows, or kept across a failure", () => {
  const base = [
    "emptySince",
    "dirtyGroup",
    "dirtyMembers",
    "checkpointed",
    // The history recorder: marked at the checkpoint, undone and adopted by the base class itself.
    "history",
    "groupId",
    "journaledCache",
    "type",
  ];
  const classified = {
    // In the group row or member rows: a reload restores them.
    consumerPersisted: ["groupEpoch", "targetEpoch", "assignor", "partitionCounts", "sessionTimeoutMs"],
    // Indexes a restore rebuilds from the rows (drained to empty at the end of every step: `freed`).
    consumerRebuilt: ["slots", "owners", "targets", "pending", "freed"],
    classicPersisted: ["classicState", "generationId", "protocolTypeName", "protocolName", "leaderId"],
    classicRebuilt: ["index"],
    // Share groups: share-partitions, the archived listing and parked acquires are volatile fields
    // (acquired ranges are never persisted), journaled by their own structures (share-table.ts).
    sharePersisted: ["groupEpoch", "partitionCounts", "sessionTimeoutMs"],
    shareRebuilt: ["assignees", "assignedLists"],
  };
  const consumer = restoreGroup(
    {
      groupId: "g",
      type: "consumer",
      emptySince: 0,
      groupEpoch: 0,
      targetEpoch: 0,
      assignor: "uniform",
      partitionCounts: {},
      sessionTimeoutMs: 1000,
    },
    [],
    0,
  ) as any;
  const classic = new Driver().group as any;
  const kept = (g: any) => [...g.volatileFields(), ...g.orderedFields()];
  expect(Object.keys(consumer).sort()).toEqual(
    [...base, ...classified.consumerPersisted, ...classified.consumerRebuilt, ...kept(consumer)].sort(),
  );
  expect(Object.keys(classic).sort()).toEqual(
    [...base, ...classified.classicPersisted, ...classified.classicRebuilt, ...kept(classic)].sort(),
  );
  const share = restoreGroup(
    {
      groupId: "g",
      type: "share",
      emptySince: 0,
      groupEpoch: 0,
      partitionCounts: {},
      sessionTimeoutMs: 1000,
    },
    [],
    0,
  ) as any;
  expect(Object.keys(share).sort()).toEqual(
    [...base, ...classified.sharePersisted, ...classified.shareRebuilt, ...kept(share)].sort(),
  );
  // The dispatcher's own fields are all journaled (or its outbox, copied at the checkpoint).
  expect(Object.keys(share.dispatch).sort()).toEqual(
    ["holdings", "outbox", "parked", "rotation", "savedOutbox", "waits"].sort(),
  );
});
