/**
 * Indexes over a classic group's members that requests consult, so that no join, sync, heartbeat or
 * commit scans every member: which member holds each static instance id (KIP-345, Kafka's
 * `staticMembers`), and how many members support each protocol (Kafka's `supportedProtocols`), which
 * decides whether a joining member has a protocol in common with the group.
 */

export interface IndexedMember {
  memberId: string;
  groupInstanceId: string | null;
  protocols: readonly { name: string }[];
}

export class ClassicMemberIndex {
  private readonly byInstance = new Map<string, string>();
  private readonly supporters = new Map<string, number>();

  add(m: IndexedMember): void {
    if (m.groupInstanceId !== null) this.byInstance.set(m.groupInstanceId, m.memberId);
    for (const name of protocolNames(m)) this.supporters.set(name, (this.supporters.get(name) ?? 0) + 1);
  }

  remove(m: IndexedMember): void {
    if (m.groupInstanceId !== null && this.byInstance.get(m.groupInstanceId) === m.memberId)
      this.byInstance.delete(m.groupInstanceId);
    for (const name of protocolNames(m)) {
      const left = (this.supporters.get(name) ?? 0) - 1;
      if (left > 0) this.supporters.set(name, left);
      else this.supporters.delete(name);
    }
  }

  /** The member id holding `groupInstanceId`, if any. */
  staticMemberId(groupInstanceId: string): string | undefined {
    return this.byInstance.get(groupInstanceId);
  }

  /** How many members list protocol `name`. */
  supportCount(name: string): number {
    return this.supporters.get(name) ?? 0;
  }
}

/** A member's protocol names, each once (a client may repeat one). */
export function protocolNames(m: { protocols: readonly { name: string }[] }): Set<string> {
  return new Set(m.protocols.map((p) => p.name));
}
