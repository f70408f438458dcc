/**
 * `uniform`: the server-side default (KIP-848). Balance first, then stickiness toward current
 * ownership; members are taken in the order the group lists them, which keeps the hot path free of
 * string sorting — the output is still a pure function of the input.
 */
import { assignBalancedSticky } from "./balanced-sticky";
import { buildGroupModel, toAssignment } from "./group-model";
import type { Assignment, Assignor, GroupSpec } from "./types";

export function assignUniform(group: GroupSpec): Assignment {
  const model = buildGroupModel(group, "input");
  return toAssignment(model, assignBalancedSticky(model));
}

export const uniformAssignor: Assignor = { name: "uniform", assign: assignUniform };
