/**
 * Invariants over random groups (up to 200 members, 50 topics, 5,000 partitions; homogeneous and
 * heterogeneous subscriptions; no, valid, or stale/duplicated/invalid current ownership).
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { type GroupSpec, getAssignor } from "../../../src/assignors";
import {
  checkBalancedWithinOne,
  checkComplete,
  checkPerTopicBalance,
  checkStickyBalance,
  key,
  ownersOf,
} from "./assignment-checks";
import { buildGroup, type GroupShape, shapeArbitrary } from "./random-groups";

const LARGE = { members: 200, topics: 50, partitions: 5_000 };
/** Mostly small and medium groups, where edge cases live, plus a few at the largest size. */
const shapes = fc.oneof(
  { weight: 4, arbitrary: shapeArbitrary({ members: 12, topics: 6, partitions: 60 }) },
  { weight: 2, arbitrary: shapeArbitrary(LARGE) },
  {
    weight: 1,
    arbitrary: shapeArbitrary(LARGE).map((s): GroupShape => ({ ...s, ...LARGE })),
  },
);
const RUNS = 100;

function check(name: string, shape: GroupShape): void {
  const group = buildGroup(shape);
  const assignment = getAssignor(name)!.assign(group);
  const owners = checkComplete(group, assignment);
  if (!shape.heterogeneous && name !== "range") checkBalancedWithinOne(assignment);
  if (name === "range") checkPerTopicBalance(group, assignment);
  if (name === "uniform" || name === "sticky") checkStickyBalance(group, assignment, owners);
  // Same input, same output.
  const again = getAssignor(name)!.assign(group);
  if (JSON.stringify(toEntries(again)) !== JSON.stringify(toEntries(assignment))) {
    throw new Error("not deterministic");
  }
}

const toEntries = (a: Map<string, Map<string, number[]>>) => [...a].map(([m, t]) => [m, [...t]]);

describe.each(["uniform", "range", "roundrobin", "sticky"])("%s over random groups", (name) => {
  it("assigns every subscribed partition exactly once, only to subscribers, balanced, deterministic", () => {
    fc.assert(
      fc.property(shapes, (shape) => check(name, shape)),
      { numRuns: RUNS },
    );
  });
});

describe.each(["range", "roundrobin", "sticky", "cooperative-sticky"])("%s", (name) => {
  it("does not depend on the order members are listed in", () => {
    fc.assert(
      fc.property(shapeArbitrary({ members: 30, topics: 8, partitions: 300 }), (shape) => {
        const group = buildGroup(shape);
        const reversed = { ...group, members: [...group.members].reverse() };
        const a = getAssignor(name)!.assign(group);
        const b = getAssignor(name)!.assign(reversed);
        for (const [member, topics] of a) {
          if (JSON.stringify([...topics]) !== JSON.stringify([...b.get(member)!])) {
            throw new Error(`${member} differs when members are reversed`);
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe("cooperative-sticky over random groups", () => {
  it("is sticky's assignment minus the partitions another member reports and the new owner does not", () => {
    fc.assert(
      fc.property(shapes, (shape) => {
        const group = buildGroup(shape);
        const sticky = ownersOf(group, getAssignor("sticky")!.assign(group));
        const cooperative = ownersOf(group, getAssignor("cooperative-sticky")!.assign(group));
        const reporters = allReporters(group);
        for (const [k, member] of sticky) {
          const others = [...(reporters.get(k) ?? [])];
          const withheld = others.length > 0 && !others.includes(member);
          const got = cooperative.get(k);
          if (withheld ? got !== undefined : got !== member) {
            throw new Error(`${k}: sticky ${member}, reported by ${others}, cooperative ${got}`);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});

/** partition key -> every member reporting it, whatever its subscription. */
function allReporters(group: GroupSpec): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  for (const m of group.members) {
    for (const [topic, partitions] of Object.entries(m.owned ?? {})) {
      for (const p of partitions)
        result.set(key(topic, p), (result.get(key(topic, p)) ?? new Set()).add(m.memberId));
    }
  }
  return result;
}
