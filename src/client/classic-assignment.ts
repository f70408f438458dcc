/**
 * The classic protocol's client-side documents and the leader's assignment (API.md §4): the
 * subscription metadata each member joins with — its topics, the partitions it owns (Kafka's
 * ConsumerProtocol v1 ownedPartitions, which the cooperative-sticky assignor keeps sticky and the
 * coordinator reads for describe and lag) and the partition counts in userData — and the per-member
 * assignment documents the leader sends with its sync. Pure functions: unit-tested in plain Node.
 */

import { getAssignor } from "../assignors/index.ts";
import { flatten, group, type TopicPartition } from "./partitions.ts";

/** Assignors that support KIP-429's cooperative protocol (Kafka's RebalanceProtocol.COOPERATIVE). */
const COOPERATIVE = new Set(["cooperative-sticky"]);

/**
 * As Kafka's ConsumerCoordinator: the protocol every offered assignor supports, so a member offering
 * ["cooperative-sticky", "range"] (an upgrade in progress) still rebalances eagerly.
 */
export function rebalanceProtocol(assignors: readonly string[]): "eager" | "cooperative" {
  return assignors.length > 0 && assignors.every((name) => COOPERATIVE.has(name)) ? "cooperative" : "eager";
}

interface Subscription {
  topics: string[];
  ownedPartitions?: { topic: string; partitions: number[] }[];
  userData?: string;
}

export function subscriptionMetadata(topics: Record<string, number>, owned: TopicPartition[]): string {
  const subscription: Subscription = {
    topics: Object.keys(topics),
    ownedPartitions: group(owned),
    userData: JSON.stringify({ partitions: topics }),
  };
  return JSON.stringify(subscription);
}

export interface JoinedMember {
  memberId: string;
  groupInstanceId?: string | null | undefined;
  metadata: string;
}

/** The leader's work: run the chosen assignor over every member's subscription and ownership. */
export function leaderAssignments(
  protocolName: string,
  joined: readonly JoinedMember[],
): { memberId: string; assignment: string }[] {
  const assignor = getAssignor(protocolName);
  if (!assignor) throw new RangeError(`unknown assignor ${protocolName}`);
  const topics = new Map<string, number>();
  const members = joined.map((m) => {
    const subscription = JSON.parse(m.metadata) as Subscription;
    const counts = (JSON.parse(subscription.userData ?? "{}") as { partitions?: Record<string, number> })
      .partitions;
    for (const [topic, count] of Object.entries(counts ?? {}))
      topics.set(topic, Math.max(count, topics.get(topic) ?? 0));
    const owned = Object.fromEntries(
      (subscription.ownedPartitions ?? []).map((l) => [l.topic, l.partitions]),
    );
    return {
      memberId: m.memberId,
      instanceId: m.groupInstanceId ?? null,
      topics: subscription.topics,
      owned,
    };
  });
  const result = assignor.assign({ members, topics });
  return members.map(({ memberId }) => {
    const byTopic = result.get(memberId) ?? new Map<string, number[]>();
    const partitions = [...byTopic].flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
    return { memberId, assignment: JSON.stringify({ partitions: group(partitions) }) };
  });
}

/** The partitions of an assignment document ("" or "{}" assigns nothing). */
export function assignedPartitions(document: string): TopicPartition[] {
  const assignment = JSON.parse(document || "{}") as {
    partitions?: { topic: string; partitions: number[] }[];
  };
  return flatten(assignment.partitions ?? []);
}
