/**
 * A classic (JoinGroup/SyncGroup) group: Kafka's `ClassicGroup`. Groups that only ever received
 * simple commits are classic groups with no members and an empty protocol type, as in Kafka.
 * This file holds the group's state and the primitives that change it (each marks the rows it
 * changes); the join/sync/heartbeat/leave handlers and the rebalance steps that compose them live
 * beside it (classic-join.ts, classic-sync.ts, classic-rebalance.ts). What a request is waiting for
 * and when sessions expire is in memory only: a heartbeat changes no persisted row.
 */

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
import type { Completion, JoinRequest, JoinResponse, SyncResponse } from "./classic-protocol.ts";
import { classicDeadlines, onClassicDeadlines } from "./classic-rebalance.ts";
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
}

export interface ClassicRecord extends GroupRecord {
  type: "classic";
  state: ClassicState;
  generationId: number;
  protocolType: string;
  protocolName: string;
  leaderId: string | null;
}

/** Not persisted: what a reload cannot rebuild, adopted from the old object after a failure. */
const VOLATILE_FIELDS: readonly string[] = [
  "previousState",
  "awaitingJoin",
  "awaitingSync",
  "sessionDeadlines",
  "pendingMembers",
  "pendingSync",
  "joinDeadline",
  "initialDelay",
  "syncDeadline",
  "outbox",
];
/** Persisted, rebuilt by a reload in the order a rollback restores. */
const ORDERED_FIELDS: readonly string[] = ["members"];

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
  /** When each member's session expires unless it is heard from (or is parked). */
  readonly sessionDeadlines = new UndoMap<string, number>();
  /** Member ids handed out with MEMBER_ID_REQUIRED (KIP-394), until they join or their session passes. */
  readonly pendingMembers = new UndoMap<string, number>();
  /** Members of the new generation that have not sent their sync yet. */
  readonly pendingSync = new UndoSet<string>();
  /** When the join phase ends (rebalance timeout, or the next step of the initial delay). */
  joinDeadline: number | null = null;
  /** During an initial rebalance: how much longer the delay may still grow, and by how much per step. */
  initialDelay: { stepMs: number; remainingMs: number; newMemberAdded: boolean } | null = null;
  /** When members still in `pendingSync` are removed (Kafka's pending-sync timeout). */
  syncDeadline: number | null = null;
  private outbox: Completion[] = [];

  constructor(record: ClassicRecord, members: Iterable<ClassicMember> = [], now = 0) {
    super(record.groupId, record.emptySince);
    this.classicState = record.state;
    this.previousState = record.state === "Empty" ? "Empty" : "Stable";
    this.generationId = record.generationId;
    this.protocolTypeName = record.protocolType;
    this.protocolName = record.protocolName;
    this.leaderId = record.leaderId;
    for (const m of members) {
      this.members.set(m.memberId, m);
      // Sessions restart from the restore, as Kafka reschedules heartbeats when it loads a group.
      this.sessionDeadlines.set(m.memberId, now + m.sessionTimeoutMs);
    }
    // Parked requests did not survive: members rejoin or resync, bounded by the rebalance timeout.
    if (this.classicState === "PreparingRebalance") this.joinDeadline = now + this.rebalanceTimeoutMs();
    if (this.classicState === "CompletingRebalance") {
      for (const id of this.members.keys()) this.pendingSync.add(id);
      this.syncDeadline = now + this.rebalanceTimeoutMs();
    }
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
      const holder = this.staticMemberId(auth.groupInstanceId);
      if (holder && holder !== memberId) {
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
    let next: number | null = null;
    for (const d of classicDeadlines(this)) if (next === null || d.at < next) next = d.at;
    return next;
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
    for (const m of this.members.values()) if (m.groupInstanceId === groupInstanceId) return m.memberId;
    return undefined;
  }

  /** The largest rebalance timeout of the members: how long a join phase may last. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Restarts a member's session: it was heard from at `now`. In memory only. */
  heardFrom(memberId: string, now: number): void {
    const m = this.members.get(memberId);
    if (m) this.sessionDeadlines.set(memberId, now + m.sessionTimeoutMs);
  }

  addMember(member: ClassicMember, now: number): void {
    if (this.members.size === 0) {
      this.protocolTypeName = member.protocolType;
      this.touchGroup();
    }
    this.members.set(member.memberId, member);
    this.touchMember(member.memberId);
    if (this.leaderId === null) this.setLeader(member.memberId);
    this.heardFrom(member.memberId, now);
    this.noteMembership(now);
  }

  /** Removes a member; its parked requests are answered UNKNOWN_MEMBER_ID and a new leader is picked. */
  removeMember(memberId: string, now: number): void {
    const gone = { code: "UNKNOWN_MEMBER_ID", message: `member ${memberId} was removed from the group` };
    this.answerParked(memberId, { ok: false, error: gone as CohortError });
    this.members.delete(memberId);
    this.sessionDeadlines.delete(memberId);
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
    this.members.delete(oldId);
    this.sessionDeadlines.delete(oldId);
    this.touchMember(oldId);
    this.members.set(newId, member);
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
