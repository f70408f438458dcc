/**
 * The consumer group's scale structures against naive references: the deadline heap against a Map
 * scanned in full, the partition index against a Map of keys, and the uniform fast path against the
 * `uniform` assignor itself (same targets for every member, over random joins and leaves).
 */
import fc from "fast-check";
import { expect, it } from "vitest";
import { assignUniform } from "../../../src/assignors/balanced-sticky";
import { MemberSlots, PartitionIndex } from "../../../src/core/consumer/partition-index";
import { fromAssignorMap, type PartitionMap } from "../../../src/core/consumer/partitions";
import { uniformTargets } from "../../../src/core/consumer/uniform-target";
import { DeadlineHeap } from "../../../src/core/deadline-heap";

const id = fc.integer({ min: 0, max: 15 }).map((n) => `m${n}`);

it("DeadlineHeap: min and due agree with a full scan", () => {
  const op = fc.oneof(
    fc.record({ set: id, at: fc.integer({ min: 0, max: 100 }) }),
    fc.record({ del: id }),
    fc.record({ due: fc.integer({ min: 0, max: 100 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
      const heap = new DeadlineHeap();
      const ref = new Map<string, number>();
      for (const o of ops) {
        if ("set" in o) {
          heap.set(o.set, o.at);
          ref.set(o.set, o.at);
        } else if ("del" in o) {
          heap.delete(o.del);
          ref.delete(o.del);
        } else {
          const expected = [...ref].filter(([, d]) => d <= o.due).map(([k]) => k);
          expect(heap.due(o.due).sort()).toEqual(expected.sort());
        }
        expect(heap.min()).toBe(ref.size === 0 ? null : Math.min(...ref.values()));
        expect(heap.size).toBe(ref.size);
        for (const [k, d] of ref) expect(heap.get(k)).toBe(d);
      }
    }),
    { numRuns: 300 },
  );
});

it("PartitionIndex: get, set, clear-if-held and used topics agree with a Map", () => {
  const tp = fc.tuple(fc.constantFrom("a", "b", "c"), fc.integer({ min: 0, max: 40 }));
  const op = fc.record({ tp, slot: fc.integer({ min: 0, max: 3 }), clear: fc.boolean() });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 150 }), (ops) => {
      const index = new PartitionIndex();
      const ref = new Map<string, number>();
      for (const {
        tp: [t, p],
        slot,
        clear,
      } of ops) {
        const key = `${t}:${p}`;
        if (clear) {
          index.clear(t, p, slot);
          if (ref.get(key) === slot) ref.delete(key);
        } else {
          index.set(t, p, slot);
          ref.set(key, slot);
        }
        expect(index.get(t, p)).toBe(ref.get(key) ?? -1);
      }
      for (const t of ["a", "b", "c"])
        for (let p = 0; p <= 41; p++) expect(index.get(t, p)).toBe(ref.get(`${t}:${p}`) ?? -1);
      const used = new Set([...ref.keys()].map((k) => k.split(":")[0]));
      expect(new Set(index.usedTopics())).toEqual(used);
    }),
    { numRuns: 300 },
  );
});

it("PartitionIndex: add and remove of whole maps agree with set and clear one by one", () => {
  const map = fc
    .dictionary(fc.constantFrom("a", "b", "__proto__"), fc.uniqueArray(fc.integer({ min: 0, max: 40 })), {
      noNullPrototype: false,
    })
    .map((m): PartitionMap => {
      const out: PartitionMap = Object.create(null);
      for (const t of Object.keys(m)) out[t] = [...m[t]!].sort((x, y) => x - y);
      return out;
    });
  const op = fc.record({ map, slot: fc.integer({ min: 0, max: 3 }), remove: fc.boolean() });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const whole = new PartitionIndex();
      const single = new PartitionIndex();
      for (const o of ops) {
        if (o.remove) whole.remove(o.map, o.slot);
        else whole.add(o.map, o.slot);
        for (const t of Object.keys(o.map))
          for (const p of o.map[t]!) {
            if (o.remove) single.clear(t, p, o.slot);
            else single.set(t, p, o.slot);
          }
        for (const t of ["a", "b", "__proto__"])
          for (let p = 0; p <= 41; p++) expect(whole.get(t, p)).toBe(single.get(t, p));
        expect(new Set(whole.usedTopics())).toEqual(new Set(single.usedTopics()));
      }
    }),
    { numRuns: 200 },
  );
});

it("uniformTargets gives what the uniform assignor gives, over random joins and leaves", () => {
  const step = fc.record({ join: fc.boolean(), who: fc.nat(), grow: fc.integer({ min: 0, max: 3 }) });
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
      const slots = new MemberSlots();
      const index = new PartitionIndex();
      const targets = new Map<string, PartitionMap>();
      const counts: Record<string, number> = { t: 5, u: 3 };
      let next = 0;
      for (const s of steps) {
        if (s.join || targets.size === 0) targets.set(`m${next++}`, {});
        else {
          const gone = [...targets.keys()][s.who % targets.size]!;
          index.remove(targets.get(gone)!, slots.of(gone));
          slots.release(gone);
          targets.delete(gone);
        }
        counts.t! += s.grow;
        const ids = [...targets.keys()];
        const expected = assignUniform({
          members: ids.map((memberId) => ({ memberId, topics: ["t", "u"], owned: targets.get(memberId)! })),
          topics: new Map(Object.entries(counts)),
        });
        const order = Int32Array.from(ids, (m) => slots.of(m));
        const layout = [["t", counts.t!] as const, ["u", counts.u!] as const];
        const moved = uniformTargets(
          order,
          slots.capacity,
          layout,
          index,
          (slot) => targets.get(slots.id(slot)!)!,
        );
        expect(moved).not.toBeNull();
        for (const [slot, target] of moved!) {
          const memberId = slots.id(slot)!;
          index.remove(targets.get(memberId)!, slot);
          index.add(target, slot);
          targets.set(memberId, target);
        }
        for (const m of ids) expect(targets.get(m)).toEqual(fromAssignorMap(expected.get(m)));
      }
    }),
    { numRuns: 200 },
  );
});
