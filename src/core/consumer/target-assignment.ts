/**
 * The group's target assignment (Kafka's `TargetAssignmentBuilder`): which server assignor the group
 * uses, the partition counts it assigns over, and the assignor's answer per member. Recomputed only
 * when the group epoch moves (membership, subscriptions, partition counts or the preferred assignor).
 */

import { DEFAULT_SERVER_ASSIGNOR, getAssignor, type MemberSpec } from "../../assignors/index.ts";
import { type Dict, dict, own } from "../dict.ts";
import { fromAssignorMap, type PartitionMap } from "./partitions.ts";

export interface TargetInput {
  memberId: string;
  groupInstanceId: string | null;
  subscribedTopics: readonly string[];
  serverAssignor: string | null;
  /** The member's previous target: the sticky assignors keep partitions where they are; `range` ignores it. */
  target: PartitionMap;
}

/**
 * The assignor most members ask for (Kafka's `computePreferredServerAssignor`); ties go to the name
 * that sorts first so every replica of the decision agrees; `uniform` when nobody asks.
 */
export function preferredAssignor(members: Iterable<TargetInput>): string {
  const votes = new Map<string, number>();
  for (const m of members)
    if (m.serverAssignor) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
  let best = DEFAULT_SERVER_ASSIGNOR;
  let bestVotes = 0;
  for (const [name, n] of [...votes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (n > bestVotes) {
      best = name;
      bestVotes = n;
    }
  }
  return best;
}

/** Partition counts of the topics someone subscribes to; counts of topics nobody wants are dropped. */
export function subscribedCounts(
  members: Iterable<{ readonly subscribedTopics: readonly string[] }>,
  counts: Readonly<Dict<number>>,
): Dict<number> {
  const wanted = new Set<string>();
  for (const m of members) for (const t of m.subscribedTopics) wanted.add(t);
  const out = dict<number>();
  for (const t of [...wanted].sort()) {
    const n = own(counts, t);
    if (n !== undefined) out[t] = n;
  }
  return out;
}

/** The target assignment of every member (an empty map for members that get nothing). */
export function computeTarget(
  members: readonly TargetInput[],
  counts: Readonly<Record<string, number>>,
  assignorName: string,
): Map<string, PartitionMap> {
  const assignor = getAssignor(assignorName) ?? getAssignor(DEFAULT_SERVER_ASSIGNOR);
  if (!assignor) throw new Error(`no assignor ${assignorName}`);
  const specs: MemberSpec[] = members.map((m) => ({
    memberId: m.memberId,
    instanceId: m.groupInstanceId,
    topics: m.subscribedTopics,
    owned: m.target,
  }));
  const result = assignor.assign({ members: specs, topics: new Map(Object.entries(counts)) });
  return new Map(members.map((m) => [m.memberId, fromAssignorMap(result.get(m.memberId))]));
}
