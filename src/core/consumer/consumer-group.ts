/**
 * A consumer-protocol (KIP-848) group: Kafka's `ConsumerGroup`. The coordinator owns the assignment:
 * a group epoch that moves when membership, subscriptions, partition counts or the preferred assignor
 * change; a target assignment computed for that epoch; and each member's current assignment, moved
 * towards the target by `reconcile`. The group's state is derived from these epochs, never stored.
 *
 * Persisted: the group row (epochs, assignor, partition counts) and one row per member holding its
 * current and target assignment, so one member's change writes one row. Session and revocation
 * deadlines live in memory only: a heartbeat in a steady group changes nothing persisted.
 */

import type { CohortError } from "../errors.ts";
import {
  type CommitAuth,
  Group,
  type GroupDescription,
  type GroupRecord,
  type MemberDescription,
  partitionKey,
  type TopicPartitions,
} from "../group.ts";
import { type PartitionMap, samePartitions, toList, union } from "./partitions.ts";
import { type MemberAssignment, type MemberState, reconcile } from "./reconcile.ts";
import { computeTarget, preferredAssignor, subscribedCounts } from "./target-assignment.ts";

export type ConsumerGroupState = "Empty" | "Assigning" | "Reconciling" | "Stable" | "Dead";

export interface ConsumerMember extends MemberAssignment {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  subscribedTopics: string[];
  serverAssignor: string | null;
  /** The oldest epoch the member may still act on: the last one it confirmed before the server moved it on. */
  previousMemberEpoch: number;
  target: PartitionMap;
  /** A static member that left with epoch −2: its assignment waits for its instance id. */
  left: boolean;
  /** `wokeAt` of the object's life in which the member was last heard (written once per life). */
  heardIn?: number | null;
}

export interface ConsumerRecord extends GroupRecord {
  type: "consumer";
  groupEpoch: number;
  /** The group epoch the members' targets were computed for. */
  targetEpoch: number;
  assignor: string;
  /** Partition count per subscribed topic: the largest any member reported. */
  partitionCounts: Record<string, number>;
  /** CONSUMER_SESSION_TIMEOUT_MS as last seen, so a restored group can restart sessions without config. */
  sessionTimeoutMs: number;
  /** When the object last loaded the group: sessions are timed from here after a restart. */
  wokeAt?: number | null;
}

/** A member whose epoch or usable partitions changed: what the shell pushes to its sockets. */
export interface AssignmentNotice {
  memberId: string;
  memberEpoch: number;
  assignment: TopicPartitions[];
}

/** Epoch a static member shows while it is away (API.md §5). */
export const LEFT_STATIC_EPOCH = -2;

export class ConsumerGroup extends Group {
  readonly type = "consumer" as const;
  groupEpoch: number;
  targetEpoch: number;
  assignor: string;
  partitionCounts: Record<string, number>;
  sessionTimeoutMs: number;
  private wokeAt: number;
  readonly members = new Map<string, ConsumerMember>();
  private readonly sessionDeadlines = new Map<string, number>();
  private readonly revokeDeadlines = new Map<string, number>();
  /** The epoch each member last sent in an accepted heartbeat (0 on join); volatile. */
  private readonly lastReported = new Map<string, number>();
  private readonly notices = new Set<string>();

  constructor(record: ConsumerRecord, members: Iterable<ConsumerMember>, now: number) {
    super(record.groupId, record.emptySince);
    this.groupEpoch = record.groupEpoch;
    this.targetEpoch = record.targetEpoch;
    this.assignor = record.assignor;
    this.partitionCounts = { ...record.partitionCounts };
    this.sessionTimeoutMs = record.sessionTimeoutMs;
    // Restored members get a fresh session from `now`, as Kafka does when a coordinator takes over,
    // unless they were not heard at all during the object's previous life: an idle object is evicted
    // and woken by its alarm, and restarting every session then would keep dead members forever.
    const previousLife = record.wokeAt ?? null;
    this.wokeAt = now;
    if (previousLife !== null) this.touchGroup();
    for (const m of members) {
      this.members.set(m.memberId, m);
      const silent = previousLife !== null && (m.heardIn ?? null) !== previousLife;
      this.sessionDeadlines.set(m.memberId, (silent ? previousLife : now) + this.sessionTimeoutMs);
      if (m.state === "UnrevokedPartitions") this.revokeDeadlines.set(m.memberId, now + m.rebalanceTimeoutMs);
    }
  }

  /** A new group with no members (optionally taking over an empty group's `emptySince`). */
  static create(groupId: string, now: number, emptySince: number, sessionTimeoutMs: number): ConsumerGroup {
    const group = new ConsumerGroup(
      {
        groupId,
        type: "consumer",
        emptySince,
        groupEpoch: 0,
        targetEpoch: 0,
        assignor: preferredAssignor([]),
        partitionCounts: {},
        sessionTimeoutMs,
      },
      [],
      now,
    );
    group.touchGroup();
    return group;
  }

  get state(): ConsumerGroupState {
    if (this.members.size === 0) return "Empty";
    if (this.groupEpoch > this.targetEpoch) return "Assigning";
    for (const m of this.members.values()) {
      if (!m.left && (m.memberEpoch !== this.targetEpoch || m.state !== "Stable")) return "Reconciling";
    }
    return "Stable";
  }

  get memberCount(): number {
    return this.members.size;
  }

  get protocolType(): string {
    return "consumer";
  }

  knowsSubscriptions(): boolean {
    return true;
  }

  isSubscribed(topic: string): boolean {
    for (const m of this.members.values()) if (m.subscribedTopics.includes(topic)) return true;
    return false;
  }

  partitionOwners(): Map<string, string> {
    const owners = new Map<string, string>();
    for (const m of this.members.values()) {
      for (const [topic, ps] of Object.entries(union(m.assigned, m.revoking))) {
        for (const p of ps) owners.set(partitionKey(topic, p), m.memberId);
      }
    }
    return owners;
  }

  /** API.md §3, consumer group: the member must exist and commit under its current epoch. */
  checkMemberCommit(auth: CommitAuth, _now: number): CohortError | null {
    const member = this.members.get(auth.memberId ?? "");
    if (!member) {
      return {
        code: "UNKNOWN_MEMBER_ID",
        message: `member ${auth.memberId || "(none)"} is not in the group`,
      };
    }
    const epoch = auth.memberEpoch ?? auth.generationId;
    if (member.left || epoch !== member.memberEpoch) {
      return {
        code: "STALE_MEMBER_EPOCH",
        message: `epoch ${epoch ?? "(none)"} is not member ${member.memberId}'s current epoch ${member.left ? LEFT_STATIC_EPOCH : member.memberEpoch}`,
      };
    }
    return null;
  }

  describe(): GroupDescription {
    const members: MemberDescription[] = [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      memberEpoch: m.left ? LEFT_STATIC_EPOCH : m.memberEpoch,
      state: m.left ? "Left" : m.state,
      assignment: toList(m.assigned),
    }));
    return {
      groupId: this.groupId,
      type: "consumer",
      state: this.state,
      groupEpoch: this.groupEpoch,
      protocolType: "consumer",
      assignor: this.assignor,
      leaderId: null,
      members,
    };
  }

  nextDeadline(): number | null {
    let next: number | null = null;
    for (const d of this.sessionDeadlines.values()) if (next === null || d < next) next = d;
    for (const d of this.revokeDeadlines.values()) if (next === null || d < next) next = d;
    return next;
  }

  /** Fences members whose session expired or who kept partitions past their rebalance timeout. */
  onDeadlines(now: number): void {
    const due = new Set<string>();
    for (const [id, d] of this.sessionDeadlines) if (d <= now) due.add(id);
    for (const [id, d] of this.revokeDeadlines) if (d <= now) due.add(id);
    if (due.size === 0) return;
    for (const id of due) this.removeMember(id, now);
    this.settle(now, true);
  }

  toRecord(): ConsumerRecord {
    return {
      groupId: this.groupId,
      type: "consumer",
      emptySince: this.emptySince,
      groupEpoch: this.groupEpoch,
      targetEpoch: this.targetEpoch,
      assignor: this.assignor,
      partitionCounts: this.partitionCounts,
      sessionTimeoutMs: this.sessionTimeoutMs,
      wokeAt: this.wokeAt,
    };
  }

  memberRecord(memberId: string): ConsumerMember | undefined {
    return this.members.get(memberId);
  }

  // ---- changes, used by the heartbeat handler ----

  byInstance(instanceId: string): ConsumerMember | undefined {
    for (const m of this.members.values()) if (m.groupInstanceId === instanceId) return m;
    return undefined;
  }

  /** Adds or replaces a member's row. */
  putMember(member: ConsumerMember, now: number): void {
    this.members.set(member.memberId, member);
    this.touchMember(member.memberId);
    this.noteMembership(now);
  }

  /** Marks a member's row changed after an in-place update. */
  memberChanged(memberId: string): void {
    this.touchMember(memberId);
  }

  /** Removes a member and its deadlines; its partitions become free. The caller bumps the epoch. */
  removeMember(memberId: string, now: number): void {
    if (!this.members.delete(memberId)) return;
    this.sessionDeadlines.delete(memberId);
    this.revokeDeadlines.delete(memberId);
    this.lastReported.delete(memberId);
    this.notices.delete(memberId);
    this.touchMember(memberId);
    this.noteMembership(now);
    this.bumpEpoch();
  }

  /**
   * A static member rejoining under a new member id takes over the away member's assignment and epoch
   * without a rebalance (KIP-345 semantics, as Kafka's consumer protocol keeps them).
   */
  takeOver(away: ConsumerMember, memberId: string, now: number): ConsumerMember {
    const member: ConsumerMember = { ...away, memberId, left: false };
    if (away.memberId !== memberId) {
      this.members.delete(away.memberId);
      this.sessionDeadlines.delete(away.memberId);
      this.lastReported.delete(away.memberId);
      const revokeBy = this.revokeDeadlines.get(away.memberId);
      this.revokeDeadlines.delete(away.memberId);
      if (revokeBy !== undefined) this.revokeDeadlines.set(memberId, revokeBy);
      this.touchMember(away.memberId);
    }
    this.putMember(member, now);
    this.notices.add(memberId);
    return member;
  }

  bumpEpoch(): void {
    this.groupEpoch++;
    this.touchGroup();
  }

  /** Records a heartbeat: the member's session restarts and the epoch it sent is what it knows. */
  heard(memberId: string, reportedEpoch: number, now: number): void {
    this.sessionDeadlines.set(memberId, now + this.sessionTimeoutMs);
    this.lastReported.set(memberId, reportedEpoch);
    const m = this.members.get(memberId);
    if (m && m.heardIn !== this.wokeAt) {
      m.heardIn = this.wokeAt;
      this.touchMember(memberId);
    }
  }

  /** Raises partition counts to what a member reports; true when any count grew. */
  notePartitionCounts(counts: readonly { name: string; partitions: number }[]): boolean {
    let grew = false;
    for (const { name, partitions } of counts) {
      if (partitions > (this.partitionCounts[name] ?? 0)) {
        this.partitionCounts[name] = partitions;
        grew = true;
      }
    }
    if (grew) this.touchGroup();
    return grew;
  }

  noteSessionTimeout(ms: number): void {
    if (ms === this.sessionTimeoutMs) return;
    this.sessionTimeoutMs = ms;
    this.touchGroup();
  }

  /**
   * Brings the group to a consistent point after a change: recomputes the target if the group epoch
   * moved, reconciles `focus` with what it reported, and, when the target moved, partitions were freed
   * or `force` is set, every other member too (so their pushes go out in this same event).
   */
  settle(
    now: number,
    force: boolean,
    focus?: { memberId: string; reported?: PartitionMap | undefined },
  ): void {
    const retarget = this.groupEpoch > this.targetEpoch;
    if (retarget) this.refreshTarget();
    // The steady heartbeat's path: a settled member with nothing else moving needs no ownership index.
    const settled = focus ? this.members.get(focus.memberId) : undefined;
    if (!retarget && !force && settled?.state === "Stable" && settled.memberEpoch === this.targetEpoch)
      return;
    const owners = this.ownerIndex();
    let released = false;
    if (focus) released = this.reconcileMember(focus.memberId, now, owners, focus.reported);
    if (!retarget && !force && !released) return;
    for (const id of this.members.keys()) {
      if (id !== focus?.memberId) this.reconcileMember(id, now, owners);
    }
  }

  /** Returns and forgets the members whose epoch or assignment changed since the last call. */
  takeNotices(): AssignmentNotice[] {
    const out: AssignmentNotice[] = [];
    for (const id of this.notices) {
      const m = this.members.get(id);
      if (m && !m.left)
        out.push({ memberId: id, memberEpoch: m.memberEpoch, assignment: toList(m.assigned) });
    }
    this.notices.clear();
    return out;
  }

  private refreshTarget(): void {
    const members = [...this.members.values()];
    this.assignor = preferredAssignor(members);
    this.partitionCounts = subscribedCounts(members, this.partitionCounts);
    const targets = computeTarget(members, this.partitionCounts, this.assignor);
    for (const m of members) {
      const next = targets.get(m.memberId) ?? {};
      if (!samePartitions(next, m.target)) {
        m.target = next;
        this.touchMember(m.memberId);
      }
    }
    this.targetEpoch = this.groupEpoch;
    this.touchGroup();
  }

  /** Partition key -> the member that owns it (assigned or being revoked). */
  private ownerIndex(): Map<string, string> {
    return this.partitionOwners();
  }

  /** Runs `reconcile` for one member and applies it; true when the member released partitions. */
  private reconcileMember(
    memberId: string,
    now: number,
    owners: Map<string, string>,
    reported?: PartitionMap,
  ): boolean {
    const m = this.members.get(memberId);
    if (!m) return false;
    const ownedByOther = (topic: string, p: number) => {
      const owner = owners.get(partitionKey(topic, p));
      return owner !== undefined && owner !== memberId;
    };
    const next = reconcile(m, this.targetEpoch, m.target, ownedByOther, reported);
    if (next === m) return false;
    const released = Object.keys(m.revoking).length > 0 && Object.keys(next.revoking).length === 0;
    for (const [topic, ps] of Object.entries(union(m.assigned, m.revoking))) {
      for (const p of ps) owners.delete(partitionKey(topic, p));
    }
    for (const [topic, ps] of Object.entries(union(next.assigned, next.revoking))) {
      for (const p of ps) owners.set(partitionKey(topic, p), memberId);
    }
    if (next.memberEpoch !== m.memberEpoch) {
      m.previousMemberEpoch = this.lastReported.get(memberId) ?? m.previousMemberEpoch;
    }
    if (next.memberEpoch !== m.memberEpoch || !samePartitions(next.assigned, m.assigned))
      this.notices.add(memberId);
    this.trackRevocation(m, next.state, now);
    m.memberEpoch = next.memberEpoch;
    m.state = next.state;
    m.assigned = next.assigned;
    m.revoking = next.revoking;
    this.touchMember(memberId);
    return released;
  }

  /** A member entering UnrevokedPartitions has its rebalance timeout to acknowledge the revocation. */
  private trackRevocation(m: ConsumerMember, nextState: MemberState, now: number): void {
    if (nextState !== "UnrevokedPartitions") this.revokeDeadlines.delete(m.memberId);
    else if (m.state !== "UnrevokedPartitions")
      this.revokeDeadlines.set(m.memberId, now + m.rebalanceTimeoutMs);
  }
}
