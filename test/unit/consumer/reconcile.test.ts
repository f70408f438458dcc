/**
 * CurrentAssignmentBuilder rules, one per test: revoke before assign, the epoch waits for the
 * revocation, withheld partitions until released, and "no change" returned as the same object.
 */

import { describe, expect, it } from "vitest";
import { type MemberAssignment, reconcile } from "../../../src/core/consumer/reconcile";

const nobody = () => false;
const at = (memberEpoch: number, assigned: Record<string, number[]>, extra: Partial<MemberAssignment> = {}) =>
  ({ memberEpoch, state: "Stable", assigned, revoking: {}, ...extra }) as MemberAssignment;

describe("reconcile (CurrentAssignmentBuilder)", () => {
  it("leaves a member at the target epoch unchanged, as the same object", () => {
    const m = at(3, { t: [0, 1] });
    expect(reconcile(m, 3, { t: [0, 1] }, nobody)).toBe(m);
  });

  it("moves a member with nothing to revoke to the target epoch with the free partitions", () => {
    const next = reconcile(at(3, { t: [0] }), 4, { t: [0, 1], u: [2] }, nobody);
    expect(next).toEqual({ memberEpoch: 4, state: "Stable", assigned: { t: [0, 1], u: [2] }, revoking: {} });
  });

  it("asks to revoke first: keeps only retained partitions, at the old epoch, and adds nothing new", () => {
    const next = reconcile(at(3, { t: [0, 1, 2] }), 4, { t: [0, 3] }, nobody);
    expect(next).toEqual({
      memberEpoch: 3,
      state: "UnrevokedPartitions",
      assigned: { t: [0] },
      revoking: { t: [1, 2] },
    });
  });

  it("waits while the member still reports a revoked partition, or does not report at all", () => {
    const m = at(3, { t: [0] }, { state: "UnrevokedPartitions", revoking: { t: [1, 2] } });
    expect(reconcile(m, 4, { t: [0, 3] }, nobody, { t: [0, 2] })).toBe(m);
    expect(reconcile(m, 4, { t: [0, 3] }, nobody)).toBe(m);
  });

  it("moves to the target epoch once the report no longer holds revoked partitions", () => {
    const m = at(3, { t: [0] }, { state: "UnrevokedPartitions", revoking: { t: [1, 2] } });
    const next = reconcile(m, 4, { t: [0, 3] }, nobody, { t: [0] });
    expect(next).toEqual({ memberEpoch: 4, state: "Stable", assigned: { t: [0, 3] }, revoking: {} });
  });

  it("withholds partitions another member still owns (UnreleasedPartitions) and hands them over once free", () => {
    let ownedElsewhere = true;
    const byOther = (topic: string, p: number) => ownedElsewhere && topic === "t" && p === 1;
    const waiting = reconcile(at(3, { t: [0] }), 4, { t: [0, 1, 2] }, byOther);
    expect(waiting).toEqual({
      memberEpoch: 4,
      state: "UnreleasedPartitions",
      assigned: { t: [0, 2] },
      revoking: {},
    });
    expect(reconcile(waiting, 4, { t: [0, 1, 2] }, byOther)).toBe(waiting);
    ownedElsewhere = false;
    expect(reconcile(waiting, 4, { t: [0, 1, 2] }, byOther)).toEqual({
      memberEpoch: 4,
      state: "Stable",
      assigned: { t: [0, 1, 2] },
      revoking: {},
    });
  });
});
