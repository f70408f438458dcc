/**
 * A classic (JoinGroup/SyncGroup) group: Kafka's `ClassicGroup`. Groups that only ever received
 * simple commits are classic groups with no members and an empty protocol type, as in Kafka.
 * The join/sync state machine builds on this state (see API.md §4).
 */

import type { CohortError } from "../errors";
import {
  type CommitAuth,
  Group,
  type GroupDescription,
  type GroupRecord,
  type MemberDescription,
  partitionKey,
  type TopicPartitions,
} from "../group";

export type ClassicState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

export interface ClassicMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: { name: string; metadata: string }[];
  /** The assignment from the last completed sync (opaque string). */
  assignment: string;
  /** Topics the member subscribes to, when its protocol metadata is readable ("consumer" protocol type). */
  subscribedTopics: string[] | null;
  /** Partitions the member was assigned, when readable. */
  assignedPartitions: TopicPartitions[] | null;
}

export interface ClassicRecord extends GroupRecord {
  type: "classic";
  state: ClassicState;
  generationId: number;
  protocolType: string;
  protocolName: string;
  leaderId: string | null;
}

export class ClassicGroup extends Group {
  readonly type = "classic" as const;
  protected classicState: ClassicState;
  generationId: number;
  protected protocolTypeName: string;
  protocolName: string;
  leaderId: string | null;
  readonly members = new Map<string, ClassicMember>();

  constructor(record: ClassicRecord, members: Iterable<ClassicMember> = []) {
    super(record.groupId, record.emptySince);
    this.classicState = record.state;
    this.generationId = record.generationId;
    this.protocolTypeName = record.protocolType;
    this.protocolName = record.protocolName;
    this.leaderId = record.leaderId;
    for (const m of members) this.members.set(m.memberId, m);
  }

  /** A new group that holds only offsets (Kafka's "simple" group). */
  static simple(groupId: string, now: number): ClassicGroup {
    const group = new ClassicGroup({
      groupId,
      type: "classic",
      emptySince: now,
      state: "Empty",
      generationId: 0,
      protocolType: "",
      protocolName: "",
      leaderId: null,
    });
    group.touchGroup();
    return group;
  }

  get state(): ClassicState {
    return this.classicState;
  }

  get memberCount(): number {
    return this.members.size;
  }

  get protocolType(): string {
    return this.protocolTypeName;
  }

  knowsSubscriptions(): boolean {
    return this.protocolTypeName === "consumer";
  }

  isSubscribed(topic: string): boolean {
    for (const m of this.members.values()) if (m.subscribedTopics?.includes(topic)) return true;
    return false;
  }

  partitionOwners(): Map<string, string> {
    const owners = new Map<string, string>();
    for (const m of this.members.values()) {
      for (const tp of m.assignedPartitions ?? []) {
        for (const p of tp.partitions) owners.set(partitionKey(tp.topic, p), m.memberId);
      }
    }
    return owners;
  }

  /** API.md §3, classic group: membership, static-member fencing, generation, rebalance state. */
  checkMemberCommit(auth: CommitAuth, _now: number): CohortError | null {
    const memberId = auth.memberId ?? "";
    const member = this.members.get(memberId);
    if (auth.groupInstanceId) {
      const holder = [...this.members.values()].find((m) => m.groupInstanceId === auth.groupInstanceId);
      if (holder && holder.memberId !== memberId) {
        return {
          code: "FENCED_INSTANCE_ID",
          message: `instance ${auth.groupInstanceId} is now held by another member`,
        };
      }
    }
    if (!member)
      return { code: "UNKNOWN_MEMBER_ID", message: `member ${memberId || "(none)"} is not in the group` };
    if (auth.generationId !== this.generationId) {
      return {
        code: "ILLEGAL_GENERATION",
        message: `generation ${auth.generationId ?? "(none)"} is not the current generation ${this.generationId}`,
      };
    }
    if (this.classicState === "CompletingRebalance") {
      return { code: "REBALANCE_IN_PROGRESS", message: "the group is completing a rebalance" };
    }
    return null;
  }

  describe(): GroupDescription {
    const readable = this.knowsSubscriptions();
    const members: MemberDescription[] = [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: readable ? (m.assignedPartitions ?? []) : m.assignment,
    }));
    return {
      groupId: this.groupId,
      type: "classic",
      state: this.classicState,
      generationId: this.generationId,
      protocolType: this.protocolTypeName,
      protocolName: this.protocolName,
      leaderId: this.leaderId,
      members,
    };
  }

  nextDeadline(): number | null {
    return null;
  }

  onDeadlines(_now: number): void {}

  toRecord(): ClassicRecord {
    return {
      groupId: this.groupId,
      type: "classic",
      emptySince: this.emptySince,
      state: this.classicState,
      generationId: this.generationId,
      protocolType: this.protocolTypeName,
      protocolName: this.protocolName,
      leaderId: this.leaderId,
    };
  }

  memberRecord(memberId: string): ClassicMember | undefined {
    return this.members.get(memberId);
  }
}
