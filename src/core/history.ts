/**
 * The group's history (API.md §8) as data: the event types and the recorder each group carries. The
 * core's transitions record events into the recorder's pending list (one line at each call site); the
 * shell writes that list in the transaction of the change (one row per event, src/storage/history-
 * store.ts) and the list is cleared once the transaction committed. The list is volatile state of the
 * group's failure path (group.ts): a failed step's events are dropped with the rest of the step.
 *
 * Times are not recorded here: every event of a step happened at that step's `now`, which the shell
 * stamps when it writes them. Kafka keeps no such history (operators grep broker logs); the event
 * names follow the transitions of Kafka's `GroupMetadataManager` and its log lines.
 */

export type HistoryEventType =
  | "member_joined"
  | "member_left"
  | "member_fenced"
  | "rebalance"
  | "state_changed"
  | "offsets_reset"
  | "offsets_deleted"
  | "share_archived"
  | "share_redriven";

export type LeaveReason = "leave" | "static_leave" | "admin";
export type FenceReason = "session_timeout" | "rebalance_timeout" | "replaced_static" | "fenced_epoch";

/** An event as the core records it; `seq` and `at` are given when it is written. */
export interface HistoryEvent {
  type: HistoryEventType;
  memberId?: string;
  /** Admin events only: the token's `sub`, or null (AUTH_MODE=none, or a token without `sub`). */
  actor?: string | null;
  detail: Record<string, unknown>;
}

/** An event as stored and served (API.md §8). */
export interface StoredEvent extends HistoryEvent {
  seq: number;
  at: number;
}

/** Who acts in an admin request: the token's `sub`, or null. */
export type Actor = string | null;

/**
 * At most this many partitions are listed in one offsets event's detail (the rest counted in
 * `omitted`): an event is one row, and one row must stay far under 1 MB whatever a reset covers.
 */
export const MAX_DETAIL_PARTITIONS = 1000;

/** Lag samples are taken at most once per minute of the clock (one row per minute at most). */
export const LAG_SAMPLE_MS = 60_000;

const minuteOf = (at: number): number => Math.floor(at / LAG_SAMPLE_MS);

interface Mark {
  pending: number;
  state: string | undefined;
  lagDue: number | null;
  lastSample: number | null;
}

export class HistoryRecorder {
  /** Events recorded since the last write committed. */
  pending: HistoryEvent[] = [];
  /** The state last recorded (or the state the group was restored in): what a change is measured from. */
  private state: string | undefined;
  /** When this step asked for a lag sample (null: none due). */
  lagDue: number | null = null;
  /** When the last lag sample was written in this object's life (null: none yet). */
  private lastSample: number | null = null;

  /** Whether the shell has something to write. */
  get unsaved(): boolean {
    return this.pending.length > 0 || this.lagDue !== null;
  }

  private record(event: HistoryEvent): void {
    this.pending.push(event);
  }

  memberJoined(
    memberId: string,
    m: { clientId: string; clientHost: string; groupInstanceId: string | null },
  ): void {
    const detail = { clientId: m.clientId, clientHost: m.clientHost, groupInstanceId: m.groupInstanceId };
    this.record({ type: "member_joined", memberId, detail });
  }

  memberLeft(memberId: string, reason: LeaveReason): void {
    this.record({ type: "member_left", memberId, detail: { reason } });
  }

  memberFenced(memberId: string, reason: FenceReason): void {
    this.record({ type: "member_fenced", memberId, detail: { reason } });
  }

  /** A new generation (classic) or a group epoch whose target moved partitions (consumer, share). */
  rebalance(epoch: { generationId: number } | { groupEpoch: number }, members: number, moved: number): void {
    this.record({ type: "rebalance", detail: { ...epoch, members, partitionsMoved: moved } });
  }

  /** A state transition; recorded only when `to` differs from the state last recorded. */
  stateIs(to: string, actor?: Actor): void {
    const from = this.state;
    this.state = to;
    if (from === undefined || from === to) return;
    const event: HistoryEvent = { type: "state_changed", detail: { from, to } };
    if (actor !== undefined) event.actor = actor;
    this.record(event);
  }

  offsetsReset(
    actor: Actor,
    topic: string,
    changes: readonly { partition: number; previousOffset: number; newOffset: number }[],
  ): void {
    const partitions = changes.slice(0, MAX_DETAIL_PARTITIONS).map((c) => ({
      partition: c.partition,
      previousOffset: c.previousOffset,
      newOffset: c.newOffset,
    }));
    this.record({ type: "offsets_reset", actor, detail: { topic, partitions, ...omitted(changes.length) } });
  }

  offsetsDeleted(actor: Actor, topic: string, partitions: readonly number[]): void {
    const listed = partitions.slice(0, MAX_DETAIL_PARTITIONS);
    const detail = { topic, partitions: listed, ...omitted(partitions.length) };
    this.record({ type: "offsets_deleted", actor, detail });
  }

  shareArchived(r: {
    topic: string;
    partition: number;
    firstOffset: number;
    lastOffset: number;
    reason: string;
  }) {
    const { topic, partition, firstOffset, lastOffset, reason } = r;
    this.record({ type: "share_archived", detail: { topic, partition, firstOffset, lastOffset, reason } });
  }

  shareRedriven(
    actor: Actor,
    r: { topic: string; partition: number; firstOffset: number; lastOffset: number; count: number },
  ): void {
    const { topic, partition, firstOffset, lastOffset, count } = r;
    this.record({
      type: "share_redriven",
      actor,
      detail: { topic, partition, firstOffset, lastOffset, count },
    });
  }

  /**
   * A commit reported log ends (or a share group acknowledged): sample the total lag, unless this
   * minute of the clock has its sample already.
   */
  lagReported(now: number): void {
    if (this.lastSample !== null && minuteOf(this.lastSample) === minuteOf(now)) return;
    this.lagDue = now;
  }

  // ---- the failure path (group.ts) ----

  mark(): Mark {
    return {
      pending: this.pending.length,
      state: this.state,
      lagDue: this.lagDue,
      lastSample: this.lastSample,
    };
  }

  undo(mark: Mark): void {
    this.pending.length = Math.min(this.pending.length, mark.pending);
    this.state = mark.state;
    this.lagDue = mark.lagDue;
    this.lastSample = mark.lastSample;
  }

  /** Takes over what a reload cannot know from `before` (the recorder of the object it replaces). */
  adopt(before: HistoryRecorder): void {
    this.pending = before.pending;
    this.state = before.state;
    this.lagDue = before.lagDue;
    this.lastSample = before.lastSample;
  }

  /** The write committed: the pending events are on record. */
  saved(): void {
    this.pending = [];
    if (this.lagDue !== null) this.lastSample = this.lagDue;
    this.lagDue = null;
  }
}

const omitted = (total: number): { omitted?: number } =>
  total > MAX_DETAIL_PARTITIONS ? { omitted: total - MAX_DETAIL_PARTITIONS } : {};

/** How many partitions `next` gives its member that `before` did not: a target's moved partitions. */
export function partitionsGained(
  before: Readonly<Record<string, readonly number[]>>,
  next: Readonly<Record<string, readonly number[]>>,
): number {
  let gained = 0;
  for (const topic of Object.keys(next)) {
    const had = before[topic];
    const known = had && had.length > 0 ? new Set(had) : null;
    for (const p of next[topic]!) if (!known?.has(p)) gained++;
  }
  return gained;
}
