/** Invariant checks shared by the assignor property tests; each throws with a precise message. */
import type { Assignment, GroupSpec } from "../../../src/assignors";

export const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Subscribers of each topic that has partitions. */
export function subscribersByTopic(group: GroupSpec): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  for (const member of group.members) {
    for (const topic of member.topics) {
      if ((group.topics.get(topic) ?? 0) === 0) continue;
      const subs = result.get(topic) ?? new Set<string>();
      result.set(topic, subs.add(member.memberId));
    }
  }
  return result;
}

export function subscribedPartitionCount(group: GroupSpec): number {
  let total = 0;
  for (const topic of subscribersByTopic(group).keys()) total += group.topics.get(topic)!;
  return total;
}

/** partition key -> member, asserting ascending lists, only subscribers, and no partition twice. */
export function ownersOf(group: GroupSpec, assignment: Assignment): Map<string, string> {
  const subscribers = subscribersByTopic(group);
  const ids = group.members.map((m) => m.memberId);
  if (assignment.size !== ids.length || !ids.every((id) => assignment.has(id))) {
    throw new Error(`assignment members ${[...assignment.keys()]} differ from the group's ${ids}`);
  }
  const owners = new Map<string, string>();
  for (const [member, topics] of assignment) {
    for (const [topic, partitions] of topics) {
      if (partitions.length === 0) throw new Error(`${member} has an empty list for ${topic}`);
      partitions.forEach((p, i) => {
        if (i > 0 && partitions[i - 1]! >= p) throw new Error(`${member} ${topic} not ascending`);
        const k = key(topic, p);
        const inRange = Number.isInteger(p) && p >= 0 && p < (group.topics.get(topic) ?? 0);
        if (!inRange || !subscribers.get(topic)?.has(member))
          throw new Error(`${member} got ${topic}-${p} without subscribing`);
        if (owners.has(k)) throw new Error(`${topic}-${p} assigned to ${owners.get(k)} and ${member}`);
        owners.set(k, member);
      });
    }
  }
  return owners;
}

/** Every subscribed partition exactly once, only to a subscriber. */
export function checkComplete(group: GroupSpec, assignment: Assignment): Map<string, string> {
  const owners = ownersOf(group, assignment);
  const expected = subscribedPartitionCount(group);
  if (owners.size !== expected) throw new Error(`${owners.size} of ${expected} partitions assigned`);
  return owners;
}

export function loads(assignment: Assignment): Map<string, number> {
  const result = new Map<string, number>();
  for (const [member, topics] of assignment) {
    let n = 0;
    for (const partitions of topics.values()) n += partitions.length;
    result.set(member, n);
  }
  return result;
}

export function checkBalancedWithinOne(assignment: Assignment): void {
  const counts = [...loads(assignment).values()];
  if (counts.length > 0 && Math.max(...counts) - Math.min(...counts) > 1) {
    throw new Error(`loads differ by more than one: min ${Math.min(...counts)}, max ${Math.max(...counts)}`);
  }
}

/** Sticky balance: no member has two fewer than the owner of a partition it could take. */
export function checkStickyBalance(
  group: GroupSpec,
  assignment: Assignment,
  owners: Map<string, string>,
): void {
  const load = loads(assignment);
  for (const [topic, subscribers] of subscribersByTopic(group)) {
    const lightest = Math.min(...[...subscribers].map((s) => load.get(s)!));
    for (let p = 0; p < group.topics.get(topic)!; p++) {
      const owner = owners.get(key(topic, p))!;
      if (load.get(owner)! - lightest >= 2) {
        throw new Error(
          `${topic}-${p} could move from ${owner} (${load.get(owner)}) to a member with ${lightest}`,
        );
      }
    }
  }
}

/** Per topic, subscribers' shares of that topic differ by at most one (range's guarantee). */
export function checkPerTopicBalance(group: GroupSpec, assignment: Assignment): void {
  for (const topic of group.topics.keys()) {
    const shares = group.members
      .filter((m) => m.topics.includes(topic))
      .map((m) => assignment.get(m.memberId)!.get(topic)?.length ?? 0);
    if (shares.length > 0 && Math.max(...shares) - Math.min(...shares) > 1) {
      throw new Error(`${topic} shares ${shares} differ by more than one`);
    }
  }
}

/**
 * partition key -> member, from the members' `owned` fields as cohort's assignors read them: only
 * subscribed topics and existing partitions count, and the first reporter in `members` order wins.
 */
export function previousOwners(group: GroupSpec, members = group.members): Map<string, string> {
  const owners = new Map<string, string>();
  for (const m of members) {
    for (const [topic, partitions] of Object.entries(m.owned ?? {})) {
      if (!m.topics.includes(topic)) continue;
      for (const p of partitions) {
        const valid = Number.isInteger(p) && p >= 0 && p < (group.topics.get(topic) ?? 0);
        if (valid && !owners.has(key(topic, p))) owners.set(key(topic, p), m.memberId);
      }
    }
  }
  return owners;
}

export function toOwned(topics: Map<string, number[]> | undefined): Record<string, number[]> {
  return Object.fromEntries(topics ?? []);
}
