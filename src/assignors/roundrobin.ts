/**
 * `roundrobin`: all subscribed partitions in topic-name order, dealt one at a time to the members
 * in Kafka member order, circularly; a member not subscribed to the partition's topic is skipped
 * (which is why heterogeneous subscriptions can end up unbalanced, as in Kafka).
 */
import { buildGroupModel, toAssignment } from "./group-model";
import type { Assignment, Assignor, GroupSpec } from "./types";

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
