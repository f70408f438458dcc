/**
 * One share-partition (API.md §7, Kafka's SharePartition): SPSO, SPEO, the log bounds members reported,
 * and the offset ranges in flight between SPSO and SPEO. Pure: no I/O, time passed in. Every operation
 * costs O(log ranges + ranges touched) — never a walk over offsets — except the ones that must look at
 * every range by nature (lock expiry, a member's release), which are O(ranges) ≤ O(maxInFlight).
 */

import type { CohortError } from "../errors.ts";
import { isDone, type Range, RangeList, size } from "./ranges.ts";
import type {
  AcknowledgeType,
  AcquiredRecords,
  ArchivedRange,
  ArchiveReason,
  InFlightCounts,
  RangeRecord,
  SharePartitionRecord,
  ShareSettings,
} from "./share-types.ts";

/** A range as tests and describe see it (a copy). */
export type RangeView = Readonly<Range>;

export class SharePartition {
  readonly topic: string;
  readonly partition: number;
  private spso: number | null = null;
  private speo: number | null = null;
  private logEnd: number | null = null;
  private logStart: number | null = null;
  private list = new RangeList();
  private changed = false;

  private constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  static create(topic: string, partition: number): SharePartition {
    return new SharePartition(topic, partition);
  }

  /** Rebuilds the state; offsets of [startOffset, endOffset) no range covers are available, count 0. */
  static fromRecord(record: SharePartitionRecord): SharePartition {
    const sp = new SharePartition(record.topic, record.partition);
    sp.logEnd = record.logEndOffset;
    sp.logStart = record.logStartOffset;
    const start = record.startOffset;
    if (start === null) return sp;
    let next = start;
    for (const [first, last, state, count] of [...record.ranges].sort((a, b) => a[0] - b[0])) {
      const from = Math.max(first, next);
      if (last < from) continue;
      if (from > next) sp.list.push(available(next, from - 1, 0));
      sp.list.push({
        first: from,
        last,
        state,
        count: state === "acknowledged" ? 0 : count,
        owner: null,
        lockUntil: 0,
      });
      next = last + 1;
    }
    const end = Math.max(record.endOffset ?? start, next);
    if (end > next) sp.list.push(available(next, end - 1, 0));
    sp.list.coalesce(0, sp.list.items.length - 1);
    sp.spso = start;
    sp.speo = end;
    sp.advance();
    sp.changed = false;
    return sp;
  }

  get startOffset(): number | null {
    return this.spso;
  }
  get endOffset(): number | null {
    return this.speo;
  }
  get logEndOffset(): number | null {
    return this.logEnd;
  }
  get logStartOffset(): number | null {
    return this.logStart;
  }
  get rangeCount(): number {
    return this.list.items.length;
  }
  get dirty(): boolean {
    return this.changed;
  }
  markSaved(): void {
    this.changed = false;
  }

  report(
    logEndOffset: number | undefined,
    logStartOffset: number | undefined,
    now: number,
    s: ShareSettings,
  ): ArchivedRange[] {
    if (logEndOffset !== undefined && (this.logEnd === null || logEndOffset > this.logEnd)) {
      this.logEnd = logEndOffset;
      this.changed = true;
    }
    if (logStartOffset !== undefined && (this.logStart === null || logStartOffset > this.logStart)) {
      this.logStart = logStartOffset;
      this.changed = true;
    }
    if (this.spso === null) {
      const init =
        s.autoOffsetReset === "latest"
          ? this.logEnd
          : this.logStart !== null || this.logEnd !== null
            ? (this.logStart ?? 0)
            : null;
      if (init === null) return [];
      this.spso = this.speo = init;
      this.changed = true;
    }
    if (this.logStart === null || this.logStart <= this.spso) return [];
    return this.archiveBelow(this.logStart, now);
  }

  canAcquire(s: ShareSettings): boolean {
    if (this.spso === null || this.speo === null || this.logEnd === null) return false;
    if (
      this.list.counts.available > 0 &&
      this.list.items.some((r) => r.state === "available" && r.first < this.logEnd!)
    )
      return true;
    return this.speo < Math.min(this.logEnd, this.spso + s.maxInFlight);
  }

  acquire(memberId: string, max: number, now: number, s: ShareSettings): AcquiredRecords[] {
    const out: AcquiredRecords[] = [];
    if (this.spso === null || this.speo === null || this.logEnd === null || !(max >= 1)) return out;
    const lock = now + s.lockDurationMs;
    const logEnd = this.logEnd;
    const items = this.list.items;
    let remaining = Math.floor(max);
    if (this.list.counts.available > 0) {
      let lo = -1;
      let hi = -1;
      for (let i = 0; i < this.list.items.length && remaining > 0; i++) {
        const r = this.list.items[i]!;
        if (r.first >= logEnd) break;
        if (r.state !== "available") continue;
        const last = Math.min(r.last, r.first + remaining - 1, logEnd - 1);
        if (last < r.last) this.list.splitAt(last + 1);
        this.list.set(r, "acquired", r.count + 1, memberId, lock);
        this.emit(out, r.first, r.last, r.count);
        remaining -= size(r);
        if (lo < 0) lo = i;
        hi = i;
      }
      if (lo >= 0) this.list.coalesce(lo - 1, hi + 1);
    }
    const cap = Math.min(logEnd, this.spso + s.maxInFlight);
    if (remaining > 0 && this.speo < cap) {
      const take = Math.min(remaining, cap - this.speo);
      const first = this.speo;
      this.list.push({
        first,
        last: first + take - 1,
        state: "acquired",
        count: 1,
        owner: memberId,
        lockUntil: lock,
      });
      this.list.coalesce(items.length - 2, items.length - 1);
      this.speo += take;
      this.emit(out, first, first + take - 1, 1);
    }
    return out;
  }

  acknowledge(
    memberId: string,
    first: number,
    last: number,
    type: AcknowledgeType,
    now: number,
    s: ShareSettings,
  ): { error: CohortError | null; archived: ArchivedRange[] } {
    const refused = this.checkHeld(memberId, first, last, now);
    if (refused) return { error: refused, archived: [] };
    const a = this.list.splitAt(first);
    const b = this.list.splitAt(last + 1);
    const archived: ArchivedRange[] = [];
    for (let k = a; k < b; k++) {
      const r = this.list.items[k]!;
      if (type === "renew") this.list.set(r, "acquired", r.count, memberId, now + s.lockDurationMs);
      else if (type === "accept") this.list.set(r, "acknowledged", 0, null, 0);
      else if (type === "reject") this.archive(r, "rejected", now, archived);
      else this.settle(r, true, now, s, archived);
    }
    this.list.coalesce(a - 1, b);
    if (type !== "renew") {
      this.changed = true;
      this.advance();
    }
    return { error: null, archived };
  }

  expireLocks(now: number, s: ShareSettings): ArchivedRange[] {
    const next = this.list.nextLockDeadline();
    if (next === null || next > now) return [];
    return this.settleWhere((r) => r.lockUntil <= now, true, now, s);
  }

  releaseMember(memberId: string, countAsDelivery: boolean, now: number, s: ShareSettings): ArchivedRange[] {
    if (this.list.counts.acquired === 0) return [];
    return this.settleWhere((r) => r.owner === memberId, countAsDelivery, now, s);
  }

  nextLockDeadline(): number | null {
    return this.list.nextLockDeadline();
  }

  redrive(first: number, last: number, below: ArchivedRange[], _now: number): number {
    if (this.spso === null || this.speo === null || first > last) return 0;
    // Offsets under the log start are gone from the log: nobody could read them, so they stay archived.
    const from = Math.max(first, this.logStart ?? 0);
    let redriven = 0;
    const inFirst = Math.max(from, this.spso);
    const inLast = Math.min(last, this.speo - 1);
    if (inFirst <= inLast && this.list.counts.archived > 0) {
      const lo = this.list.splitAt(inFirst);
      const hi = this.list.splitAt(inLast + 1);
      for (let k = lo; k < hi; k++) {
        const r = this.list.items[k]!;
        if (r.state !== "archived") continue;
        this.list.set(r, "available", 0, null, 0);
        redriven += size(r);
      }
      this.list.coalesce(lo - 1, hi);
    }
    const mine = below.filter((r) => r.topic === this.topic && r.partition === this.partition);
    redriven += this.redriveBelow(from, last, mine);
    if (redriven > 0) this.changed = true;
    this.advance();
    return redriven;
  }

  reset(offset: number): void {
    this.list.clear();
    this.spso = this.speo = offset;
    this.changed = true;
  }

  counts(): InFlightCounts {
    return { ...this.list.counts };
  }

  lag(): number | null {
    if (this.logEnd === null || this.spso === null) return null;
    const c = this.list.counts;
    return Math.max(0, this.logEnd - this.spso - c.acknowledged - c.archived);
  }

  toRecord(): SharePartitionRecord {
    const ranges: RangeRecord[] = [];
    for (const r of this.list.items) {
      const state = r.state === "acquired" ? "available" : r.state;
      const count = r.state === "acquired" ? r.count - 1 : r.count;
      if (state === "available" && count === 0) continue; // the default for what no range covers
      const prev = ranges[ranges.length - 1];
      if (prev && prev[1] === r.first - 1 && prev[2] === state && prev[3] === count) prev[1] = r.last;
      else ranges.push([r.first, r.last, state, count]);
    }
    const tail = ranges[ranges.length - 1];
    return {
      topic: this.topic,
      partition: this.partition,
      startOffset: this.spso,
      // Trailing never-delivered offsets are left out: restored, they are simply new again.
      endOffset: this.spso === null ? null : tail ? tail[1] + 1 : this.spso,
      logEndOffset: this.logEnd,
      logStartOffset: this.logStart,
      ranges,
    };
  }

  clone(): SharePartition {
    const copy = new SharePartition(this.topic, this.partition);
    copy.spso = this.spso;
    copy.speo = this.speo;
    copy.logEnd = this.logEnd;
    copy.logStart = this.logStart;
    copy.list = this.list.clone();
    copy.changed = this.changed;
    return copy;
  }

  /** The ranges in flight, oldest first (copies). */
  view(): RangeView[] {
    return this.list.items.map((r) => ({ ...r }));
  }

  /**
   * Redrive under SPSO: the listed offsets inside [from, last] become available (count 0) and SPSO moves
   * back to the lowest; between it and the old SPSO, listed offsets outside [from, last] stay archived
   * and every other one is acknowledged (SPSO had passed it, so it was done and not archived).
   */
  private redriveBelow(from: number, last: number, below: ArchivedRange[]): number {
    const spso = this.spso!;
    // The lowest offset redriven: SPSO moves back to it.
    let low = spso;
    for (const r of below)
      if (r.lastOffset >= from && r.firstOffset <= Math.min(last, spso - 1))
        low = Math.min(low, Math.max(from, r.firstOffset));
    if (low >= spso) return 0;
    const head: Range[] = [];
    const put = (first: number, end: number, state: Range["state"], count: number): void => {
      if (end >= first) head.push({ first, last: end, state, count, owner: null, lockUntil: 0 });
    };
    let next = low;
    let redriven = 0;
    for (const r of below
      .filter((x) => x.lastOffset >= low && x.firstOffset < spso)
      .sort((x, y) => x.firstOffset - y.firstOffset)) {
      const f = Math.max(r.firstOffset, next);
      const l = Math.min(r.lastOffset, spso - 1);
      if (l < f) continue;
      put(next, f - 1, "acknowledged", 0);
      const inF = Math.max(f, from);
      const inL = Math.min(l, last);
      if (inF > inL) put(f, l, "archived", r.deliveryCount);
      else {
        put(f, inF - 1, "archived", r.deliveryCount);
        put(inF, inL, "available", 0);
        put(inL + 1, l, "archived", r.deliveryCount);
        redriven += inL - inF + 1;
      }
      next = l + 1;
    }
    put(next, spso - 1, "acknowledged", 0);
    this.list.prepend(head);
    this.list.coalesce(0, head.length);
    this.spso = low;
    return redriven;
  }

  /** Null when every offset of [first, last] is acquired by `memberId` with a live lock. */
  private checkHeld(memberId: string, first: number, last: number, now: number): CohortError | null {
    const refuse = (why: string): CohortError => ({
      code: "INVALID_RECORD_STATE",
      message: `offsets ${first}…${last} of ${this.topic}/${this.partition} ${why}`,
    });
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first > last)
      return refuse("are no range");
    if (this.spso === null || this.speo === null || first < this.spso || last >= this.speo)
      return refuse("are not all in flight");
    for (let k = this.list.find(first); k < this.list.items.length; k++) {
      const r = this.list.items[k]!;
      if (r.first > last) break;
      if (r.state !== "acquired" || r.owner !== memberId)
        return refuse(`are not all acquired by ${memberId}`);
      if (r.lockUntil <= now) return refuse("have an expired acquisition lock");
    }
    return null;
  }

  /** Ends the locks of the acquired ranges `which` selects: available again, or archived at the limit. */
  private settleWhere(which: (r: Range) => boolean, countAsDelivery: boolean, now: number, s: ShareSettings) {
    const archived: ArchivedRange[] = [];
    let lo = -1;
    let hi = -1;
    const items = this.list.items;
    for (let k = 0; k < items.length; k++) {
      const r = items[k]!;
      if (r.state !== "acquired" || !which(r)) continue;
      this.settle(r, countAsDelivery, now, s, archived);
      if (lo < 0) lo = k;
      hi = k;
    }
    if (lo < 0) return archived;
    this.list.coalesce(lo - 1, hi + 1);
    if (countAsDelivery || archived.length > 0) this.changed = true;
    this.advance();
    return archived;
  }

  /** An acquired range's lock ends: a counted delivery at the limit archives it, else it is available. */
  private settle(
    r: Range,
    countAsDelivery: boolean,
    now: number,
    s: ShareSettings,
    out: ArchivedRange[],
  ): void {
    if (!countAsDelivery) this.list.set(r, "available", r.count - 1, null, 0);
    else if (r.count >= s.deliveryCountLimit) this.archive(r, "delivery_limit", now, out);
    else this.list.set(r, "available", r.count, null, 0);
  }

  private archive(r: Range, reason: ArchiveReason, now: number, out: ArchivedRange[]): void {
    this.list.set(r, "archived", r.count, null, 0);
    const prev = out[out.length - 1];
    if (prev && prev.lastOffset === r.first - 1 && prev.deliveryCount === r.count && prev.reason === reason)
      prev.lastOffset = r.last;
    else
      out.push({
        topic: this.topic,
        partition: this.partition,
        firstOffset: r.first,
        lastOffset: r.last,
        deliveryCount: r.count,
        reason,
        archivedAt: now,
      });
  }

  /** A log start above SPSO: what was not done below it is archived ("log_start"), and SPSO moves up. */
  private archiveBelow(logStart: number, now: number): ArchivedRange[] {
    const archived: ArchivedRange[] = [];
    const cut = this.list.splitAt(logStart);
    for (let k = 0; k < cut; k++) {
      const r = this.list.items[k]!;
      if (!isDone(r.state)) this.archive(r, "log_start", now, archived);
    }
    this.list.dropHead(cut);
    this.spso = logStart;
    if (this.speo! < logStart) this.speo = logStart;
    this.changed = true;
    this.advance();
    return archived;
  }

  /** SPSO moves past the done prefix. */
  private advance(): void {
    const k = this.list.donePrefix();
    if (k === 0) return;
    this.list.dropHead(k);
    this.spso = this.list.items[0]?.first ?? this.speo;
    this.changed = true;
  }

  /** Appends [first, last] with `count` to the acquired output, merging a contiguous equal-count piece. */
  private emit(out: AcquiredRecords[], first: number, last: number, count: number): void {
    const prev = out[out.length - 1];
    if (prev && prev.lastOffset === first - 1 && prev.deliveryCount === count) prev.lastOffset = last;
    else
      out.push({
        topic: this.topic,
        partition: this.partition,
        firstOffset: first,
        lastOffset: last,
        deliveryCount: count,
      });
  }
}

const available = (first: number, last: number, count: number): Range => ({
  first,
  last,
  state: "available",
  count,
  owner: null,
  lockUntil: 0,
});
