/**
 * What every consumer group is, whatever its protocol: the interface that offsets, retention, lag and
 * the admin API use, and the bookkeeping of which rows changed so the Durable Object persists only
 * those (a steady heartbeat changes none). The classic (JoinGroup/SyncGroup) and consumer (KIP-848)
 * protocols implement it, as Kafka's `ClassicGroup` and `ConsumerGroup` implement `Group`.
 */

import type { CohortError } from "./errors.ts";
import { HistoryRecorder } from "./history.ts";
import { isUndoable } from "./undo.ts";

export type GroupType = "classic" | "consumer" | "share";

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

/** What a checkpoint saved that is not journaled by its own structure (see `Group.checkpoint`). */
interface Checkpoint {
  scalars: Map<string, unknown>;
  history: ReturnType<HistoryRecorder["mark"]>;
  dirtyGroup: boolean;
  dirtyMembers: string[];
}

/** A volatile scalar as saved at a checkpoint: arrays and plain objects by shallow copy. */
const saved = (value: unknown): unknown =>
  Array.isArray(value) ? [...value] : value !== null && typeof value === "object" ? { ...value } : value;

export abstract class Group {
  abstract readonly type: GroupType;
  /** When the group last became Empty (KIP-211 retention base); null while it has members. */
  emptySince: number | null;
  private dirtyGroup = false;
  private dirtyMembers = new Set<string>();
  private checkpointed: Checkpoint | null = null;
  /** Events (API.md §8) of the current step, written by the shell with its rows (history.ts). */
  readonly history = new HistoryRecorder();

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

  /** Member ids in the group's own order (describe and leader choice follow it). */
  abstract memberIds(): Iterable<string>;

  // ---- the failure path (DESIGN.md principle 8) ----

  /**
   * The names of this group's volatile fields: state that is not persisted, so SQLite's rollback cannot
   * give it back (deadlines, parked tickets, last reported epochs, notices). A field holding an
   * `Undoable` journals its own changes; any other (a number, a small object, a short array) is copied
   * at the checkpoint. Everything else is persisted and comes back by reloading the rows.
   */
  protected volatileFields(): readonly string[] {
    return [];
  }

  private field(name: string): unknown {
    return (this as unknown as Record<string, unknown>)[name];
  }

  private setField(name: string, value: unknown): void {
    (this as unknown as Record<string, unknown>)[name] = value;
  }

  /**
   * Persisted collections whose keys and order a rollback must restore (the members map: the reload
   * rebuilds each member from its row, in this order). Journaled like volatile fields, never adopted.
   */
  protected orderedFields(): readonly string[] {
    return [];
  }

  private journaledCache: readonly string[] | null = null;

  private journaled(): readonly string[] {
    this.journaledCache ??= [...this.volatileFields(), ...this.orderedFields()];
    return this.journaledCache;
  }

  /** Starts a request: from here on, volatile changes can be undone. O(1) plus the dirty rows pending. */
  checkpoint(): void {
    const scalars = new Map<string, unknown>();
    for (const name of this.journaled()) {
      const value = this.field(name);
      if (isUndoable(value)) value.checkpoint();
      else scalars.set(name, saved(value));
    }
    this.checkpointed = {
      scalars,
      history: this.history.mark(),
      dirtyGroup: this.dirtyGroup,
      dirtyMembers: [...this.dirtyMembers],
    };
  }

  /** The request failed: volatile state and dirty marks are put back as they were at the checkpoint. */
  rollback(): void {
    const at = this.checkpointed;
    this.checkpointed = null;
    if (!at) return;
    for (const name of this.journaled()) {
      const value = this.field(name);
      if (isUndoable(value)) value.rollback();
      else this.setField(name, at.scalars.get(name));
    }
    this.history.undo(at.history);
    this.dirtyGroup = at.dirtyGroup;
    this.dirtyMembers = new Set(at.dirtyMembers);
  }

  /** The request succeeded: its changes stay. */
  keepChanges(): void {
    this.checkpointed = null;
    for (const name of this.journaled()) {
      const value = this.field(name);
      if (isUndoable(value)) value.release();
    }
  }

  /**
   * Takes over the volatile state of `before`, the object this one was reloaded to replace after a
   * failure (rolled back first): restored from the same rows, the two differ only in what a restore
   * cannot know, so after this the group is exactly what `before` was before the failed request.
   */
  adoptVolatile(before: Group): void {
    if (before.type !== this.type) return;
    for (const name of this.volatileFields()) this.setField(name, before.field(name));
    this.history.adopt(before.history);
    this.dirtyGroup = before.dirtyGroup;
    this.dirtyMembers = new Set(before.dirtyMembers);
  }

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

  /**
   * Records a `state_changed` event if the state moved since it was last recorded: for groups whose
   * state is derived (consumer, share), at the points where it can change.
   */
  noteState(): void {
    this.history.stateIs(this.state);
  }

  /** Whether any row changed since the last `takeDirty()` (history events and lag samples included). */
  get dirty(): boolean {
    return this.dirtyGroup || this.dirtyMembers.size > 0 || this.history.unsaved;
  }

  /** The rows changed since the last `markSaved()`; they stay marked until then. */
  dirtyRows(): DirtyRows {
    const members = new Map<string, unknown | undefined>();
    for (const id of this.dirtyMembers) members.set(id, this.memberRecord(id));
    return { group: this.dirtyGroup, members };
  }

  /** The changed rows were written (the transaction committed): forget the marks. */
  markSaved(): void {
    this.dirtyGroup = false;
    this.dirtyMembers.clear();
    this.history.saved();
  }

  /** Returns and forgets the rows changed since the last call (for callers with no transaction to fail). */
  takeDirty(): DirtyRows {
    const rows = this.dirtyRows();
    this.markSaved();
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
