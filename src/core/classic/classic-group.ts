/**
 * A classic (JoinGroup/SyncGroup) group: Kafka's `ClassicGroup`. Groups that only ever received
 * simple commits are classic groups with no members and an empty protocol type, as in Kafka.
 * This file holds the group's state and the primitives that change it (each marks the rows it
 * changes); the join/sync/heartbeat/leave handlers and the rebalance steps that compose them live
 * beside it (classic-join.ts, classic-sync.ts, classic-rebalance.ts). What a request is waiting for
 * and when sessions expire is in memory only, in deadline heaps (the earliest deadline in O(1), a
 * heartbeat in O(log n)); a member's row is written once per life of the object, at the first request
 * heard from it, so that a restored group knows who was silent.
 */

import { DeadlineHeap } from "../deadline-heap.ts";
import type { CohortError, Result } from "../errors.ts";
import {
  type CommitAuth,
  Group,
  type GroupDescription,
  type GroupRecord,
  type MemberDescription,
  partitionKey,
  type TopicPartitions,
} from "../group.ts";
import { UndoMap, UndoSet } from "../undo.ts";
import { ClassicMemberIndex } from "./classic-index.ts";
import type { Completion, JoinRequest, JoinResponse, SyncResponse } from "./classic-protocol.ts";
import { onClassicDeadlines } from "./classic-rebalance.ts";
import { assertTransition, type ClassicState } from "./classic-states.ts";

export type { ClassicState } from "./classic-states.ts";

/** A member: what it joined with, plus what the coordinator derived for it. */
export interface ClassicMember extends JoinRequest {
  /** The assignment from the last completed sync (opaque string). */
  assignment: string;
  /** Topics the member subscribes to, when its protocol metadata is readable ("consumer" protocol type). */
  subscribedTopics: string[] | null;
  /** Partitions the member was assigned, when readable. */
  assignedPartitions: TopicPartitions[] | null;
  /** `wokeAt` of the object's life in which the member was last heard (written once per life). */
  heardIn?: number | null;
  /** The session deadline a restore gave it, kept once no recent life explains it (see `restoredSession`). */
  graceUntil?: number;
}

export interface ClassicRecord extends GroupRecord {
  type: "classic";
  state: ClassicState;
  generationId: number;
  protocolType: string;
  protocolName: string;
  leaderId: string | null;
  /** When the object's life that last wrote this row began, and the life before it. */
  wokeAt?: number | null;
  priorWokeAt?: number | null;
}

/** Not persisted: what a reload cannot rebuild, adopted from the old object after a failure. */
const VOLATILE_FIELDS: readonly string[] = [
  "previousState",
  "awaitingJoin",
  "awaitingSync",
  "sessions",
  "pendingMembers",
  "pendingSync",
  "timers",
  "initialDelay",
  "outbox",
  "wokeAt",
  "priorWokeAt",
];
/** Persisted, rebuilt by a reload in the order a rollback restores. */
const ORDERED_FIELDS: readonly string[] = ["members"];

/** A deadline that is due, as `earliestDue` finds it. */
export type ClassicDeadline =
  | { at: number; kind: "session" | "pending"; memberId: string }
  | { at: number; kind: "join" | "sync" };

const earliest = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.min(a, b);

export class ClassicGroup extends Group {
  readonly type = "classic" as const;
  protected classicState: ClassicState;
  generationId: number;
  protected protocolTypeName: string;
  protocolName: string;
  leaderId: string | null;
  readonly members = new UndoMap<string, ClassicMember>();

  // ---- volatile: lost on a restart, like the parked requests they describe ----
  /** The state before the current one (an initial rebalance is one that started from Empty). */
  previousState: ClassicState;
  /** Members whose join is parked, with the request's ticket. */
  readonly awaitingJoin = new UndoMap<string, number>();
  /** Members whose sync is parked, with the request's ticket. */
  readonly awaitingSync = new UndoMap<string, number>();
  /** When each member expires unless heard from; a parked member is alive by definition and has none. */
  readonly sessions = new DeadlineHeap();
  /** Member ids handed out with MEMBER_ID_REQUIRED (KIP-394), until they join or their session passes. */
  readonly pendingMembers = new DeadlineHeap();
  /** Members of the new generation that have not sent their sync yet. */
  readonly pendingSync = new UndoSet<string>();
  /** The group's own timers: the join phase ("join") and the pending-sync timeout ("sync"). */
  private readonly timers = new DeadlineHeap();
  /** During an initial rebalance: how much longer the delay may still grow, and by how much per step. */
  initialDelay: { stepMs: number; remainingMs: number; newMemberAdded: boolean } | null = null;
  private readonly index = new ClassicMemberIndex();
  /** When this life of the object began (persisted, with the previous one, in the group row). */
  private readonly wokeAt: number;
  private readonly priorWokeAt: number | null;
  private outbox: Completion[] = [];

  constructor(record: ClassicRecord, members: Iterable<ClassicMember> = [], now = 0) {
    super(record.groupId, record.emptySince);
    this.classicState = record.state;
    this.previousState = record.state === "Empty" ? "Empty" : "Stable";
    this.generationId = record.generationId;
    this.protocolTypeName = record.protocolType;
    this.protocolName = record.protocolName;
    this.leaderId = record.leaderId;
    const previousLife = record.wokeAt ?? null;
    // Strictly after the life it follows, so that a member's `heardIn` names one life.
    this.wokeAt = previousLife === null ? now : Math.max(now, previousLife + 1);
    this.priorWokeAt = previousLife;
    for (const m of members) {
      this.members.set(m.memberId, m);
      this.index.add(m);
      this.sessions.set(m.memberId, this.restoredSession(m, previousLife, record.priorWokeAt ?? null));
    }
    // This life is on record with the first write, before any row can name it in `heardIn`.
    if (this.members.size > 0) this.touchGroup();
    // Parked requests did not survive: members rejoin or resync, bounded by the rebalance timeout.
    if (this.classicState === "PreparingRebalance") this.joinDeadline = now + this.rebalanceTimeoutMs();
    if (this.classicState === "CompletingRebalance") {
      for (const id of this.members.keys()) this.pendingSync.add(id);
      this.syncDeadline = now + this.rebalanceTimeoutMs();
    }
    this.noteState();
  }

  /**
   * A restored member's session deadline. Kafka restarts every session when a coordinator loads a
   * group, but this object restarts whenever it is idle (or fails): only a member heard in the previous
   * life gets a fresh session, and only once. A member not heard since keeps the deadline that life
   * gave it — `previousLife` + session if it was heard in the life before, else the one its row kept —
   * so restarts between alarms never keep a dead member, however long its session. Lives are compared
   * by start time: a `heardIn` newer than the record (a life that never wrote the group row) counts as
   * the previous life, never as an older one, so a live member is never expired early.
   */
  private restoredSession(m: ClassicMember, previousLife: number | null, lifeBefore: number | null): number {
    const heardIn = m.heardIn ?? null;
    if (previousLife === null || (heardIn !== null && heardIn >= previousLife))
      return this.wokeAt + m.sessionTimeoutMs;
    const heardInLifeBefore = lifeBefore !== null && heardIn !== null && heardIn >= lifeBefore;
    if (m.graceUntil !== undefined && !heardInLifeBefore) return m.graceUntil;
    // Fresh when the previous life began; from the next life on only the row can say so.
    m.graceUntil = previousLife + m.sessionTimeoutMs;
    this.touchMember(m.memberId);
    return m.graceUntil;
  }

  /** A new group that holds only offsets (Kafka's "simple" group). */
  static simple(groupId: string, now: number): ClassicGroup {
    const group = new ClassicGroup(
      {
        groupId,
        type: "classic",
        emptySince: now,
        state: "Empty",
        generationId: 0,
        protocolType: "",
        protocolName: "",
        leaderId: null,
      },
      [],
      now,
    );
    group.touchGroup();
    return group;
  }

  /** The volatile state above, kept exact across a failed request (group.ts). */
  protected override volatileFields(): readonly string[] {
    return VOLATILE_FIELDS;
  }

  protected override orderedFields(): readonly string[] {
    return ORDERED_FIELDS;
  }

  memberIds(): Iterable<string> {
    return this.members.keys();
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

  override isPinned(): boolean {
    return this.pendingMembers.size > 0;
  }

  knowsSubscriptions(): boolean {
    return this.protocolTypeName === "consumer";
  }

  isSubscribed(topic: string): boolean {
    return this.index.subscribed(topic);
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

  /**
   * API.md §3, classic group, in the order of Kafka's `ClassicGroup.validateOffsetCommit`: a negative
   * generation on an Empty group is accepted (admin tools, manual assignment); otherwise any identity
   * given is checked as a member first (instance id, then member id), then the generation, and last the
   * state — so a caller that is not a member hears UNKNOWN_MEMBER_ID, never a rebalance error.
   */
  checkMemberCommit(auth: CommitAuth, _now: number): CohortError | null {
    // Kafka has one field for both; a classic client sends its generation.
    const generation = auth.generationId ?? auth.memberEpoch ?? -1;
    if (generation < 0 && this.classicState === "Empty") return null;
    const memberId = auth.memberId ?? "";
    const instanceId = auth.groupInstanceId ?? null;
    if (generation >= 0 || memberId !== "" || instanceId !== null) {
      const refused = this.checkCommitMember(memberId, instanceId);
      if (refused) return refused;
      if (generation !== this.generationId) {
        return {
          code: "ILLEGAL_GENERATION",
          message: `generation ${generation} is not the current generation ${this.generationId}`,
        };
      }
    } else if (this.classicState !== "Empty") {
      return {
        code: "UNKNOWN_MEMBER_ID",
        message: "the group has members: commits must carry memberId and generationId",
      };
    }
    if (this.classicState === "CompletingRebalance") {
      return { code: "REBALANCE_IN_PROGRESS", message: "the group is completing a rebalance" };
    }
    return null;
  }

  /** The committer's identity: an instance id must be held, and by this member id; then the member must exist. */
  private checkCommitMember(memberId: string, instanceId: string | null): CohortError | null {
    if (instanceId !== null) {
      const holder = this.staticMemberId(instanceId);
      if (holder === undefined) {
        return { code: "UNKNOWN_MEMBER_ID", message: `instance ${instanceId} is not a member of the group` };
      }
      if (holder !== memberId) {
        return {
          code: "FENCED_INSTANCE_ID",
          message: `instance ${instanceId} is now held by another member`,
        };
      }
    }
    if (!this.members.has(memberId))
      return { code: "UNKNOWN_MEMBER_ID", message: `member ${memberId || "(none)"} is not in the group` };
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
    return earliest(earliest(this.sessions.min(), this.pendingMembers.min()), this.timers.min());
  }

  /** The earliest deadline due at `now`, in O(1); on a tie sessions first, then issued ids, then timers. */
  earliestDue(now: number): ClassicDeadline | null {
    let due: ClassicDeadline | null = null;
    const session = this.sessions.first();
    if (session !== undefined && this.sessions.min()! <= now)
      due = { at: this.sessions.min()!, kind: "session", memberId: session };
    const pending = this.pendingMembers.first();
    const pendingAt = this.pendingMembers.min();
    if (pending !== undefined && pendingAt! <= now && (due === null || pendingAt! < due.at))
      due = { at: pendingAt!, kind: "pending", memberId: pending };
    const timer = this.timers.first() as "join" | "sync" | undefined;
    const timerAt = this.timers.min();
    if (timer !== undefined && timerAt! <= now && (due === null || timerAt! < due.at))
      due = { at: timerAt!, kind: timer };
    return due;
  }

  /** How many deadlines are set: bounds the steps one alarm needs. */
  get deadlineCount(): number {
    return this.sessions.size + this.pendingMembers.size + this.timers.size;
  }

  /** When the join phase ends (rebalance timeout, or the next step of the initial delay). */
  get joinDeadline(): number | null {
    return this.timers.get("join") ?? null;
  }

  set joinDeadline(at: number | null) {
    if (at === null) this.timers.delete("join");
    else this.timers.set("join", at);
  }

  /** When members still in `pendingSync` are removed (Kafka's pending-sync timeout). */
  get syncDeadline(): number | null {
    return this.timers.get("sync") ?? null;
  }

  set syncDeadline(at: number | null) {
    if (at === null) this.timers.delete("sync");
    else this.timers.set("sync", at);
  }

  onDeadlines(now: number): void {
    onClassicDeadlines(this, now);
  }

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
      wokeAt: this.wokeAt,
      priorWokeAt: this.priorWokeAt,
    };
  }

  memberRecord(memberId: string): ClassicMember | undefined {
    return this.members.get(memberId);
  }

  // ---- primitives the handlers compose; each marks the rows it changes ----

  /** Moves to `to`, checked against the table of legal predecessors. */
  transitionTo(to: ClassicState): void {
    assertTransition(this.groupId, this.classicState, to);
    this.previousState = this.classicState;
    this.classicState = to;
    this.touchGroup();
    this.noteState();
  }

  /** Marks the group row, or a member's row, as changed. */
  changed(memberId?: string): void {
    if (memberId === undefined) this.touchGroup();
    else this.touchMember(memberId);
  }

  setGeneration(generationId: number, protocolName: string): void {
    this.generationId = generationId;
    this.protocolName = protocolName;
    this.touchGroup();
  }

  setLeader(memberId: string | null): void {
    if (this.leaderId === memberId) return;
    this.leaderId = memberId;
    this.touchGroup();
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.index.staticMemberId(groupInstanceId);
  }

  /** How many members list protocol `name` (Kafka's `supportedProtocols`). */
  supportCount(name: string): number {
    return this.index.supportCount(name);
  }

  /** Applies what a rejoining member sent, keeping the indexes right. */
  updateMember(member: ClassicMember, fields: Partial<Omit<ClassicMember, "memberId" | "groupInstanceId">>) {
    this.index.remove(member);
    Object.assign(member, fields);
    this.index.add(member);
    this.touchMember(member.memberId);
  }

  /** The largest rebalance timeout of the members: how long a join phase may last. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /**
   * A join, sync or heartbeat of the member arrived at `now` (API.md §4): its session restarts, in
   * memory; its row records the life once. A parked member gets its session when it is answered.
   */
  heardFrom(memberId: string, now: number): void {
    const m = this.members.get(memberId);
    if (!m) return;
    if (m.heardIn !== this.wokeAt || m.graceUntil !== undefined) {
      m.heardIn = this.wokeAt;
      delete m.graceUntil;
      this.touchMember(memberId);
    }
    if (this.awaitingJoin.has(memberId) || this.awaitingSync.has(memberId)) return;
    this.sessions.set(memberId, now + m.sessionTimeoutMs);
  }

  addMember(member: ClassicMember, now: number): void {
    if (this.members.size === 0) {
      this.protocolTypeName = member.protocolType;
      this.touchGroup();
    }
    this.members.set(member.memberId, member);
    this.index.add(member);
    this.touchMember(member.memberId);
    this.history.memberJoined(member.memberId, member);
    if (this.leaderId === null) this.setLeader(member.memberId);
    this.heardFrom(member.memberId, now);
    this.noteMembership(now);
  }

  /** Removes a member; its parked requests are answered UNKNOWN_MEMBER_ID and a new leader is picked. */
  removeMember(memberId: string, now: number): void {
    const gone = { code: "UNKNOWN_MEMBER_ID", message: `member ${memberId} was removed from the group` };
    this.answerParked(memberId, { ok: false, error: gone as CohortError });
    const m = this.members.get(memberId);
    if (m) this.index.remove(m);
    this.members.delete(memberId);
    this.sessions.delete(memberId);
    this.pendingSync.delete(memberId);
    this.touchMember(memberId);
    if (this.leaderId === memberId) this.setLeader(this.members.keys().next().value ?? null);
    this.noteMembership(now);
  }

  /** KIP-345: the restarted instance takes over `oldId`'s place, assignment and leadership as `newId`. */
  replaceStaticMember(oldId: string, newId: string, now: number): ClassicMember {
    const fenced = {
      code: "FENCED_INSTANCE_ID",
      message: `member ${oldId} was replaced by a newer instance`,
    };
    this.answerParked(oldId, { ok: false, error: fenced as CohortError });
    const old = this.members.get(oldId)!;
    const member = { ...old, memberId: newId };
    this.history.memberFenced(oldId, "replaced_static");
    this.history.memberJoined(newId, member);
    this.index.remove(old);
    this.members.delete(oldId);
    this.sessions.delete(oldId);
    this.touchMember(oldId);
    this.members.set(newId, member);
    this.index.add(member);
    this.touchMember(newId);
    if (this.pendingSync.delete(oldId)) this.pendingSync.add(newId);
    if (this.leaderId === oldId) this.setLeader(newId);
    this.heardFrom(newId, now);
    return member;
  }

  /** Parks a join or sync of `memberId`; a request it supersedes is told to retry. */
  park(kind: "join" | "sync", memberId: string, ticket: number): void {
    const waiting = kind === "join" ? this.awaitingJoin : this.awaitingSync;
    const before = waiting.get(memberId);
    if (before !== undefined) {
      this.complete(before, memberId, {
        ok: false,
        error: { code: "REBALANCE_IN_PROGRESS", message: `superseded by a newer ${kind} from ${memberId}` },
      });
    }
    waiting.set(memberId, ticket);
    this.sessions.delete(memberId);
  }

  /** Answers a member's parked join or sync, if any, and restarts its session. */
  answer(kind: "join", memberId: string, result: Result<JoinResponse>, now: number): void;
  answer(kind: "sync", memberId: string, result: Result<SyncResponse>, now: number): void;
  answer(kind: "join" | "sync", memberId: string, result: Result<JoinResponse | SyncResponse>, now: number) {
    const waiting = kind === "join" ? this.awaitingJoin : this.awaitingSync;
    const ticket = waiting.get(memberId);
    if (ticket === undefined) return;
    waiting.delete(memberId);
    this.complete(ticket, memberId, result);
    this.heardFrom(memberId, now);
  }

  private answerParked(memberId: string, result: Result<never>): void {
    for (const waiting of [this.awaitingJoin, this.awaitingSync]) {
      const ticket = waiting.get(memberId);
      if (ticket === undefined) continue;
      waiting.delete(memberId);
      this.complete(ticket, memberId, result);
    }
  }

  private complete(ticket: number, memberId: string, result: Result<JoinResponse | SyncResponse>): void {
    this.outbox.push({ ticket, memberId, result });
  }

  /** Takes the answer owed to `ticket` if it was produced already (the request need not park). */
  claim<T>(ticket: number): Result<T> | undefined {
    const at = this.outbox.findIndex((c) => c.ticket === ticket);
    if (at < 0) return undefined;
    const [done] = this.outbox.splice(at, 1);
    return done!.result as Result<T>;
  }

  /** Returns and forgets the answers owed to parked requests, for the shell to deliver. */
  takeCompletions(): Completion[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }
}
