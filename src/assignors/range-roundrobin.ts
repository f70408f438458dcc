/**
 * Kafka's order-based assignors, `range` and `roundrobin`. Both take members in Kafka member order
 * (static members first by instanceId, then by memberId), so the result does not depend on the
 * order the group lists them in.
 */
import { buildGroupModel, toAssignment } from "./group-model.ts";
import { QuotaFill } from "./quota-fill.ts";
import type { Assignment, Assignor, GroupSpec } from "./types.ts";

/**
 * `range`: per topic, the subscribers in Kafka member order get contiguous runs of partitions;
 * the first `P mod N` get one more.
 *
 * Sticky when members report `owned` (the KIP-848 server-side behaviour): each member first keeps
 * its lowest owned partitions up to its quota (one extra if extras are left), and only the rest
 * is handed out in ascending runs. Without ownership this is exactly the classic range assignment;
 * a classic-protocol leader wanting eager semantics simply passes no `owned`.
 */
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

/**
 * `roundrobin`: all subscribed partitions in topic-name order, dealt one at a time to the members
 * in Kafka member order, circularly; a member not subscribed to the partition's topic is skipped
 * (which is why heterogeneous subscriptions can end up unbalanced, as in Kafka).
 */
export function assignRoundRobin(group: GroupSpec): Assignment {
  const model = buildGroupModel(group, "kafka");
  const n = model.members.length;
  const owner = new Int32Array(model.partitionTotal).fill(-1);
  if (n === 0) return toAssignment(model, owner);

  if (model.homogeneous) {
    for (let g = 0; g < owner.length; g++) owner[g] = g % n;
    return toAssignment(model, owner);
  }

  const { topicStart, subscriptionOf, subscriptionTopics } = model;
  const { subscriberStart } = model.topicSubscribers();
  const topicCount = model.topicNames.length;
  const subscribed = subscriptionTopics.map((topics) => {
    const flags = new Uint8Array(topicCount);
    for (const t of topics) flags[t] = 1;
    return flags;
  });
  let cursor = 0;
  for (let t = 0; t < topicCount; t++) {
    if (subscriberStart[t + 1] === subscriberStart[t]) continue;
    for (let g = topicStart[t]!; g < topicStart[t + 1]!; g++) {
      while (subscribed[subscriptionOf[cursor]!]![t] === 0) cursor = (cursor + 1) % n;
      owner[g] = cursor;
      cursor = (cursor + 1) % n;
    }
  }
  return toAssignment(model, owner);
}

export const roundRobinAssignor: Assignor = { name: "roundrobin", assign: assignRoundRobin };
