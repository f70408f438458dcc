/**
 * `range`: per topic, the subscribers in Kafka member order (static members first by instanceId,
 * then by memberId) get contiguous runs of partitions; the first `P mod N` get one more.
 *
 * Sticky when members report `owned` (the KIP-848 server-side behaviour): each member first keeps
 * its lowest owned partitions up to its quota (one extra if extras are left), and only the rest
 * is handed out in ascending runs. Without ownership this is exactly the classic range assignment;
 * a classic-protocol leader wanting eager semantics simply passes no `owned`.
 */
import { buildGroupModel, toAssignment } from "./group-model";
import { QuotaFill } from "./quota-fill";
import type { Assignment, Assignor, GroupSpec } from "./types";

export function assignRange(group: GroupSpec): Assignment {
  const model = buildGroupModel(group, "kafka");
  const { topicStart, claimedBy } = model;
  const { subscriberStart, subscribers } = model.topicSubscribers();
  const owner = new Int32Array(model.partitionTotal).fill(-1);
  const quotas = new QuotaFill(model.members.length);
  for (let t = 0; t < model.topicNames.length; t++) {
    const subs = subscribers.subarray(subscriberStart[t]!, subscriberStart[t + 1]!);
    quotas.fill(owner, claimedBy, topicStart[t]!, topicStart[t + 1]!, subs);
  }
  return toAssignment(model, owner);
}

export const rangeAssignor: Assignor = { name: "range", assign: assignRange };
