/**
 * Indexes over a classic group's members that requests consult, so that no join, sync, heartbeat or
 * commit scans every member: which member holds each static instance id (KIP-345, Kafka's
 * `staticMembers`), how many members support each protocol (Kafka's `supportedProtocols`), which
 * decides whether a joining member has a protocol in common with the group, and how many members
 * subscribe to each topic (OffsetDelete's check). Callers wrap every change of these fields in
 * `remove` then `add`.
 */

export interface IndexedMember {
  memberId: string;
  groupInstanceId: string | null;
  protocols: readonly { name: string }[];
  subscribedTopics: readonly string[] | null;
}

export class ClassicMemberIndex {
  private readonly byInstance = new Map<string, string>();
  private readonly supporters = new Map<string, number>();
  private readonly subscribers = new Map<string, number>();

  add(m: IndexedMember): void {
    if (m.groupInstanceId !== null) this.byInstance.set(m.groupInstanceId, m.memberId);
    for (const name of protocolNames(m)) count(this.supporters, name, 1);
    for (const topic of new Set(m.subscribedTopics)) count(this.subscribers, topic, 1);
  }

  remove(m: IndexedMember): void {
    if (m.groupInstanceId !== null && this.byInstance.get(m.groupInstanceId) === m.memberId)
      this.byInstance.delete(m.groupInstanceId);
    for (const name of protocolNames(m)) count(this.supporters, name, -1);
    for (const topic of new Set(m.subscribedTopics)) count(this.subscribers, topic, -1);
  }

  /** The member id holding `groupInstanceId`, if any. */
  staticMemberId(groupInstanceId: string): string | undefined {
    return this.byInstance.get(groupInstanceId);
  }

  /** How many members list protocol `name`. */
  supportCount(name: string): number {
    return this.supporters.get(name) ?? 0;
  }

  /** Whether any member subscribes to `topic`. */
  subscribed(topic: string): boolean {
    return this.subscribers.has(topic);
  }
}

function count(counts: Map<string, number>, key: string, by: 1 | -1): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}

/** A member's protocol names, each once (a client may repeat one). */
export function protocolNames(m: { protocols: readonly { name: string }[] }): Set<string> {
  return new Set(m.protocols.map((p) => p.name));
}
