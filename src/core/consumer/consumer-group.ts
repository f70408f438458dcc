/**
 * A consumer-protocol (KIP-848) group: Kafka's `ConsumerGroup`. The coordinator owns the assignment:
 * a group epoch that moves when membership, subscriptions, partition counts or the preferred assignor
 * change; a target assignment computed for that epoch; and each member's current assignment, moved
 * towards the target by `reconcile`. The group's state is derived from these epochs, never stored.
 *
 * Persisted: the group row (epochs, assignor, partition counts) and one row per member holding its
 * current and target assignment, so one member's change writes one row. Session and revocation
 * deadlines live in memory only: a heartbeat in a steady group changes nothing persisted.
 *
 * Scale (10,000 members × 100,000 partitions): an event touches only the members it concerns. Who owns
 * each partition now and whose target holds it are kept in two partition indexes, updated where a
 * member's sets change; an event reconciles the member that spoke, members whose target moved, and the
 * target holders of partitions freed in it.
 *
 * A member's epoch, and its entry into a revocation, move only in that member's own heartbeat (as in
 * Kafka): it is held only to epochs it was told, so its commits and heartbeats at the epoch it knows are
 * never refused because of someone else's event. Outside its own heartbeat a member can only be handed
 * partitions it waits for at the epoch it already has (revoke before assign keeps that safe), or be
 * removed. A member whose target moved is notified (`reconcile`) so a listening member heartbeats at once.
 */

import { DeadlineHeap } from "../deadline-heap.ts";
import { dictFrom } from "../dict.ts";
import type { CohortError } from "../errors.ts";
import { type CommitAuth, Group, type GroupDescription } from "../group.ts";
import { noteHeard, raiseCounts, restoredSession } from "../sessions.ts";
import { UndoMap, UndoSet } from "../undo.ts";
import {
  assignmentNotices,
  commitError,
  describeGroup,
  type MemberRemoval,
  ownersByPartition,
  type RemovalReason,
  removal,
  replacedStatic,
} from "./consumer-group-view.ts";
import {
  type AssignmentNotice,
  type ConsumerGroupState,
  type ConsumerMember,
  type ConsumerRecord,
  newGroupRecord,
} from "./consumer-member.ts";
import { MemberSlots, PartitionIndex } from "./partition-index.ts";
import { minus, noPartitions, type PartitionMap, samePartitions, union } from "./partitions.ts";
import { type MemberState, reconcile } from "./reconcile.ts";
import { preferredAssignor, subscribedCounts } from "./target-assignment.ts";
import { moveTargets, nextTargets } from "./target-refresh.ts";

// The persisted shapes live in consumer-member.ts, the removal reports in consumer-group-view.ts;
// importers keep finding them here.
export type { MemberRemoval, RemovalReason } from "./consumer-group-view.ts";
export * from "./consumer-member.ts";

/** Not persisted: what a reload cannot rebuild, adopted from the old object after a failure. */
const VOLATILE_FIELDS: readonly string[] = [
  "wokeAt",
  "sessionDeadlines",
  "revokeDeadlines",
  "lastReported",
  "notices",
  "retargeted",
  "removals",
];
/** Persisted, rebuilt by a reload in the order a rollback restores. */
const ORDERED_FIELDS: readonly string[] = ["members"];

export class ConsumerGroup extends Group {
  readonly type = "consumer" as const;
  groupEpoch: number;
  targetEpoch: number;
  assignor: string;
  partitionCounts: Record<string, number>;
  sessionTimeoutMs: number;
  private wokeAt: number;
  readonly members = new UndoMap<string, ConsumerMember>();
  private readonly sessionDeadlines = new DeadlineHeap();
  private readonly revokeDeadlines = new DeadlineHeap();
  /** The epoch each member last sent in an accepted heartbeat (0 on join); volatile. */
  private readonly lastReported = new UndoMap<string, number>();
  /** Members whose assignment changed outside their own heartbeat, or whose target moved: to push. */
  private readonly notices = new UndoSet<string>();
  /** Of `notices`, those whose target moved: they must heartbeat to learn their new assignment. */
  private readonly retargeted = new UndoSet<string>();
  /** Members removed since the last `takeRemovals` (volatile: sockets do not outlive the object). */
  private removals: MemberRemoval[] = [];
  private readonly slots = new MemberSlots();
  /** Partition -> slot of the member holding it (assigned or being revoked). */
  private readonly owners = new PartitionIndex();
  /** Partition -> slot of the member whose target holds it: who waits for a freed partition. */
  private readonly targets = new PartitionIndex();
  /** Members not settled (not Stable at the target epoch): what makes the group Reconciling. */
  private readonly pending = new Set<string>();
  /** Partitions released since the last drain; their target holders are reconciled. */
  private readonly freed: [string, number][] = [];

  constructor(record: ConsumerRecord, members: Iterable<ConsumerMember>, now: number) {
    super(record.groupId, record.emptySince);
    this.groupEpoch = record.groupEpoch;
    this.targetEpoch = record.targetEpoch;
    this.assignor = record.assignor;
    // Keyed by topic names, which may be `__proto__` or `constructor`: a null-prototype copy.
    this.partitionCounts = dictFrom(record.partitionCounts);
    this.sessionTimeoutMs = record.sessionTimeoutMs;
    // Sessions after a restart: fresh, or kept for members silent through a whole life (sessions.ts).
    const previousLife = record.wokeAt ?? null;
    this.wokeAt = now;
    if (previousLife !== null) this.touchGroup();
    for (const m of members) {
      this.members.set(m.memberId, m);
      this.index(m);
      const { deadline, rowChanged } = restoredSession(m, previousLife, now, this.sessionTimeoutMs);
      if (rowChanged) this.touchMember(m.memberId);
      this.sessionDeadlines.set(m.memberId, deadline);
      if (m.state === "UnrevokedPartitions" && !m.left)
        this.revokeDeadlines.set(m.memberId, now + m.rebalanceTimeoutMs);
    }
    this.noteState();
  }

  /** A new group with no members (optionally taking over an empty group's `emptySince`). */
  static create(groupId: string, now: number, emptySince: number, sessionTimeoutMs: number): ConsumerGroup {
    const record = newGroupRecord(groupId, emptySince, preferredAssignor([]), sessionTimeoutMs);
    const group = new ConsumerGroup(record, [], now);
    group.touchGroup();
    return group;
  }

  /** Adds a restored member to the indexes. Its row holds the epoch it was last told. */
  private index(m: ConsumerMember): void {
    const slot = this.slots.of(m.memberId);
    this.owners.add(union(m.assigned, m.revoking), slot);
    this.targets.add(m.target, slot);
    this.trackPending(m);
  }

  /** What a restore cannot rebuild from the rows, kept exact across a failed request (group.ts). */
  protected override volatileFields(): readonly string[] {
    return VOLATILE_FIELDS;
  }

  protected override orderedFields(): readonly string[] {
    return ORDERED_FIELDS;
  }

  memberIds(): Iterable<string> {
    return this.members.keys();
  }

  get state(): ConsumerGroupState {
    if (this.members.size === 0) return "Empty";
    if (this.groupEpoch > this.targetEpoch) return "Assigning";
    for (const id of this.pending) if (!this.members.get(id)?.left) return "Reconciling";
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
    return ownersByPartition(this.members.values());
  }

  /** API.md §3, consumer group: the member must exist and commit under its current epoch. */
  checkMemberCommit(auth: CommitAuth, _now: number): CohortError | null {
    return commitError(this.members, auth);
  }

  describe(): GroupDescription {
    return describeGroup(this);
  }

  nextDeadline(): number | null {
    const a = this.sessionDeadlines.min();
    const b = this.revokeDeadlines.min();
    return a === null ? b : b === null ? a : Math.min(a, b);
  }

  /** Fences members whose session expired or who kept partitions past their rebalance timeout. */
  onDeadlines(now: number): void {
    const silent = new Set(this.sessionDeadlines.due(now));
    const due = new Set([...silent, ...this.revokeDeadlines.due(now)]);
    if (due.size === 0) return;
    for (const id of due) {
      // A static member away since its -2 leave has its departure on record (static_leave): its
      // expiry only ends the reservation, which the epoch it bumps shows.
      if (!this.members.get(id)?.left)
        this.history.memberFenced(id, silent.has(id) ? "session_timeout" : "rebalance_timeout");
      this.removeMember(id, now, silent.has(id) ? "session" : "rebalance");
    }
    this.settle(now);
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
  removeMember(memberId: string, now: number, reason: RemovalReason = "left"): void {
    const m = this.members.get(memberId);
    if (!m) return;
    this.removals.push(removal(m, reason, this.sessionTimeoutMs));
    this.members.delete(memberId);
    const slot = this.slots.of(memberId);
    this.release(union(m.assigned, m.revoking), slot);
    this.targets.remove(m.target, slot);
    this.slots.release(memberId);
    this.pending.delete(memberId);
    this.sessionDeadlines.delete(memberId);
    this.revokeDeadlines.delete(memberId);
    this.lastReported.delete(memberId);
    this.notices.delete(memberId);
    this.retargeted.delete(memberId);
    this.touchMember(memberId);
    this.noteMembership(now);
    this.bumpEpoch();
  }

  /**
   * A static member leaves temporarily (-2): its assignment stays reserved for its instance id. As
   * Kafka's `consumerGroupStaticMemberGroupLeave`, the partitions it was revoking are free at once and
   * no revocation deadline runs for it: it is not fenced for a revocation it can no longer acknowledge.
   * The caller settles the group (the freed partitions' waiters).
   */
  leaveStatic(memberId: string): void {
    const m = this.members.get(memberId);
    if (!m || m.left) return;
    m.left = true;
    this.release(m.revoking, this.slots.of(memberId));
    m.revoking = noPartitions();
    if (m.state === "UnrevokedPartitions") m.state = "Stable";
    this.revokeDeadlines.delete(memberId);
    this.trackPending(m);
    this.touchMember(memberId);
  }

  /**
   * A static member rejoining under a new member id takes over the away member's assignment and epoch
   * without a rebalance (KIP-345 semantics, as Kafka's consumer protocol keeps them), with the
   * rejoining client's own id and host. Only a member away since its -2 leave is taken over (Kafka's
   * `throwIfInstanceIdIsUnreleased`), so the old id is not fenced: its departure is on record already.
   */
  takeOver(
    away: ConsumerMember,
    memberId: string,
    now: number,
    client: { clientId: string; clientHost: string },
  ): ConsumerMember {
    const member: ConsumerMember = { ...away, ...client, memberId, left: false };
    if (away.memberId !== memberId) {
      this.slots.rename(away.memberId, memberId);
      for (const set of [this.pending, this.notices, this.retargeted])
        if (set.delete(away.memberId)) set.add(memberId);
      this.members.delete(away.memberId);
      this.sessionDeadlines.delete(away.memberId);
      this.lastReported.delete(away.memberId);
      const revokeBy = this.revokeDeadlines.get(away.memberId);
      this.revokeDeadlines.delete(away.memberId);
      if (revokeBy !== undefined) this.revokeDeadlines.set(memberId, revokeBy);
      this.touchMember(away.memberId);
      this.removals.push(replacedStatic(away, memberId));
    }
    this.putMember(member, now);
    this.history.memberJoined(memberId, member);
    this.notices.add(memberId);
    return member;
  }

  /** A member rejoining with epoch 0 holds nothing any more: its partitions are free (it keeps its target). */
  resetMember(memberId: string): void {
    const m = this.members.get(memberId);
    if (!m) return;
    this.release(union(m.assigned, m.revoking), this.slots.of(memberId));
    Object.assign(m, {
      memberEpoch: 0,
      previousMemberEpoch: 0,
      state: "Stable",
      assigned: noPartitions(),
      revoking: noPartitions(),
    });
    this.trackPending(m);
    this.touchMember(memberId);
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
    if (m && noteHeard(m, this.wokeAt)) this.touchMember(memberId);
  }

  /** Raises partition counts to what a member reports; true when any count grew. */
  notePartitionCounts(counts: readonly { name: string; partitions: number }[]): boolean {
    const grew = raiseCounts(this.partitionCounts, counts);
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
   * moved, reconciles `focus` (the member whose heartbeat this is) with what it reported, notifies every
   * other member whose target moved, and hands partitions freed meanwhile to the members waiting for
   * them at the epoch they already hold (so their pushes go out in this same event).
   */
  settle(now: number, focus?: { memberId: string; reported?: PartitionMap | undefined }): void {
    const moved = this.groupEpoch > this.targetEpoch ? this.refreshTarget() : [];
    // The steady heartbeat's path: a settled member with nothing else moving touches no index.
    const settled = focus ? this.members.get(focus.memberId) : undefined;
    if (
      moved.length === 0 &&
      this.freed.length === 0 &&
      settled?.state === "Stable" &&
      settled.memberEpoch === this.targetEpoch
    ) {
      this.noteState();
      return;
    }
    if (focus) this.reconcileMember(focus.memberId, now, focus.reported);
    for (const id of moved) {
      if (id === focus?.memberId) continue;
      this.notices.add(id);
      this.retargeted.add(id);
    }
    // Handing a waiter its partitions may free nothing more, but a focus or removal may have: drain.
    for (let freed = this.freed.pop(); freed !== undefined; freed = this.freed.pop()) {
      const waiter = this.slots.id(this.targets.get(freed[0], freed[1]));
      const m = waiter === undefined ? undefined : this.members.get(waiter);
      // Only a member already at the target epoch: the handover leaves its epoch as it was told it.
      if (
        m &&
        m.state === "UnreleasedPartitions" &&
        m.memberEpoch === this.targetEpoch &&
        waiter !== focus?.memberId
      )
        this.reconcileMember(m.memberId, now);
    }
    this.noteState();
  }

  /** Returns and forgets the members removed since the last call (the shell closes their sockets). */
  takeRemovals(): MemberRemoval[] {
    if (this.removals.length === 0) return [];
    const out = this.removals;
    this.removals = [];
    return out;
  }

  /** Whether any member must be told something since the last `takeNotices` (cheap: no scan). */
  get hasNotices(): boolean {
    return this.notices.size > 0;
  }

  /**
   * Returns and forgets the members whose assignment changed outside their own heartbeat or whose target
   * moved (`reconcile`: heartbeat now). `only` limits it to members someone listens to (the shell's
   * sockets); the others learn at their next heartbeat.
   */
  takeNotices(only?: Iterable<string>): AssignmentNotice[] {
    const out = assignmentNotices(this.members, only ?? this.notices, this.notices, this.retargeted);
    this.notices.clear();
    this.retargeted.clear();
    return out;
  }

  /** Computes the new group epoch's target (target-refresh.ts); returns the members whose target moved. */
  private refreshTarget(): string[] {
    const members = [...this.members.values()];
    this.assignor = preferredAssignor(members);
    this.partitionCounts = subscribedCounts(members, this.partitionCounts);
    const state = { members: this.members, slots: this.slots, targets: this.targets };
    const next = nextTargets(state, { members, assignor: this.assignor, counts: this.partitionCounts });
    const { moved, partitionsMoved } = moveTargets(state, next, (id) => this.touchMember(id));
    this.targetEpoch = this.groupEpoch;
    this.touchGroup();
    if (moved.length > 0)
      this.history.rebalance({ groupEpoch: this.groupEpoch }, this.members.size, partitionsMoved);
    // Every member is behind the new target epoch until its own heartbeat brings it there.
    for (const m of this.members.values()) this.trackPending(m);
    return moved;
  }

  /** Clears partitions a member no longer holds and queues them for their waiters. */
  private release(map: PartitionMap, slot: number): void {
    for (const topic in map) {
      for (const p of map[topic]!) {
        this.owners.clear(topic, p, slot);
        this.freed.push([topic, p]);
      }
    }
  }

  private trackPending(m: ConsumerMember): void {
    if (m.state === "Stable" && m.memberEpoch === this.targetEpoch) this.pending.delete(m.memberId);
    else this.pending.add(m.memberId);
  }

  /** Runs `reconcile` for one member and applies it, keeping the owner index in step. */
  private reconcileMember(memberId: string, now: number, reported?: PartitionMap): void {
    const m = this.members.get(memberId);
    if (!m) return;
    const slot = this.slots.of(memberId);
    const ownedByOther = (topic: string, p: number) => {
      const owner = this.owners.get(topic, p);
      return owner !== -1 && owner !== slot;
    };
    const next = reconcile(m, this.targetEpoch, m.target, ownedByOther, reported);
    if (next !== m) {
      const before = union(m.assigned, m.revoking);
      const after = union(next.assigned, next.revoking);
      this.release(minus(before, after), slot);
      this.owners.add(minus(after, before), slot);
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
    }
    this.trackPending(m);
  }

  /**
   * A member told to revoke has its (latest) rebalance timeout to acknowledge, counted from this answer;
   * each new revocation reschedules it, as Kafka does whenever the member's assignment changes in
   * UnrevokedPartitions. A member that keeps reporting the revoked partitions changes nothing, so its
   * timer runs on.
   */
  private trackRevocation(m: ConsumerMember, nextState: MemberState, now: number): void {
    if (nextState !== "UnrevokedPartitions") this.revokeDeadlines.delete(m.memberId);
    else this.revokeDeadlines.set(m.memberId, now + m.rebalanceTimeoutMs);
  }
}
