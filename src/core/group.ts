/**
 * What every consumer group is, whatever its protocol: the interface that offsets, retention, lag and
 * the admin API use, and the bookkeeping of which rows changed so the Durable Object persists only
 * those (a steady heartbeat changes none). The classic (JoinGroup/SyncGroup) and consumer (KIP-848)
 * protocols implement it, as Kafka's `ClassicGroup` and `ConsumerGroup` implement `Group`.
 */

import type { CohortError } from "./errors.ts";

export type GroupType = "classic" | "consumer";

/** Identity a commit carries (API.md §3); all absent is a "simple" commit. */
export interface CommitAuth {
  memberId?: string | undefined;
  generationId?: number | undefined;
  memberEpoch?: number | undefined;
  groupInstanceId?: string | null | undefined;
}

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface MemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  memberEpoch?: number;
  state?: string;
  /** Partitions for groups whose assignments the coordinator understands; the opaque string otherwise. */
  assignment: TopicPartitions[] | string;
  [extra: string]: unknown;
}

export interface GroupDescription {
  groupId: string;
  type: GroupType;
  state: string;
  generationId?: number;
  groupEpoch?: number;
  protocolType: string;
  protocolName?: string;
  assignor?: string;
  leaderId: string | null;
  members: MemberDescription[];
}

export interface GroupSummary {
  groupId: string;
  type: GroupType;
  state: string;
  members: number;
}

/** Key of one partition in maps; topics cannot contain ':' (API.md §1). */
export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;

/** The persisted rows a mutation touched: the group's own row and members (value undefined = deleted). */
export interface DirtyRows {
  group: boolean;
  members: Map<string, unknown | undefined>;
}

export abstract class Group {
  abstract readonly type: GroupType;
  /** When the group last became Empty (KIP-211 retention base); null while it has members. */
  emptySince: number | null;
  private dirtyGroup = false;
  private readonly dirtyMembers = new Set<string>();

  readonly groupId: string;

  protected constructor(groupId: string, emptySince: number | null) {
    this.groupId = groupId;
    this.emptySince = emptySince;
  }

  /** Kafka's state name (API.md §6). */
  abstract get state(): string;
  abstract get memberCount(): number;
  /** The classic protocol type ("consumer", "connect", …); "" for a group that only holds offsets. */
  abstract get protocolType(): string;
  /** Whether the coordinator can read the members' subscriptions (consumer protocol, or classic "consumer"). */
  abstract knowsSubscriptions(): boolean;
  /** Whether any member subscribes to `topic`. */
  abstract isSubscribed(topic: string): boolean;
  /** Current owner of each partition, by `partitionKey`, where the coordinator knows it. */
  abstract partitionOwners(): Map<string, string>;
  /** Fencing of a member's (non-simple) commit: null when accepted. */
  abstract checkMemberCommit(auth: CommitAuth, now: number): CohortError | null;
  abstract describe(): GroupDescription;
  /** The earliest protocol deadline (session expiry, rebalance timeout, …), or null. */
  abstract nextDeadline(): number | null;
  /** Processes every protocol deadline that is due at `now`; must be idempotent. */
  abstract onDeadlines(now: number): void;
  /** Whether the group must be kept although it has no members (e.g. member ids issued, not yet joined). */
  isPinned(): boolean {
    return false;
  }
  /** The group's own persisted row (JSON-serializable). */
  abstract toRecord(): GroupRecord;
  /** A member's persisted row (JSON-serializable), or undefined when it is gone. */
  abstract memberRecord(memberId: string): unknown | undefined;

  summary(): GroupSummary {
    return { groupId: this.groupId, type: this.type, state: this.state, members: this.memberCount };
  }

  /** Marks the group's own row for persisting. */
  protected touchGroup(): void {
    this.dirtyGroup = true;
  }

  /** Marks a member's row (present or removed) for persisting. */
  protected touchMember(memberId: string): void {
    this.dirtyMembers.add(memberId);
  }

  /** Sets or clears `emptySince` as membership changes; call after adding or removing members. */
  protected noteMembership(now: number): void {
    const empty = this.memberCount === 0;
    if (empty && this.emptySince === null) {
      this.emptySince = now;
      this.touchGroup();
    } else if (!empty && this.emptySince !== null) {
      this.emptySince = null;
      this.touchGroup();
    }
  }

  /** Whether any row changed since the last `takeDirty()`. */
  get dirty(): boolean {
    return this.dirtyGroup || this.dirtyMembers.size > 0;
  }

  /** Returns and forgets the rows changed since the last call. */
  takeDirty(): DirtyRows {
    const members = new Map<string, unknown | undefined>();
    for (const id of this.dirtyMembers) members.set(id, this.memberRecord(id));
    const rows = { group: this.dirtyGroup, members };
    this.dirtyGroup = false;
    this.dirtyMembers.clear();
    return rows;
  }
}

/** The persisted row of a group: common fields plus the protocol's own. */
export interface GroupRecord {
  groupId: string;
  type: GroupType;
  emptySince: number | null;
  [field: string]: unknown;
}
