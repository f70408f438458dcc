/**
 * `sticky` and `cooperative-sticky` (KIP-429): the balanced-sticky engine with members in Kafka
 * member order, so the result does not depend on the order the group lists them in.
 *
 * The cooperative variant withholds every partition whose owner changes: it is left out of the
 * new owner's assignment this round, the old owner revokes it, and it is handed over in the
 * follow-up round (when nobody reports owning it any more). A partition whose owner left the group
 * has no current owner and moves at once.
 */
import { assignBalancedSticky } from "./balanced-sticky";
import { buildGroupModel, toAssignment } from "./group-model";
import type { Assignment, Assignor, GroupSpec } from "./types";

export function assignSticky(group: GroupSpec): Assignment {
  const model = buildGroupModel(group, "kafka");
  return toAssignment(model, assignBalancedSticky(model));
}

export function assignCooperativeSticky(group: GroupSpec): Assignment {
  const model = buildGroupModel(group, "kafka");
  const owner = assignBalancedSticky(model);
  const { claimedBy } = model;
  for (let g = 0; g < owner.length; g++) {
    if (claimedBy[g] !== -1 && claimedBy[g] !== owner[g]) owner[g] = -1;
  }
  return toAssignment(model, owner);
}

export const stickyAssignor: Assignor = { name: "sticky", assign: assignSticky };
export const cooperativeStickyAssignor: Assignor = {
  name: "cooperative-sticky",
  assign: assignCooperativeSticky,
};
