/**
 * Acquisition in a share group (API.md §7): acknowledgements applied first, log ends reported, then up
 * to `maxRecords` available offsets from the member's assigned partitions, oldest first within each,
 * the starting partition rotating from one call to the next so none starves. An acquire that finds
 * nothing waits up to `maxWaitMs` (parked); it is retried when something may have become available in
 * one of its partitions (a lock expired, a release, a larger log end, SPSO moved, a redrive) or its
 * member's assignment grew, and ends empty at its deadline.
 *
 * Work is proportional to the partitions a call names or the member is assigned, never to the group:
 * a partition is cloned (share-table.ts) only when a call changes it, and a wake-up visits only the
 * parked members assigned to the partitions that changed.
 *
 * The dispatcher holds only volatile state (parked acquires, their deadlines, which partitions each
 * member may hold locks in, rotation cursors, answers owed) and journals it for the failure path; the
 * group passes its partitions and assignments in with every call.
 */

import { DeadlineHeap } from "../deadline-heap.ts";
import { fail, ok, type Result } from "../errors.ts";
import { partitionKey } from "../group.ts";
import { type Undoable, UndoMap } from "../undo.ts";
import type { ArchiveList } from "./share-archive.ts";
import type {
  AcquireCompletion,
  AcquirePartition,
  AcquireRequest,
  AcquireResponse,
  AcquireStep,
  ParkedAcquire,
} from "./share-member.ts";
import type { SharePartition } from "./share-partition.ts";
import type { PartitionTable } from "./share-table.ts";
import type { AcknowledgeEntry, AcknowledgeResult, AcquiredRecords, ShareSettings } from "./share-types.ts";

export interface AssignedPartition {
  topic: string;
  partition: number;
  key: string;
}

/** What the dispatcher sees of its group, passed with every call. */
export interface DispatchContext {
  table: PartitionTable;
  archive: ArchiveList;
  settings: ShareSettings;
  /** The member's assigned partitions in ascending order. */
  assigned(memberId: string): readonly AssignedPartition[];
  isAssigned(memberId: string, key: string): boolean;
  /** Members assigned the partition. */
  assignees(key: string): ReadonlySet<string>;
}

const count = (r: AcquiredRecords) => r.lastOffset - r.firstOffset + 1;

/** Whether a report tells the partition something it does not know (otherwise it is not touched). */
const news = (sp: SharePartition | undefined, p: AcquirePartition) =>
  !sp ||
  sp.startOffset === null ||
  (p.logEndOffset !== undefined && (sp.logEndOffset === null || p.logEndOffset > sp.logEndOffset)) ||
  (p.logStartOffset !== undefined && (sp.logStartOffset === null || p.logStartOffset > sp.logStartOffset));

export class Dispatcher implements Undoable {
  /** Member -> its parked acquire (one per member: a newer one supersedes it). */
  private readonly parked = new UndoMap<string, ParkedAcquire>();
  private readonly waits = new DeadlineHeap();
  /** Member -> keys of partitions it acquired from since it last lost its locks (a superset of its locks). */
  private readonly holdings = new UndoMap<string, ReadonlySet<string>>();
  /** Member -> index of the assigned partition its next acquire starts at. */
  private readonly rotation = new UndoMap<string, number>();
  private outbox: AcquireCompletion[] = [];
  private savedOutbox: AcquireCompletion[] | null = null;

  checkpoint(): void {
    for (const part of this.parts()) part.checkpoint();
    this.savedOutbox = [...this.outbox];
  }

  rollback(): void {
    for (const part of this.parts()) part.rollback();
    if (this.savedOutbox) this.outbox = this.savedOutbox;
    this.savedOutbox = null;
  }

  release(): void {
    for (const part of this.parts()) part.release();
    this.savedOutbox = null;
  }

  private parts(): Undoable[] {
    return [this.parked, this.waits, this.holdings, this.rotation];
  }

  get parkedCount(): number {
    return this.parked.size;
  }

  nextWait(): number | null {
    return this.waits.min();
  }

  acquire(ctx: DispatchContext, req: AcquireRequest, now: number, ticket: number): AcquireStep {
    const memberId = req.memberId;
    const woken = new Set<string>();
    const acknowledgements = this.applyAcks(ctx, memberId, req.acknowledgements ?? [], now, woken);
    for (const p of req.partitions ?? []) {
      const key = partitionKey(p.topic, p.partition);
      if (!ctx.isAssigned(memberId, key)) continue;
      if (p.logEndOffset === undefined && p.logStartOffset === undefined) continue;
      if (!news(ctx.table.get(key), p)) continue;
      const sp = ctx.table.edit(p.topic, p.partition, true)!;
      ctx.archive.add(sp.report(p.logEndOffset, p.logStartOffset, now, ctx.settings));
      ctx.table.settle(sp);
      woken.add(key);
    }
    // One parked acquire per member: an older one is answered with what it has (nothing).
    const older = this.parked.get(memberId);
    if (older) this.complete(memberId, ok(this.response(ctx, [], older.acknowledgements)));
    // Others waiting on what this call freed go first: a released record goes to someone else if
    // anyone waits, rather than straight back to the member that gave it up.
    this.wake(ctx, woken, now, memberId);
    const records = this.take(ctx, memberId, req.maxRecords, now);
    if (records.length === 0 && req.maxWaitMs > 0) {
      this.parked.set(memberId, { ticket, maxRecords: req.maxRecords, acknowledgements });
      this.waits.set(memberId, now + req.maxWaitMs);
      return { kind: "parked" };
    }
    return { kind: "reply", result: ok(this.response(ctx, records, acknowledgements)) };
  }

  acknowledge(
    ctx: DispatchContext,
    memberId: string,
    entries: AcknowledgeEntry[],
    now: number,
  ): AcknowledgeResult[] {
    const woken = new Set<string>();
    const results = this.applyAcks(ctx, memberId, entries, now, woken);
    this.wake(ctx, woken, now);
    return results;
  }

  /** Each entry all-or-nothing; `woken` gets the partitions where something may have become available. */
  private applyAcks(
    ctx: DispatchContext,
    memberId: string,
    entries: readonly AcknowledgeEntry[],
    now: number,
    woken: Set<string>,
  ): AcknowledgeResult[] {
    return entries.map((e) => {
      const at = {
        topic: e.topic,
        partition: e.partition,
        firstOffset: e.firstOffset,
        lastOffset: e.lastOffset,
      };
      if (!ctx.table.get(partitionKey(e.topic, e.partition))) {
        return {
          ...at,
          error: {
            code: "INVALID_RECORD_STATE",
            message: `no records of ${e.topic}-${e.partition} are acquired by member ${memberId}`,
          },
        };
      }
      const sp = ctx.table.edit(e.topic, e.partition)!;
      const { error, archived } = sp.acknowledge(
        memberId,
        e.firstOffset,
        e.lastOffset,
        e.type,
        now,
        ctx.settings,
      );
      ctx.archive.add(archived);
      ctx.table.settle(sp);
      if (!error && e.type !== "renew") woken.add(partitionKey(e.topic, e.partition));
      return { ...at, error };
    });
  }

  /** Up to `max` offsets from the member's assigned partitions, starting at its rotating cursor. */
  private take(ctx: DispatchContext, memberId: string, max: number, now: number): AcquiredRecords[] {
    const assigned = ctx.assigned(memberId);
    const n = assigned.length;
    const out: AcquiredRecords[] = [];
    if (n === 0) return out;
    const start = (this.rotation.get(memberId) ?? 0) % n;
    let left = max;
    for (let i = 0; i < n && left > 0; i++) {
      const { topic, partition, key } = assigned[(start + i) % n]!;
      const current = ctx.table.get(key);
      if (!current?.canAcquire(ctx.settings)) continue;
      const sp = ctx.table.edit(topic, partition)!;
      const got = sp.acquire(memberId, left, now, ctx.settings);
      ctx.table.settle(sp);
      if (got.length === 0) continue;
      for (const r of got) left -= count(r);
      out.push(...got);
      const held = this.holdings.get(memberId);
      if (!held?.has(key)) this.holdings.set(memberId, new Set(held).add(key));
    }
    if (n > 1) this.rotation.set(memberId, (start + 1) % n);
    return out;
  }

  /** Retries the parked acquires of members assigned any of `keys` (but `except`). */
  wake(ctx: DispatchContext, keys: Iterable<string>, now: number, except?: string): void {
    if (this.parked.size === 0) return;
    const changed = [...keys];
    const candidates = new Set<string>();
    // Visit the smaller side: with more members on a partition than parked acquires (M > P) the
    // parked ones, else the partitions' members.
    let members = 0;
    for (const key of changed) members += ctx.assignees(key).size;
    if (this.parked.size * changed.length < members) {
      for (const m of this.parked.keys())
        if (m !== except && changed.some((key) => ctx.isAssigned(m, key))) candidates.add(m);
    } else {
      for (const key of changed)
        for (const m of ctx.assignees(key)) if (m !== except && this.parked.has(m)) candidates.add(m);
    }
    this.retry(ctx, candidates, now);
  }

  /** Retries the parked acquires of these members (their assignment grew). */
  retry(ctx: DispatchContext, members: Iterable<string>, now: number): void {
    for (const m of members) {
      const p = this.parked.get(m);
      if (!p) continue;
      const records = this.take(ctx, m, p.maxRecords, now);
      if (records.length > 0) this.complete(m, ok(this.response(ctx, records, p.acknowledgements)));
    }
  }

  /** Expired locks return (or are archived at the limit); parked acquires on those partitions retry. */
  expireLocks(ctx: DispatchContext, now: number): void {
    const due = ctx.table.dueLocks(now);
    for (const key of due) {
      const sp = ctx.table.edit(...splitKey(key))!;
      ctx.archive.add(sp.expireLocks(now, ctx.settings));
      ctx.table.settle(sp);
    }
    this.wake(ctx, due, now);
  }

  /** Parked acquires whose wait ended are answered empty. */
  endWaits(ctx: DispatchContext, now: number): void {
    for (const m of this.waits.due(now)) {
      const p = this.parked.get(m);
      if (p) this.complete(m, ok(this.response(ctx, [], p.acknowledgements)));
    }
  }

  /**
   * A member leaves the group: its parked acquire is answered, its locks end (`countAsDelivery`: a
   * session expiry, the counts stand). Returns the partitions where records came back. A parked
   * acquire that carried acknowledgements had them applied and stored before it waited: its wait
   * ends with no records and their results (API.md §7: the request fails only for a member unknown
   * when it came), and the member learns it is gone at its next call. A bare wait is refused at once.
   */
  removeMember(ctx: DispatchContext, memberId: string, countAsDelivery: boolean, now: number): string[] {
    const parked = this.parked.get(memberId);
    if (parked && parked.acknowledgements.length > 0)
      this.complete(memberId, ok(this.response(ctx, [], parked.acknowledgements)));
    else if (parked)
      this.complete(memberId, fail("UNKNOWN_MEMBER_ID", `member ${memberId} is no longer in the group`));
    this.rotation.delete(memberId);
    const held = [...(this.holdings.get(memberId) ?? [])];
    this.holdings.delete(memberId);
    for (const key of held) {
      const sp = ctx.table.edit(...splitKey(key));
      if (!sp) continue;
      ctx.archive.add(sp.releaseMember(memberId, countAsDelivery, now, ctx.settings));
      ctx.table.settle(sp);
    }
    return held;
  }

  private complete(memberId: string, result: Result<AcquireResponse>): void {
    const p = this.parked.get(memberId)!;
    this.outbox.push({ ticket: p.ticket, result });
    this.parked.delete(memberId);
    this.waits.delete(memberId);
  }

  private response(
    ctx: DispatchContext,
    records: AcquiredRecords[],
    acknowledgements: AcknowledgeResult[],
  ): AcquireResponse {
    return { acquisitionLockTimeoutMs: ctx.settings.lockDurationMs, records, acknowledgements };
  }

  /** Returns and forgets the answers owed to parked acquires. */
  takeCompletions(): AcquireCompletion[] {
    if (this.outbox.length === 0) return [];
    const out = this.outbox;
    this.outbox = [];
    return out;
  }
}

/** A `partitionKey` back to topic and partition (topics hold no ':'). */
export function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf(":");
  return [key.slice(0, at), Number(key.slice(at + 1))];
}
