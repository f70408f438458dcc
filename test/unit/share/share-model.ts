/**
 * The reference model of one share-partition for the model test: the rules of API.md §7 written the
 * obvious way, one entry per offset, with no ranges, merging or caches. SharePartition must agree
 * with it after every operation.
 */
import type {
  AcknowledgeType,
  AcquiredRecords,
  ArchivedRange,
  ArchiveReason,
  RecordState,
  ShareSettings,
} from "../../../src/core/share/share-types.ts";

export interface Slot {
  state: RecordState;
  count: number;
  owner: string | null;
  lockUntil: number;
}

const free = (count: number): Slot => ({ state: "available", count, owner: null, lockUntil: 0 });
const done = (s: RecordState) => s === "acknowledged" || s === "archived";

export class ModelPartition {
  spso: number | null = null;
  speo: number | null = null;
  logEnd: number | null = null;
  logStart: number | null = null;
  slots = new Map<number, Slot>();

  readonly s: ShareSettings;

  constructor(s: ShareSettings) {
    this.s = s;
  }

  report(logEnd: number | undefined, logStart: number | undefined, now: number): ArchivedRange[] {
    if (logEnd !== undefined) this.logEnd = Math.max(this.logEnd ?? logEnd, logEnd);
    if (logStart !== undefined) this.logStart = Math.max(this.logStart ?? logStart, logStart);
    if (this.spso === null) {
      if (this.s.autoOffsetReset === "latest") {
        if (this.logEnd === null) return [];
        this.spso = this.speo = this.logEnd;
      } else {
        if (this.logEnd === null && this.logStart === null) return [];
        this.spso = this.speo = this.logStart ?? 0;
      }
    }
    const out: ArchivedRange[] = [];
    if (this.logStart !== null && this.logStart > this.spso) {
      for (let o = this.spso; o < Math.min(this.speo!, this.logStart); o++) {
        const slot = this.slots.get(o)!;
        if (!done(slot.state)) archive(out, o, slot.count, "log_start", now);
        this.slots.delete(o);
      }
      this.spso = this.logStart;
      this.speo = Math.max(this.speo!, this.logStart);
      this.advance();
    }
    return out;
  }

  acquire(member: string, max: number, now: number): AcquiredRecords[] {
    const out: AcquiredRecords[] = [];
    if (this.spso === null || this.logEnd === null) return out;
    let left = max;
    const take = (o: number, slot: Slot) => {
      slot.state = "acquired";
      slot.count += 1;
      slot.owner = member;
      slot.lockUntil = now + this.s.lockDurationMs;
      const prev = out[out.length - 1];
      if (prev && prev.lastOffset === o - 1 && prev.deliveryCount === slot.count) prev.lastOffset = o;
      else out.push({ topic: "t", partition: 0, firstOffset: o, lastOffset: o, deliveryCount: slot.count });
      left--;
    };
    for (let o = this.spso; o < this.speo! && o < this.logEnd && left > 0; o++) {
      const slot = this.slots.get(o)!;
      if (slot.state === "available") take(o, slot);
    }
    while (left > 0 && this.speo! < Math.min(this.logEnd, this.spso + this.s.maxInFlight)) {
      const slot = free(0);
      this.slots.set(this.speo!, slot);
      take(this.speo!, slot);
      this.speo! += 1;
    }
    return out;
  }

  acknowledge(member: string, first: number, last: number, type: AcknowledgeType, now: number) {
    const archived: ArchivedRange[] = [];
    if (this.spso === null || first > last || first < this.spso || last >= this.speo!)
      return { ok: false, archived };
    for (let o = first; o <= last; o++) {
      const slot = this.slots.get(o)!;
      if (slot.state !== "acquired" || slot.owner !== member || slot.lockUntil <= now)
        return { ok: false, archived };
    }
    for (let o = first; o <= last; o++) {
      const slot = this.slots.get(o)!;
      if (type === "renew") slot.lockUntil = now + this.s.lockDurationMs;
      else if (type === "accept")
        this.slots.set(o, { state: "acknowledged", count: 0, owner: null, lockUntil: 0 });
      else if (type === "reject") this.archiveSlot(archived, o, "rejected", now);
      else this.settle(archived, o, true, now);
    }
    this.advance();
    return { ok: true, archived };
  }

  expire(now: number): ArchivedRange[] {
    return this.settleAll((slot) => slot.lockUntil <= now, true, now);
  }

  releaseMember(member: string, countAsDelivery: boolean, now: number): ArchivedRange[] {
    return this.settleAll((slot) => slot.owner === member, countAsDelivery, now);
  }

  /** `listing`: the archived offsets still listed (offset → count); redriven ones leave it. */
  redrive(first: number, last: number, listing: Map<number, number>): number {
    if (this.spso === null || first > last) return 0;
    const from = Math.max(first, this.logStart ?? 0);
    let n = 0;
    for (let o = Math.max(from, this.spso); o <= Math.min(last, this.speo! - 1); o++)
      if (this.slots.get(o)!.state === "archived") {
        this.slots.set(o, free(0));
        listing.delete(o);
        n++;
      }
    let low = this.spso;
    for (let o = from; o <= Math.min(last, this.spso - 1); o++)
      if (listing.has(o)) {
        low = o;
        break;
      }
    for (let o = low; o < this.spso; o++) {
      const listed = listing.get(o);
      if (listed !== undefined && o >= from && o <= last) {
        this.slots.set(o, free(0));
        listing.delete(o);
        n++;
      } else if (listed !== undefined)
        this.slots.set(o, { state: "archived", count: listed, owner: null, lockUntil: 0 });
      else this.slots.set(o, { state: "acknowledged", count: 0, owner: null, lockUntil: 0 });
    }
    this.spso = low;
    this.advance();
    return n;
  }

  /** A restart: what toRecord keeps (acquired → available at the count before; trailing new offsets dropped). */
  restart(): void {
    if (this.spso === null) return;
    let end = this.spso;
    for (let o = this.spso; o < this.speo!; o++) {
      const slot = this.slots.get(o)!;
      if (slot.state === "acquired") this.slots.set(o, free(slot.count - 1));
      const now = this.slots.get(o)!;
      if (!(now.state === "available" && now.count === 0)) end = o + 1;
    }
    for (let o = end; o < this.speo!; o++) this.slots.delete(o);
    this.speo = end;
  }

  private settleAll(which: (slot: Slot) => boolean, countAsDelivery: boolean, now: number) {
    const out: ArchivedRange[] = [];
    if (this.spso === null) return out;
    for (let o = this.spso; o < this.speo!; o++) {
      const slot = this.slots.get(o)!;
      if (slot.state === "acquired" && which(slot)) this.settle(out, o, countAsDelivery, now);
    }
    this.advance();
    return out;
  }

  private settle(out: ArchivedRange[], o: number, countAsDelivery: boolean, now: number): void {
    const slot = this.slots.get(o)!;
    if (!countAsDelivery) this.slots.set(o, free(slot.count - 1));
    else if (slot.count >= this.s.deliveryCountLimit) this.archiveSlot(out, o, "delivery_limit", now);
    else this.slots.set(o, free(slot.count));
  }

  private archiveSlot(out: ArchivedRange[], o: number, reason: ArchiveReason, now: number): void {
    const count = this.slots.get(o)!.count;
    this.slots.set(o, { state: "archived", count, owner: null, lockUntil: 0 });
    archive(out, o, count, reason, now);
  }

  private advance(): void {
    while (this.spso! < this.speo! && done(this.slots.get(this.spso!)!.state)) {
      this.slots.delete(this.spso!);
      this.spso! += 1;
    }
  }
}

/** Appends offset `o` to `out`, extending the last range when contiguous with the same count and reason. */
export function archive(
  out: ArchivedRange[],
  o: number,
  count: number,
  reason: ArchiveReason,
  now: number,
): void {
  const prev = out[out.length - 1];
  if (prev && prev.lastOffset === o - 1 && prev.deliveryCount === count && prev.reason === reason)
    prev.lastOffset = o;
  else
    out.push({
      topic: "t",
      partition: 0,
      firstOffset: o,
      lastOffset: o,
      deliveryCount: count,
      reason,
      archivedAt: now,
    });
}
