/**
 * The archived (dead-letter) listing of a share group (API.md §7): the newest ARCHIVE_LIMIT ranges,
 * each kept OFFSETS_RETENTION_MS after it was archived, above SPSO and below it. Loaded from its rows,
 * held in memory, written as rows added and removed. Ranges of one partition are disjoint (an offset
 * is archived again only after a redrive took it out of the listing), so a row is keyed by topic,
 * partition and first offset.
 *
 * Journaled like the rest of the group's volatile state: a failed request leaves it as it was.
 */

import { DeadlineHeap } from "../deadline-heap.ts";
import { fail, ok, type Result } from "../errors.ts";
import { partitionKey } from "../group.ts";
import { byTopicPartition } from "../offsets.ts";
import { type Undoable, UndoMap } from "../undo.ts";
import type { ArchivedRange } from "./share-types.ts";

/** Ranges listed per group at most (API.md §7): the oldest leave first. */
export const ARCHIVE_LIMIT = 10_000;

const rangeKey = (topic: string, partition: number, firstOffset: number) =>
  `${partitionKey(topic, partition)}:${firstOffset}`;

const order = (a: ArchivedRange, b: ArchivedRange) => byTopicPartition(a, b) || a.firstOffset - b.firstOffset;

/** Cursors are opaque to clients: the last range's position, base64url. */
const encodeCursor = (r: ArchivedRange) =>
  btoa(JSON.stringify([r.topic, r.partition, r.firstOffset]))
    .replace(/=+$/, "")
    .replace(/\+/g, "-")
    .replace(/\//g, "_");

function decodeCursor(cursor: string): ArchivedRange | null {
  try {
    const [topic, partition, firstOffset] = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
    if (typeof topic !== "string" || !Number.isSafeInteger(partition) || !Number.isSafeInteger(firstOffset))
      return null;
    return { topic, partition, firstOffset } as ArchivedRange;
  } catch {
    return null;
  }
}

export class ArchiveList implements Undoable {
  private readonly entries = new UndoMap<string, ArchivedRange>();
  /** Key -> archivedAt: the oldest is the next to expire or to make room. */
  private readonly ages = new DeadlineHeap();
  /** Rows to write since the last save: the range (upsert) or null (delete). */
  private readonly changes = new UndoMap<string, ArchivedRange | null>();

  /** Told of each newly archived range (the group's history records it). */
  private readonly onArchived: (r: ArchivedRange) => void;

  constructor(rows: Iterable<ArchivedRange> = [], onArchived: (r: ArchivedRange) => void = () => {}) {
    this.onArchived = onArchived;
    for (const r of rows) this.put(r, false);
    this.trim();
  }

  checkpoint(): void {
    this.entries.checkpoint();
    this.ages.checkpoint();
    this.changes.checkpoint();
  }

  rollback(): void {
    this.entries.rollback();
    this.ages.rollback();
    this.changes.rollback();
  }

  release(): void {
    this.entries.release();
    this.ages.release();
    this.changes.release();
  }

  get size(): number {
    return this.entries.size;
  }

  private put(r: ArchivedRange, write: boolean): void {
    const key = rangeKey(r.topic, r.partition, r.firstOffset);
    this.entries.set(key, r);
    this.ages.set(key, r.archivedAt);
    if (write) this.changes.set(key, r);
  }

  private remove(key: string): void {
    if (!this.entries.delete(key)) return;
    this.ages.delete(key);
    this.changes.set(key, null);
  }

  /** Lists newly archived ranges; past the limit the oldest leave. */
  add(ranges: readonly ArchivedRange[]): void {
    for (const r of ranges) {
      this.put(r, true);
      this.onArchived(r);
    }
    if (ranges.length > 0) this.trim();
  }

  private trim(): void {
    while (this.entries.size > ARCHIVE_LIMIT) this.remove(this.ages.first()!);
  }

  /** Ranges archived more than `retentionMs` ago leave the listing. O(expired). */
  expire(now: number, retentionMs: number): void {
    for (let at = this.ages.min(); at !== null && at + retentionMs <= now; at = this.ages.min())
      this.remove(this.ages.first()!);
  }

  /** Every range leaves (the group's state expired). */
  clear(): void {
    for (const key of [...this.entries.keys()]) this.remove(key);
  }

  nextExpiry(retentionMs: number): number | null {
    const at = this.ages.min();
    return at === null ? null : at + retentionMs;
  }

  /** The listed ranges of one partition (a scan: for admin calls only). */
  ofPartition(topic: string, partition: number): ArchivedRange[] {
    const out: ArchivedRange[] = [];
    for (const r of this.entries.values()) if (r.topic === topic && r.partition === partition) out.push(r);
    return out.sort(order);
  }

  /** Drops a partition's ranges (its state was reset or deleted). */
  dropPartition(topic: string, partition: number): void {
    for (const r of this.ofPartition(topic, partition))
      this.remove(rangeKey(topic, partition, r.firstOffset));
  }

  /** Takes [first, last] out of a partition's ranges (redriven): what lies outside stays listed. */
  cut(topic: string, partition: number, first: number, last: number): void {
    for (const r of this.ofPartition(topic, partition)) {
      if (r.lastOffset < first || r.firstOffset > last) continue;
      this.remove(rangeKey(topic, partition, r.firstOffset));
      if (r.firstOffset < first) this.put({ ...r, lastOffset: first - 1 }, true);
      if (r.lastOffset > last) this.put({ ...r, firstOffset: last + 1 }, true);
    }
  }

  /** A page of the listing, by topic, partition and offset, after `cursor`; entries due to expire are left out. */
  list(
    topic: string | undefined,
    limit: number,
    cursor: string | undefined,
    now: number,
    retentionMs: number,
  ): Result<{ ranges: ArchivedRange[]; nextCursor: string | null }> {
    const after = cursor === undefined ? null : decodeCursor(cursor);
    if (cursor !== undefined && after === null)
      return fail("INVALID_REQUEST", "cursor is not one this listing gave");
    const matching: ArchivedRange[] = [];
    for (const r of this.entries.values()) {
      if (topic !== undefined && r.topic !== topic) continue;
      if (r.archivedAt + retentionMs <= now) continue;
      if (after && order(r, after) <= 0) continue;
      matching.push(r);
    }
    matching.sort(order);
    const page = matching.slice(0, limit).map((r) => ({ ...r }));
    const nextCursor = matching.length > limit ? encodeCursor(page[page.length - 1]!) : null;
    return ok({ ranges: page, nextCursor });
  }

  get dirty(): boolean {
    return this.changes.size > 0;
  }

  /** Rows to write since the last save. */
  dirtyRows(): {
    added: ArchivedRange[];
    removed: { topic: string; partition: number; firstOffset: number }[];
  } {
    const added: ArchivedRange[] = [];
    const removed: { topic: string; partition: number; firstOffset: number }[] = [];
    for (const [key, r] of this.changes) {
      if (r) added.push(r);
      else {
        const [p, first] = [key.slice(0, key.lastIndexOf(":")), Number(key.slice(key.lastIndexOf(":") + 1))];
        const at = p.lastIndexOf(":");
        removed.push({ topic: p.slice(0, at), partition: Number(p.slice(at + 1)), firstOffset: first });
      }
    }
    return { added, removed };
  }

  markSaved(): void {
    this.changes.clear();
  }

  /** Every range listed (the model test and restores compare them). */
  all(): ArchivedRange[] {
    return [...this.entries.values()].sort(order);
  }
}
