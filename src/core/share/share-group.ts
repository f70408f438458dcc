/**
 * A share group (KIP-932, API.md §7): Kafka's `ShareGroup` with its share-partitions. Members share
 * partitions as the simple share assignor decides (recomputed when the group epoch moves: membership,
 * subscriptions, partition counts); records, not partitions, are exclusive, handed out under
 * time-limited locks by each share-partition (share-partition.ts) and acknowledged one range at a time.
 * States: Empty, Stable (while it has members).
 *
 * Persisted: the group row (epoch, partition counts), one row per member (its assignment and the epoch
 * it was told), one row per share-partition (its non-acquired state), and the archived listing. In
 * memory only: sessions, locks, parked acquires. A steady heartbeat changes no row and visits no
 * partition; acquire and acknowledge visit the partitions they name or the member is assigned.
 *
 * A member's epoch moves to the group epoch in its own heartbeat after its assignment changed (as in
 * Kafka, it is told there); the assignment itself applies at once — no revoke-before-assign, since two
 * members on one partition never hold the same record.
 */

import { simpleShareAssignor } from "../../assignors/simple-share.ts";
import { DEFAULT_CONFIG } from "../config.ts";
import { fromAssignorMap, isSubset, samePartitions, toList } from "../consumer/partitions.ts";
import { subscribedCounts } from "../consumer/target-assignment.ts";
import { DeadlineHeap } from "../deadline-heap.ts";
import { type Dict, dictFrom, own } from "../dict.ts";
import { type CohortError, fail, ok, type Result } from "../errors.ts";
import { type CommitAuth, Group, type GroupDescription, partitionKey } from "../group.ts";
import { type Actor, partitionsGained } from "../history.ts";
import type { ResetChange, ResetRequest } from "../offsets.ts";
import { noteHeard, raiseCounts, restoredSession } from "../sessions.ts";
import { UndoMap } from "../undo.ts";
import { type AssignedPartition, type DispatchContext, Dispatcher } from "./share-acquire.ts";
import {
  deleteShareState,
  partitionsOf,
  partitionView,
  planShareReset,
  type RedriveRequest,
  redrive,
  type StartOffset,
  startOffsets,
} from "./share-admin.ts";
import { ArchiveList } from "./share-archive.ts";
import type {
  AcquireCompletion,
  AcquireRequest,
  AcquireStep,
  ShareGroupState,
  ShareMember,
  SharePartitionView,
  ShareRecord,
  ShareRemoval,
} from "./share-member.ts";
import { PartitionTable } from "./share-table.ts";
import {
  type AcknowledgeEntry,
  type AcknowledgeResult,
  type ArchivedRange,
  type SharePartitionRecord,
  type ShareSettings,
  shareSettings,
} from "./share-types.ts";

export * from "./share-member.ts";

/** Not persisted (or persisted with state a reload cannot rebuild): adopted from the old object after a failure. */
const VOLATILE_FIELDS: readonly string[] = [
  "wokeAt",
  "settings",
  "sessions",
  "table",
  "archive",
  "dispatch",
  "removals",
];
const ORDERED_FIELDS: readonly string[] = ["members"];

const NOBODY: ReadonlySet<string> = new Set();

export interface ShareRows {
  /** By `partitionKey`; undefined = deleted. */
  partitions: Map<string, SharePartitionRecord | undefined>;
  archivedAdded: ArchivedRange[];
  archivedRemoved: { topic: string; partition: number; firstOffset: number }[];
}

export class ShareGroup extends Group {
  readonly type = "share" as const;
  groupEpoch: number;
  partitionCounts: Dict<number>;
  private sessionTimeoutMs: number;
  private wokeAt: number;
  private settings: ShareSettings;
  readonly members = new UndoMap<string, ShareMember>();
  private readonly sessions = new DeadlineHeap();
  private table: PartitionTable;
  private archive: ArchiveList;
  private readonly dispatch = new Dispatcher();
  private removals: ShareRemoval[] = [];
  /** Partition key -> members assigned it (rebuilt from the member rows). */
  private readonly assignees = new Map<string, Set<string>>();
  /** Member -> its assigned partitions, ascending (rebuilt from the member rows). */
  private readonly assignedLists = new Map<string, AssignedPartition[]>();

  constructor(
    record: ShareRecord,
    members: Iterable<ShareMember>,
    now: number,
    partitions: Iterable<SharePartitionRecord> = [],
    archived: Iterable<ArchivedRange> = [],
  ) {
    super(record.groupId, record.emptySince);
    this.groupEpoch = record.groupEpoch;
    this.partitionCounts = dictFrom(record.partitionCounts);
    this.sessionTimeoutMs = record.sessionTimeoutMs;
    this.settings = { ...shareSettings(DEFAULT_CONFIG), sessionTimeoutMs: record.sessionTimeoutMs };
    // Sessions after a restart: fresh, or kept for members silent through a whole life (sessions.ts).
    const previousLife = record.wokeAt ?? null;
    this.wokeAt = now;
    if (previousLife !== null) this.touchGroup();
    for (const m of members) {
      this.members.set(m.memberId, m);
      this.index(m);
      const { deadline, rowChanged } = restoredSession(m, previousLife, now, this.sessionTimeoutMs);
      if (rowChanged) this.touchMember(m.memberId);
      this.sessions.set(m.memberId, deadline);
    }
    this.table = new PartitionTable(partitions);
    this.archive = new ArchiveList(archived, (r) => this.history.shareArchived(r));
    this.noteState();
  }

  /** A new share group with no members. */
  static create(groupId: string, now: number, settings: ShareSettings): ShareGroup {
    const group = new ShareGroup(
      {
        groupId,
        type: "share",
        emptySince: now,
        groupEpoch: 0,
        partitionCounts: {},
        sessionTimeoutMs: settings.sessionTimeoutMs,
      },
      [],
      now,
    );
    group.configure(settings);
    group.touchGroup();
    return group;
  }

  /** The settings of this decision (the shell passes them before every request and alarm). */
  configure(settings: ShareSettings): void {
    this.settings = settings;
    if (settings.sessionTimeoutMs !== this.sessionTimeoutMs) {
      this.sessionTimeoutMs = settings.sessionTimeoutMs;
      this.touchGroup();
    }
  }

  get heartbeatIntervalMs(): number {
    return this.settings.heartbeatIntervalMs;
  }

  protected override volatileFields(): readonly string[] {
    return VOLATILE_FIELDS;
  }

  protected override orderedFields(): readonly string[] {
    return ORDERED_FIELDS;
  }

  memberIds(): Iterable<string> {
    return this.members.keys();
  }

  get state(): ShareGroupState {
    return this.members.size === 0 ? "Empty" : "Stable";
  }

  get memberCount(): number {
    return this.members.size;
  }

  get protocolType(): string {
    return "share";
  }

  knowsSubscriptions(): boolean {
    return true;
  }

  isSubscribed(topic: string): boolean {
    for (const m of this.members.values()) if (m.subscribedTopics.includes(topic)) return true;
    return false;
  }

  /** The first member (in group order) assigned each partition: share partitions have several. */
  partitionOwners(): Map<string, string> {
    const owners = new Map<string, string>();
    for (const [key, ids] of this.assignees) for (const id of ids) if (!owners.has(key)) owners.set(key, id);
    return owners;
  }

  /** Share groups take acknowledgements, never offset commits (API.md §7). */
  checkMemberCommit(_auth: CommitAuth, _now: number): CohortError | null {
    return {
      code: "INCONSISTENT_GROUP_PROTOCOL",
      message: `group ${this.groupId} is a share group: it acknowledges records instead of committing offsets`,
    };
  }

  /** Holds share-partition state or archived ranges: the shell keeps the group until they expire. */
  override isPinned(): boolean {
    return this.table.size > 0 || this.archive.size > 0;
  }

  describe(): GroupDescription & { partitions: SharePartitionView[] } {
    return {
      groupId: this.groupId,
      type: "share",
      state: this.state,
      groupEpoch: this.groupEpoch,
      protocolType: "share",
      assignor: simpleShareAssignor.name,
      leaderId: null,
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: null,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberEpoch: m.memberEpoch,
        subscribedTopics: [...m.subscribedTopics],
        assignment: toList(m.assignment),
      })),
      partitions: partitionsOf(this.table).map(partitionView),
    };
  }

  toRecord(): ShareRecord {
    return {
      groupId: this.groupId,
      type: "share",
      emptySince: this.emptySince,
      groupEpoch: this.groupEpoch,
      partitionCounts: this.partitionCounts,
      sessionTimeoutMs: this.sessionTimeoutMs,
      wokeAt: this.wokeAt,
    };
  }

  memberRecord(memberId: string): ShareMember | undefined {
    return this.members.get(memberId);
  }

  // ---- rows ----

  override get dirty(): boolean {
    return super.dirty || this.table.dirty || this.archive.dirty;
  }

  /** Whether the group's own rows (group, members, history) changed, the share rows aside. */
  get groupRowsDirty(): boolean {
    return super.dirty;
  }

  /** The share rows changed since `markSaved()` (group and member rows: `dirtyRows()`). */
  dirtyShareRows(): ShareRows {
    const { added, removed } = this.archive.dirtyRows();
    return { partitions: this.table.dirtyRows(), archivedAdded: added, archivedRemoved: removed };
  }

  override markSaved(): void {
    super.markSaved();
    this.table.markSaved();
    this.archive.markSaved();
  }

  // ---- deadlines ----

  /** When an Empty group's state expires (retention after it became Empty), or null. */
  private emptyExpiry(): number | null {
    if (this.members.size > 0 || this.emptySince === null || !this.isPinned()) return null;
    return this.emptySince + this.settings.retentionMs;
  }

  nextDeadline(): number | null {
    let next: number | null = null;
    for (const at of [
      this.sessions.min(),
      this.table.nextLockDeadline(),
      this.dispatch.nextWait(),
      this.archive.nextExpiry(this.settings.retentionMs),
      this.emptyExpiry(),
    ])
      if (at !== null && (next === null || at < next)) next = at;
    return next;
  }

  /** Sessions, locks, waits, listing retention and an Empty group's state, each as it falls due. */
  onDeadlines(now: number): void {
    const silent = this.sessions.due(now);
    if (silent.length > 0) {
      const released = silent.flatMap((id) => this.removeMember(id, now, "session", false));
      this.bumpEpoch(now);
      this.dispatch.wake(this.context(), released, now);
    }
    this.dispatch.expireLocks(this.context(), now);
    this.dispatch.endWaits(this.context(), now);
    this.archive.expire(now, this.settings.retentionMs);
    const expiry = this.emptyExpiry();
    if (expiry !== null && expiry <= now) {
      for (const key of [...this.table.keys()]) this.table.delete(key);
      this.archive.clear();
    }
  }

  // ---- membership, used by the heartbeat ----

  private context(): DispatchContext {
    return {
      table: this.table,
      archive: this.archive,
      settings: this.settings,
      assigned: (id) => this.assignedLists.get(id) ?? [],
      isAssigned: (id, key) => this.assignees.get(key)?.has(id) ?? false,
      assignees: (key) => this.assignees.get(key) ?? NOBODY,
    };
  }

  private index(m: ShareMember): void {
    const list: AssignedPartition[] = [];
    for (const topic of Object.keys(m.assignment))
      for (const partition of own(m.assignment, topic)!) {
        const key = partitionKey(topic, partition);
        list.push({ topic, partition, key });
        const ids = this.assignees.get(key);
        if (ids) ids.add(m.memberId);
        else this.assignees.set(key, new Set([m.memberId]));
      }
    this.assignedLists.set(m.memberId, list);
  }

  private unindex(m: ShareMember): void {
    for (const { key } of this.assignedLists.get(m.memberId) ?? []) {
      const ids = this.assignees.get(key);
      ids?.delete(m.memberId);
      if (ids?.size === 0) this.assignees.delete(key);
    }
    this.assignedLists.delete(m.memberId);
  }

  addMember(member: ShareMember, now: number): void {
    this.members.set(member.memberId, member);
    this.index(member);
    this.touchMember(member.memberId);
    this.history.memberJoined(member.memberId, { ...member, groupInstanceId: null });
    this.noteMembership(now);
    this.noteState();
  }

  memberChanged(memberId: string): void {
    this.touchMember(memberId);
  }

  /** Records a heartbeat: the session restarts; the member's row notes the life once. */
  heard(memberId: string, now: number): void {
    this.sessions.set(memberId, now + this.sessionTimeoutMs);
    const m = this.members.get(memberId);
    if (m && noteHeard(m, this.wokeAt)) this.touchMember(memberId);
  }

  /**
   * Removes a member: its parked acquire is refused and its locks end — a session expiry counts them
   * as deliveries, a leave does not. With `rebalance` the epoch moves and the others share its
   * partitions at once. Returns the partitions where records came back.
   */
  removeMember(memberId: string, now: number, reason: ShareRemoval["reason"], rebalance = true): string[] {
    const m = this.members.get(memberId);
    if (!m) return [];
    const released = this.dispatch.removeMember(this.context(), memberId, reason === "session", now);
    this.unindex(m);
    this.members.delete(memberId);
    this.sessions.delete(memberId);
    this.touchMember(memberId);
    this.removals.push({ memberId, reason });
    if (reason === "session") this.history.memberFenced(memberId, "session_timeout");
    else this.history.memberLeft(memberId, "leave");
    this.noteMembership(now);
    this.noteState();
    if (rebalance) {
      this.bumpEpoch(now);
      this.dispatch.wake(this.context(), released, now);
    }
    return released;
  }

  /** Raises partition counts to what a member reports; true when any count grew. */
  notePartitionCounts(counts: readonly { name: string; partitions: number }[]): boolean {
    const grew = raiseCounts(this.partitionCounts, counts);
    if (grew) this.touchGroup();
    return grew;
  }

  /**
   * A new group epoch: the simple assignor recomputes every member's assignment from what each holds
   * now (sticky). A member whose assignment changed is told at its next heartbeat; one whose assignment
   * grew has its parked acquire retried.
   */
  bumpEpoch(now: number): void {
    this.groupEpoch++;
    this.touchGroup();
    const members = [...this.members.values()];
    this.partitionCounts = subscribedCounts(members, this.partitionCounts);
    const result = simpleShareAssignor.assign({
      members: members.map((m) => ({
        memberId: m.memberId,
        topics: m.subscribedTopics,
        owned: m.assignment,
      })),
      topics: new Map(Object.entries(this.partitionCounts)),
    });
    const grew: string[] = [];
    let changed = 0;
    let moved = 0;
    for (const m of members) {
      const next = fromAssignorMap(result.get(m.memberId));
      if (samePartitions(next, m.assignment)) continue;
      changed++;
      moved += partitionsGained(m.assignment, next);
      if (!isSubset(next, m.assignment)) grew.push(m.memberId);
      this.unindex(m);
      m.assignment = next;
      m.assignmentEpoch = this.groupEpoch;
      this.index(m);
      this.touchMember(m.memberId);
    }
    if (changed > 0) this.history.rebalance({ groupEpoch: this.groupEpoch }, members.length, moved);
    this.dispatch.retry(this.context(), grew, now);
  }

  /** In the member's own heartbeat: it learns the epoch of its latest assignment. */
  tell(member: ShareMember): void {
    if (member.memberEpoch === member.assignmentEpoch) return;
    member.previousMemberEpoch = member.memberEpoch;
    member.memberEpoch = member.assignmentEpoch;
    this.touchMember(member.memberId);
  }

  /** Returns and forgets the members removed since the last call. */
  takeRemovals(): ShareRemoval[] {
    if (this.removals.length === 0) return [];
    const out = this.removals;
    this.removals = [];
    return out;
  }

  // ---- records ----

  private unknownMember(memberId: string) {
    return fail<never>("UNKNOWN_MEMBER_ID", `member ${memberId || "(none)"} is not in the group`);
  }

  /** Acknowledgements first, then records; parks (maxWaitMs > 0) when there are none. */
  acquire(req: AcquireRequest, now: number, ticket: number): AcquireStep {
    if (!this.members.has(req.memberId)) return { kind: "reply", result: this.unknownMember(req.memberId) };
    if ((req.acknowledgements?.length ?? 0) > 0) this.history.lagReported(now);
    return this.dispatch.acquire(this.context(), req, now, ticket);
  }

  /** Each entry all-or-nothing; the request fails only for an unknown member. */
  acknowledge(
    memberId: string,
    entries: AcknowledgeEntry[],
    now: number,
  ): Result<{ acknowledgements: AcknowledgeResult[] }> {
    if (!this.members.has(memberId)) return this.unknownMember(memberId);
    this.history.lagReported(now);
    return ok({ acknowledgements: this.dispatch.acknowledge(this.context(), memberId, entries, now) });
  }

  /** Returns and forgets the answers owed to parked acquires (woken, timed out, or refused). */
  takeCompletions(): AcquireCompletion[] {
    return this.dispatch.takeCompletions();
  }

  // ---- admin ----

  startOffsets(topics?: string[]): StartOffset[] {
    return startOffsets(this.table, topics);
  }

  reset(req: ResetRequest, _now: number, actor: Actor = null): Result<ResetChange[]> {
    const changes = planShareReset(this.table, this.archive, this.members.size, this.groupId, req);
    if (changes.ok && !req.dryRun && changes.value.length > 0)
      this.history.offsetsReset(actor, req.topic, changes.value);
    return changes;
  }

  deleteOffsets(topic: string, partitions: number[] | undefined, actor: Actor = null): Result<number> {
    if (this.isSubscribed(topic))
      return fail("GROUP_SUBSCRIBED_TO_TOPIC", `a member of the group subscribes to ${topic}`);
    const deleted = deleteShareState(this.table, this.archive, topic, partitions);
    if (deleted.length > 0) this.history.offsetsDeleted(actor, topic, deleted);
    return ok(deleted.length);
  }

  archived(
    topic: string | undefined,
    limit: number,
    cursor: string | undefined,
    now: number,
  ): Result<{ ranges: ArchivedRange[]; nextCursor: string | null }> {
    return this.archive.list(topic, limit, cursor, now, this.settings.retentionMs);
  }

  redrive(req: RedriveRequest, now: number, actor: Actor = null): Result<{ redriven: number }> {
    const { redriven, partitions, ranges } = redrive(this.table, this.archive, req, now);
    for (const r of ranges) this.history.shareRedriven(actor, r);
    this.dispatch.wake(this.context(), partitions, now);
    return ok({ redriven });
  }
}
