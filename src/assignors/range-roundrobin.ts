/**
 * Kafka's order-based assignors, `range` and `roundrobin`. Both take members in Kafka member order
 * (static members first by instanceId, then by memberId), so the result does not depend on the
 * order the group lists them in.
 */
import { buildGroupModel, type GroupModel, toAssignment } from "./group-model.ts";
import type { Assignment, Assignor, GroupSpec } from "./types.ts";

/**
 * `range`, Kafka's server-side range since KAFKA-16944: per topic, the subscribers in Kafka member
 * order get contiguous runs of partitions, the first `P mod N` one more. Recomputed from the members
 * alone: `owned` is ignored, so the result never depends on the order things happened in and members
 * with the same subscriptions get the same partition numbers of co-partitioned topics.
 */
export function assignRange(group: GroupSpec): Assignment {
  const model = buildGroupModel(group, "kafka");
  return toAssignment(model, rangeOwners(model));
}

function rangeOwners(model: GroupModel): Int32Array {
  const { topicStart } = model;
  const { subscriberStart, subscribers } = model.topicSubscribers();
  const owner = new Int32Array(model.partitionTotal).fill(-1);
  for (let t = 0; t < model.topicNames.length; t++) {
    const first = subscriberStart[t]!;
    const n = subscriberStart[t + 1]! - first;
    if (n === 0) continue;
    const partitions = topicStart[t + 1]! - topicStart[t]!;
    const quota = Math.floor(partitions / n);
    const extras = partitions % n;
    let g = topicStart[t]!;
    for (let i = 0; i < n; i++) {
      const m = subscribers[first + i]!;
      for (let k = quota + (i < extras ? 1 : 0); k > 0; k--) owner[g++] = m;
    }
  }
  return owner;
}

export const rangeAssignor: Assignor = {
  name: "range",
  assign: assignRange,
  indexed: { order: "kafka", owners: rangeOwners },
};

/**
 * `roundrobin`: all subscribed partitions in topic-name order, dealt one at a time to the members
 * in Kafka member order, circularly; a member not subscribed to the partition's topic is skipped
 * (which is why heterogeneous subscriptions can end up unbalanced, as in Kafka).
 */
export function assignRoundRobin(group: GroupSpec): Assignment {
  const model = buildGroupModel(group, "kafka");
  return toAssignment(model, roundRobinOwners(model));
}

function roundRobinOwners(model: GroupModel): Int32Array {
  const n = model.memberCount;
  const owner = new Int32Array(model.partitionTotal).fill(-1);
  if (n === 0) return owner;

  if (model.homogeneous) {
    for (let g = 0; g < owner.length; g++) owner[g] = g % n;
    return owner;
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
  return owner;
}

export const roundRobinAssignor: Assignor = {
  name: "roundrobin",
  assign: assignRoundRobin,
  indexed: { order: "kafka", owners: roundRobinOwners },
};
