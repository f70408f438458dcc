/**
 * Benchmark inputs on the grid of Kafka's ServerSideAssignorBenchmark: members × 10 partitions
 * per member, spread evenly over the topics. Heterogeneous: topics fall into three buckets by
 * index and member i subscribes to buckets i mod 3 and (i+1) mod 3, so subscriptions overlap and
 * balancing has to cross them. INCREMENTAL = one member joins a group that owns the FULL result.
 */
import type { Assignor, GroupSpec, MemberSpec } from "../src/assignors";

export interface GridPoint {
  members: number;
  topics: number;
  subscription: "homogeneous" | "heterogeneous";
}

export const PARTITIONS_PER_MEMBER = 10;

export const GRID: GridPoint[] = [100, 1_000, 10_000].flatMap((members) =>
  [10, 100].flatMap((topics) =>
    (["homogeneous", "heterogeneous"] as const).map((subscription) => ({ members, topics, subscription })),
  ),
);

export function topicNames(point: GridPoint): string[] {
  return Array.from({ length: point.topics }, (_, t) => `topic-${t}`);
}

/** A group nobody has an assignment in yet. */
export function fullGroup(point: GridPoint): GroupSpec {
  const names = topicNames(point);
  const partitionsPerTopic = Math.ceil((point.members * PARTITIONS_PER_MEMBER) / point.topics);
  const topics = new Map(names.map((name) => [name, partitionsPerTopic]));
  const buckets = [0, 1, 2].map((b) => names.filter((_, t) => t % 3 === b));
  const members: MemberSpec[] = Array.from({ length: point.members }, (_, i) => ({
    memberId: `member-${i}`,
    instanceId: null,
    topics:
      point.subscription === "homogeneous"
        ? [...names]
        : [...buckets[i % 3]!, ...buckets[(i + 1) % 3]!].sort(),
  }));
  return { members, topics };
}

/** The FULL group after `assignor` ran, everyone owning its result, plus one member joining. */
export function incrementalGroup(point: GridPoint, assignor: Assignor): GroupSpec {
  const group = fullGroup(point);
  const assignment = assignor.assign(group);
  const members: MemberSpec[] = group.members.map((m) => ({
    ...m,
    owned: Object.fromEntries(assignment.get(m.memberId) ?? []),
  }));
  members.push({ ...group.members[0]!, memberId: `member-${point.members}` });
  return { ...group, members };
}
