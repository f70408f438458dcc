/**
 * The failure path of a share group (DESIGN.md principle 8): after a checkpoint, any steps (acquires,
 * acknowledgements of every type, joins, leaves, alarms with expiries, admin calls), a rollback and a
 * restore from the rows as they were plus `adoptVolatile`, the group is exactly what it was: members,
 * sessions, share-partitions with their locks, the archived listing, parked acquires, dirty marks.
 */

import fc from "fast-check";
import { expect, it } from "vitest";
import { DeadlineHeap } from "../../../src/core/deadline-heap";
import type { Group } from "../../../src/core/group";
import { restoreGroup } from "../../../src/core/restore";
import type { ShareGroup } from "../../../src/core/share/share-group";
import { entry, part, ShareHarness } from "./harness";

/** A deep, order-preserving dump of any state (Maps, Sets and class instances included). */
function dump(value: unknown, seen = new Set<unknown>()): unknown {
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "<cycle>";
  seen.add(value);
  let out: unknown;
  // A heap's layout may differ after a rollback; its deadlines may not.
  if (value instanceof DeadlineHeap) {
    const ids = (value as unknown as { ids: string[] }).ids;
    out = ["Heap", [...ids].sort().map((id) => [id, value.get(id)])];
  } else if (value instanceof Map) out = ["Map", [...value].map(([k, v]) => [dump(k, seen), dump(v, seen)])];
  else if (value instanceof Set) out = ["Set", [...value].map((v) => dump(v, seen))];
  else if (Array.isArray(value)) out = value.map((v) => dump(v, seen));
  else
    out = Object.fromEntries(
      Object.keys(value)
        .filter(
          (k) =>
            k !== "journal" && k !== "journaling" && k !== "order" && k !== "copied" && k !== "savedOutbox",
        )
        .map((k) => [k, dump((value as Record<string, unknown>)[k], seen)]),
    );
  seen.delete(value);
  return out;
}

/** Everything a failed request must leave as it was. */
function view(group: ShareGroup): unknown {
  const g = group as unknown as Record<string, unknown>;
  return {
    describe: group.describe(),
    nextDeadline: group.nextDeadline(),
    dirty: group.dirty,
    rows: dump(group.dirtyShareRows()),
    volatile: ["sessions", "table", "archive", "dispatch", "removals", "settings", "wokeAt"].map((k) =>
      dump(g[k]),
    ),
  };
}

const steps = fc.array(fc.integer({ min: 0, max: 11 }), { minLength: 1, maxLength: 10 });

it("after any failed step, restore + adopt is exactly the share group before it", () => {
  fc.assert(
    fc.property(steps, (plan) => {
      const h = new ShareHarness({ deliveryCountLimit: 2, lockDurationMs: 2000, sessionTimeoutMs: 6000 });
      for (const id of ["a", "b", "c"]) h.join(id, { t: 2 });
      h.take("a", 4, { partitions: [part("t", 0, 6), part("t", 1, 6)] });
      h.take("b", 4, { partitions: [part("t", 0, 6), part("t", 1, 6)] });
      h.ack("a", [entry("t", 0, 0, 0, "reject")]);
      h.acquire("c", 3, { maxWaitMs: 5000 }); // parked: c's partition has nothing left
      const group = h.share;
      const rows = { record: h.rows.record, members: [...h.rows.members.values()] };
      const share = { partitions: [...h.rows.partitions.values()], archived: [...h.rows.archived.values()] };
      const before = view(group);
      const order = [...group.memberIds()];
      group.checkpoint();
      for (const s of plan) {
        h.advance(700);
        const who = ["a", "b", "c"][s % 3]!;
        const member = group.members.get(who);
        if (s < 3 && member) h.take(who, 2, { acks: [entry("t", s % 2, 1, 2, "accept")] });
        else if (s < 6 && member)
          h.ack(who, [entry("t", s % 2, 0, 3, (["release", "reject", "renew"] as const)[s - 3]!)]);
        else if (s === 6) h.join(`n${h.now}`, { t: 3 });
        else if (s === 7 && member) h.must({ memberId: who, memberEpoch: -1 });
        else if (s === 8) h.pass(2500);
        else if (s === 9) group.redrive({ topic: "t" }, h.now);
        else if (s === 10) h.acquire(who, 5, { maxWaitMs: 1000, partitions: [part("t", 0, 9)] });
        else if (member) h.beat(who);
      }
      h.pass(60_000); // every lock, wait and session ends: the most any step can change
      group.rollback();
      const members = [...rows.members].sort(
        (x: any, y: any) => order.indexOf(x.memberId) - order.indexOf(y.memberId),
      );
      const restored = restoreGroup(rows.record as never, members, h.now, share) as Group as ShareGroup;
      restored.adoptVolatile(group);
      expect(view(restored)).toEqual(before);
    }),
    { numRuns: 150 },
  );
});
