/**
 * Minimal movement for `uniform` and `sticky` with homogeneous subscriptions. With N members,
 * P partitions, quota q = floor(P/N), e = P mod N, and o_i the partitions member i validly owns,
 * a balanced assignment can keep at most  K = Σ min(o_i, q) + min(e, #{i : o_i > q}).
 * The property checked is exact: the number of owned partitions that change owner is Σ o_i − K.
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { type GroupSpec, getAssignor, type MemberSpec } from "../../../src/assignors";
import {
  checkBalancedWithinOne,
  checkComplete,
  loads,
  previousOwners,
  subscribedPartitionCount,
  toOwned,
} from "./assignment-checks";
import { buildGroup, prng, shapeArbitrary } from "./random-groups";

function minimalMoves(group: GroupSpec): number {
  const owned = new Map<string, number>();
  for (const owner of previousOwners(group).values()) owned.set(owner, (owned.get(owner) ?? 0) + 1);
  const total = subscribedPartitionCount(group);
  const n = group.members.length;
  const quota = Math.floor(total / n);
  let keepable = 0;
  let overQuota = 0;
  let ownedTotal = 0;
  for (const o of owned.values()) {
    ownedTotal += o;
    keepable += Math.min(o, quota);
    if (o > quota) overQuota++;
  }
  return ownedTotal - keepable - Math.min(total % n, overQuota);
}

function checkMinimalMovement(name: string, group: GroupSpec): void {
  const assignment = getAssignor(name)!.assign(group);
  const owners = checkComplete(group, assignment);
  checkBalancedWithinOne(assignment);
  let moved = 0;
  for (const [k, before] of previousOwners(group)) if (owners.get(k) !== before) moved++;
  const minimal = minimalMoves(group);
  if (moved !== minimal) throw new Error(`${name} moved ${moved} partitions; ${minimal} had to move`);
}

/** The next generation: everyone reports what the assignor just gave them. */
function withOwnership(
  members: readonly MemberSpec[],
  assignment: Map<string, Map<string, number[]>>,
): MemberSpec[] {
  return members.map((m) => ({ ...m, owned: toOwned(assignment.get(m.memberId)) }));
}

const homogeneous = shapeArbitrary({ members: 200, topics: 50, partitions: 5_000 }).map((s) => ({
  ...s,
  heterogeneous: false,
}));
const RUNS = 60;

describe.each(["uniform", "sticky"])("%s stickiness (homogeneous)", (name) => {
  const assignor = getAssignor(name)!;

  it("moves only what balance requires when one member joins a balanced group", () => {
    fc.assert(
      fc.property(homogeneous, (shape) => {
        const group = buildGroup({ ...shape, ownership: "none", members: Math.max(shape.members, 1) });
        const settled = withOwnership(group.members, assignor.assign(group));
        const joiner: MemberSpec = { memberId: `joiner-${shape.seed}`, topics: group.members[0]!.topics };
        const members = [...settled];
        members.splice(prng(shape.seed)(members.length + 1), 0, joiner);
        checkMinimalMovement(name, { ...group, members });
      }),
      { numRuns: RUNS },
    );
  });

  it("moves only what balance requires when one member leaves a balanced group", () => {
    fc.assert(
      fc.property(homogeneous, (shape) => {
        const group = buildGroup({ ...shape, ownership: "none", members: Math.max(shape.members, 2) });
        const members = withOwnership(group.members, assignor.assign(group));
        members.splice(prng(shape.seed)(members.length), 1);
        checkMinimalMovement(name, { ...group, members });
      }),
      { numRuns: RUNS },
    );
  });

  it("keeps the most any balanced assignment can keep from arbitrary (also stale) ownership", () => {
    fc.assert(
      fc.property(homogeneous, (shape) => {
        const group = buildGroup({ ...shape, members: Math.max(shape.members, 1) });
        // previousOwners mirrors the tie-break for duplicated reports: first reporter in member order.
        const ordered = name === "sticky" ? sortForSticky(group) : group;
        checkMinimalMovement(name, ordered);
      }),
      { numRuns: RUNS },
    );
  });
});

/** `sticky` reads members in Kafka order, so present them to it (and to the oracle) in that order. */
function sortForSticky(group: GroupSpec): GroupSpec {
  const rank = (m: MemberSpec) => [m.instanceId == null ? 1 : 0, m.instanceId ?? m.memberId] as const;
  const members = [...group.members].sort((a, b) => {
    const [ra, ka] = rank(a);
    const [rb, kb] = rank(b);
    return ra - rb || (ka < kb ? -1 : ka > kb ? 1 : 0);
  });
  return { ...group, members };
}

describe("uniform over a sequence of joins and leaves", () => {
  it("stays complete and balanced, and loads never differ by more than one", () => {
    fc.assert(
      fc.property(homogeneous, fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), (shape, events) => {
        const group = buildGroup({ ...shape, ownership: "none", members: Math.max(shape.members, 1) });
        let members = withOwnership(group.members, getAssignor("uniform")!.assign(group));
        events.forEach((join, i) => {
          if (join || members.length < 2)
            members.push({ memberId: `new-${i}`, topics: group.members[0]!.topics });
          else members.splice(i % members.length, 1);
          const next = { ...group, members };
          checkMinimalMovement("uniform", next);
          const assignment = getAssignor("uniform")!.assign(next);
          members = withOwnership(members, assignment);
          if (members.length > 0 && loads(assignment).size !== members.length)
            throw new Error("lost a member");
        });
      }),
      { numRuns: 20 },
    );
  });
});

describe.each(["uniform", "sticky", "cooperative-sticky", "range"])("%s at a fixed point", (name) => {
  it("returns the same assignment when members already own what it assigned (any subscriptions)", () => {
    const assignor = getAssignor(name)!;
    fc.assert(
      fc.property(shapeArbitrary({ members: 200, topics: 50, partitions: 5_000 }), (shape) => {
        const group = buildGroup(shape);
        // cooperative-sticky withholds moving partitions; follow-up rounds hand them over.
        let members = withOwnership(group.members, assignor.assign(group));
        for (let round = 2; !isComplete(group, members); round++) {
          if (round > MAX_COOPERATIVE_ROUNDS)
            throw new Error(`incomplete after ${MAX_COOPERATIVE_ROUNDS} rounds`);
          members = withOwnership(members, assignor.assign({ ...group, members }));
        }
        const first = assignor.assign({ ...group, members });
        const again = withOwnership(members, first);
        const second = assignor.assign({ ...group, members: again });
        for (const [member, topics] of first) {
          if (JSON.stringify([...topics]) !== JSON.stringify([...second.get(member)!])) {
            throw new Error(`${member} changed although nothing in the group did`);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});

/**
 * Heterogeneous groups can need more than one follow-up round. Over 3,000 random groups: complete
 * after 1 round 50%, 2: 37%, 3: 9%, 4: 4%, 5: 0.7%, never more; the tail shrinks ~5x per round, so
 * 12 is far beyond anything a run can draw. Not a proven bound.
 */
const MAX_COOPERATIVE_ROUNDS = 12;

function isComplete(group: GroupSpec, members: readonly MemberSpec[]): boolean {
  let owned = 0;
  for (const m of members) for (const list of Object.values(m.owned ?? {})) owned += list.length;
  return owned === subscribedPartitionCount(group);
}
