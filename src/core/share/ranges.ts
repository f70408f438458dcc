/**
 * The offset ranges of one share-partition between SPSO and SPEO: a sorted array of disjoint ranges
 * that covers [SPSO, SPEO) without gaps, each with one state, delivery count, owner and lock. As in
 * Kafka's SharePartition (in-flight batches that split only when partly acknowledged), a range splits
 * only where an operation's bounds fall inside it, and equal neighbours are merged again, so the
 * array holds one entry per distinct run, never one per offset. Per-state offset counts and the
 * earliest lock deadline are kept alongside, so no query needs a walk over offsets.
 */

import type { InFlightCounts, RecordState } from "./share-types.ts";

export interface Range {
  first: number;
  last: number;
  state: RecordState;
  /** Delivery count; 0 for acknowledged ranges (nothing reads it, and forgetting it lets them merge). */
  count: number;
  /** The member holding the lock (acquired only), else null. */
  owner: string | null;
  /** Lock deadline (acquired only), else 0. */
  lockUntil: number;
}

export const isDone = (state: RecordState): boolean => state === "acknowledged" || state === "archived";

const same = (a: Range, b: Range): boolean =>
  a.state === b.state && a.count === b.count && a.owner === b.owner && a.lockUntil === b.lockUntil;

export const size = (r: Range): number => r.last - r.first + 1;

export class RangeList {
  items: Range[] = [];
  readonly counts: InFlightCounts = { acquired: 0, available: 0, acknowledged: 0, archived: 0 };
  /** The earliest lock deadline, valid unless `lockStale` (then recomputed on demand). */
  private minLock: number | null = null;
  private lockStale = false;

  /** Index of the range holding `offset`, or -1 (binary search). */
  find(offset: number): number {
    let lo = 0;
    let hi = this.items.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = this.items[mid]!;
      if (offset < r.first) hi = mid - 1;
      else if (offset > r.last) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** Index of the range starting at `offset`, splitting the range holding it; `items.length` past the end. */
  splitAt(offset: number): number {
    const i = this.find(offset);
    if (i < 0) return offset < (this.items[0]?.first ?? offset + 1) ? 0 : this.items.length;
    const r = this.items[i]!;
    if (r.first === offset) return i;
    this.items.splice(i + 1, 0, { ...r, first: offset });
    r.last = offset - 1;
    return i + 1;
  }

  /** Appends a range at the end (the caller keeps the array contiguous). */
  push(r: Range): void {
    this.items.push(r);
    this.counts[r.state] += size(r);
    this.noteLock(r);
  }

  /** Prepends ranges (already sorted, contiguous with the head) at the start. */
  prepend(rs: Range[]): void {
    for (const r of rs) {
      this.counts[r.state] += size(r);
      this.noteLock(r);
    }
    this.items.unshift(...rs);
  }

  /** Changes one range in place, keeping the counts and the lock deadline right. */
  set(r: Range, state: RecordState, count: number, owner: string | null, lockUntil: number): void {
    const n = size(r);
    this.counts[r.state] -= n;
    this.counts[state] += n;
    this.forgetLock(r);
    r.state = state;
    r.count = state === "acknowledged" ? 0 : count;
    r.owner = owner;
    r.lockUntil = lockUntil;
    this.noteLock(r);
  }

  /** Removes items[0 … n−1] (offsets that left the window). */
  dropHead(n: number): void {
    if (n <= 0) return;
    for (let i = 0; i < n; i++) {
      const r = this.items[i]!;
      this.counts[r.state] -= size(r);
      this.forgetLock(r);
    }
    this.items.splice(0, n);
  }

  /** How many leading ranges are done (acknowledged or archived). */
  donePrefix(): number {
    let k = 0;
    while (k < this.items.length && isDone(this.items[k]!.state)) k++;
    return k;
  }

  /** Merges equal neighbours among items[lo … hi] (clamped), the window an operation touched ± 1. */
  coalesce(lo: number, hi: number): void {
    const from = Math.max(0, lo);
    const to = Math.min(this.items.length - 1, hi);
    if (to <= from) return;
    const out: Range[] = [this.items[from]!];
    for (let k = from + 1; k <= to; k++) {
      const prev = out[out.length - 1]!;
      const r = this.items[k]!;
      if (same(prev, r)) prev.last = r.last;
      else out.push(r);
    }
    if (out.length !== to - from + 1) this.items.splice(from, to - from + 1, ...out);
  }

  nextLockDeadline(): number | null {
    if (this.lockStale) {
      let min: number | null = null;
      if (this.counts.acquired > 0)
        for (const r of this.items)
          if (r.state === "acquired" && (min === null || r.lockUntil < min)) min = r.lockUntil;
      this.minLock = min;
      this.lockStale = false;
    }
    return this.minLock;
  }

  clone(): RangeList {
    const copy = new RangeList();
    copy.items = this.items.map((r) => ({ ...r }));
    Object.assign(copy.counts, this.counts);
    copy.minLock = this.minLock;
    copy.lockStale = this.lockStale;
    return copy;
  }

  clear(): void {
    this.items = [];
    this.counts.acquired = this.counts.available = this.counts.acknowledged = this.counts.archived = 0;
    this.minLock = null;
    this.lockStale = false;
  }

  private noteLock(r: Range): void {
    if (r.state !== "acquired" || this.lockStale) return;
    if (this.minLock === null || r.lockUntil < this.minLock) this.minLock = r.lockUntil;
  }

  private forgetLock(r: Range): void {
    if (r.state === "acquired" && r.lockUntil === this.minLock) this.lockStale = true;
  }
}
