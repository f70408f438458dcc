/**
 * A share group's share-partitions, by `partitionKey`, with what the group needs around them: the
 * earliest lock deadline of each (one heap entry per partition holding locks, so the alarm finds
 * expired locks without a scan), and which persisted rows changed since the last save.
 *
 * Acquired ranges live in memory only, so a failed request cannot get them back from SQLite: after
 * `checkpoint()` the first `edit` of a partition swaps a clone in and leaves the original in the
 * map's journal, and `rollback()` puts the originals back. Copy-on-first-touch costs O(ranges) of the
 * partitions a request touches, never of the group.
 */

import { DeadlineHeap } from "../deadline-heap.ts";
import { partitionKey } from "../group.ts";
import { type Undoable, UndoMap, UndoSet } from "../undo.ts";
import { SharePartition } from "./share-partition.ts";
import type { SharePartitionRecord } from "./share-types.ts";

export class PartitionTable implements Undoable {
  private readonly map = new UndoMap<string, SharePartition>();
  /** Keys whose row must be written (or deleted) since the last `markSaved`. */
  private readonly changed = new UndoSet<string>();
  /** Key -> the partition's earliest lock deadline (volatile, as the locks). */
  private readonly locks = new DeadlineHeap();
  /** Keys cloned since the checkpoint; null while no checkpoint is open. */
  private copied: Set<string> | null = null;

  constructor(records: Iterable<SharePartitionRecord> = []) {
    for (const r of records) this.map.set(partitionKey(r.topic, r.partition), SharePartition.fromRecord(r));
  }

  checkpoint(): void {
    this.map.checkpoint();
    this.changed.checkpoint();
    this.locks.checkpoint();
    this.copied = new Set();
  }

  rollback(): void {
    this.map.rollback();
    this.changed.rollback();
    this.locks.rollback();
    this.copied = null;
  }

  release(): void {
    this.map.release();
    this.changed.release();
    this.locks.release();
    this.copied = null;
  }

  get size(): number {
    return this.map.size;
  }

  /** For reading only: a change must go through `edit`. */
  get(key: string): SharePartition | undefined {
    return this.map.get(key);
  }

  values(): IterableIterator<SharePartition> {
    return this.map.values();
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  /**
   * The partition to change (created when `create` and absent). Call `settle` after changing it.
   */
  edit(topic: string, partition: number, create = false): SharePartition | undefined {
    const key = partitionKey(topic, partition);
    const sp = this.map.get(key);
    if (!sp) {
      if (!create) return undefined;
      const fresh = SharePartition.create(topic, partition);
      this.map.set(key, fresh);
      this.copied?.add(key);
      return fresh;
    }
    if (!this.copied || this.copied.has(key)) return sp;
    const copy = sp.clone();
    this.map.set(key, copy);
    this.copied.add(key);
    return copy;
  }

  /** After an edit: the lock deadline follows the partition, and its row is marked if it changed. */
  settle(sp: SharePartition): void {
    const key = partitionKey(sp.topic, sp.partition);
    const deadline = sp.nextLockDeadline();
    if (deadline === null) this.locks.delete(key);
    else if (this.locks.get(key) !== deadline) this.locks.set(key, deadline);
    if (sp.dirty && !this.changed.has(key)) this.changed.add(key);
  }

  delete(key: string): void {
    if (!this.map.has(key)) return;
    this.map.delete(key);
    this.locks.delete(key);
    this.changed.add(key);
  }

  /** Keys of partitions with a lock expired at `now`. */
  dueLocks(now: number): string[] {
    return this.locks.due(now);
  }

  nextLockDeadline(): number | null {
    return this.locks.min();
  }

  get dirty(): boolean {
    return this.changed.size > 0;
  }

  /** The rows to write: each changed partition's record, undefined for a deleted one. */
  dirtyRows(): Map<string, SharePartitionRecord | undefined> {
    const out = new Map<string, SharePartitionRecord | undefined>();
    for (const key of this.changed) out.set(key, this.map.get(key)?.toRecord());
    return out;
  }

  /** The rows were written: forget the marks (the partitions' own too). */
  markSaved(): void {
    for (const key of this.changed) this.map.get(key)?.markSaved();
    this.changed.clear();
  }
}
