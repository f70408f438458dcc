/**
 * What a share consumer holds: the offsets it acquired, grouped by the acquisition that locked them
 * (a *lock group*: one deadline for all), each either still held or settled (`accept`, `release`,
 * `reject`) and waiting to be sent. Pure and clock-free (times are passed in), so batching and renewal
 * timing are tested with a fake clock.
 *
 * Acknowledgements go out coalesced into ranges, and only within one lock group: the coordinator
 * applies an entry all-or-nothing, so one entry spanning two acquisitions would fail whole if the
 * older lock had lapsed, and take the younger one's acknowledgements down with it.
 */

import type { AcknowledgeEntry, AcknowledgeType, AcquiredRecords } from "./share-types.ts";

export type Settlement = Exclude<AcknowledgeType, "renew">;

/** When a lock is renewed (and settlements flushed): this fraction of the lock after it started. */
export const RENEW_FRACTION = 0.5;

interface Slot {
  /** null: held, not yet settled. */
  type: Settlement | null;
  /** Part of a request in flight. */
  sending: boolean;
}

interface PartitionHold {
  topic: string;
  partition: number;
  slots: Map<number, Slot>;
}

interface LockGroup {
  id: number;
  /** When the coordinator's lock ends, by the client's clock (measured from when the request was sent). */
  deadline: number;
  renewAt: number;
  partitions: Map<string, PartitionHold>;
}

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Coalesces sorted offsets into runs of consecutive offsets for which `same` holds. */
function runs(offsets: number[], same: (a: number, b: number) => boolean): [number, number][] {
  const out: [number, number][] = [];
  for (const offset of offsets) {
    const last = out[out.length - 1];
    if (last && offset === last[1] + 1 && same(last[1], offset)) last[1] = offset;
    else out.push([offset, offset]);
  }
  return out;
}

export class ShareHoldings {
  readonly #groups = new Map<number, LockGroup>();
  #nextId = 1;

  /** Offsets held and not yet settled. */
  get held(): number {
    return this.#count((slot) => slot.type === null);
  }

  /** Settled offsets not yet sent (or in a request in flight). */
  get settled(): number {
    return this.#count((slot) => slot.type !== null);
  }

  /**
   * Records a response's acquired ranges as one lock group, locked until `sentAt + lockMs` (`sentAt`:
   * when the request left, so the client's deadline is never later than the coordinator's). An offset
   * held under an older group was redelivered (its old lock lapsed): only the new lock counts.
   */
  add(records: readonly AcquiredRecords[], sentAt: number, lockMs: number): number {
    const group: LockGroup = {
      id: this.#nextId++,
      deadline: sentAt + lockMs,
      renewAt: sentAt + lockMs * RENEW_FRACTION,
      partitions: new Map(),
    };
    for (const r of records) {
      const key = keyOf(r.topic, r.partition);
      for (const older of this.#groups.values()) {
        const hold = older.partitions.get(key);
        if (!hold) continue;
        for (let o = r.firstOffset; o <= r.lastOffset; o++) hold.slots.delete(o);
        this.#prune(older, key);
      }
      let hold = group.partitions.get(key);
      if (!hold) {
        hold = { topic: r.topic, partition: r.partition, slots: new Map() };
        group.partitions.set(key, hold);
      }
      for (let o = r.firstOffset; o <= r.lastOffset; o++) hold.slots.set(o, { type: null, sending: false });
    }
    if (group.partitions.size > 0) this.#groups.set(group.id, group);
    return group.id;
  }

  /** The lock group holding an offset, or undefined when it is not held (settled and sent, or lost). */
  groupOf(topic: string, partition: number, offset: number): number | undefined {
    const key = keyOf(topic, partition);
    for (const group of this.#groups.values()) {
      if (group.partitions.get(key)?.slots.has(offset)) return group.id;
    }
    return undefined;
  }

  deadlineOf(groupId: number): number | undefined {
    return this.#groups.get(groupId)?.deadline;
  }

  /** Settles a held offset; false when it is not held or already settled. */
  settle(topic: string, partition: number, offset: number, type: Settlement): boolean {
    const slot = this.#slot(topic, partition, offset);
    if (!slot || slot.type !== null) return false;
    slot.type = type;
    return true;
  }

  /**
   * Lets go of every held, unsettled offset without acknowledging it: a consumer closing before it
   * handled them leaves the group next, and the coordinator releases them without counting a delivery.
   */
  forgetHeld(): number {
    let forgotten = 0;
    for (const group of [...this.#groups.values()]) {
      for (const [key, hold] of [...group.partitions]) {
        for (const [offset, slot] of [...hold.slots]) {
          if (slot.type !== null) continue;
          hold.slots.delete(offset);
          forgotten++;
        }
        this.#prune(group, key);
      }
    }
    return forgotten;
  }

  /**
   * Every settled offset not yet in flight (at most `max` entries), as ranges, marked in flight. Pass the entries to `sent`
   * once the coordinator answered, or to `unsent` when the request failed (so they go again later: a
   * repeated acknowledgement is refused harmlessly, a lost one costs a redelivery).
   */
  takeAcknowledgements(max = Number.POSITIVE_INFINITY): AcknowledgeEntry[] {
    const entries: AcknowledgeEntry[] = [];
    for (const group of this.#groups.values()) {
      for (const hold of group.partitions.values()) {
        if (entries.length >= max) return entries;
        const ready = [...hold.slots].filter(([, s]) => s.type !== null && !s.sending).map(([o]) => o);
        ready.sort((a, b) => a - b);
        const typeAt = (o: number) => hold.slots.get(o)!.type;
        for (const [first, last] of runs(ready, (a, b) => typeAt(a) === typeAt(b))) {
          if (entries.length >= max) return entries; // the rest waits for the next request
          const type = typeAt(first)!;
          for (let o = first; o <= last; o++) hold.slots.get(o)!.sending = true;
          entries.push({
            topic: hold.topic,
            partition: hold.partition,
            firstOffset: first,
            lastOffset: last,
            type,
          });
        }
      }
    }
    return entries;
  }

  /** The coordinator answered: these offsets are done with (applied, or refused because the lock is gone). */
  sent(entries: readonly AcknowledgeEntry[]): void {
    this.#each(entries, (group, key, hold, offset) => {
      if (hold.slots.get(offset)?.sending) hold.slots.delete(offset);
      this.#prune(group, key);
    });
  }

  /** The request failed without an answer: the settlements wait for the next request. */
  unsent(entries: readonly AcknowledgeEntry[]): void {
    this.#each(entries, (_group, _key, hold, offset) => {
      const slot = hold.slots.get(offset);
      if (slot) slot.sending = false;
    });
  }

  /**
   * Renew entries for the held offsets of every group whose renewal is due at `now` (or of the groups
   * named), and the groups they cover; pass those to `renewed` when the coordinator confirmed.
   */
  renewals(now: number, only?: ReadonlySet<number>): { entries: AcknowledgeEntry[]; groups: number[] } {
    const entries: AcknowledgeEntry[] = [];
    const groups: number[] = [];
    for (const group of this.#groups.values()) {
      if (only ? !only.has(group.id) : group.renewAt > now) continue;
      let any = false;
      for (const hold of group.partitions.values()) {
        const held = [...hold.slots].filter(([, s]) => s.type === null).map(([o]) => o);
        held.sort((a, b) => a - b);
        for (const [first, last] of runs(held, () => true)) {
          entries.push({
            topic: hold.topic,
            partition: hold.partition,
            firstOffset: first,
            lastOffset: last,
            type: "renew",
          });
          any = true;
        }
      }
      if (any) groups.push(group.id);
    }
    return { entries, groups };
  }

  /** The coordinator restarted these groups' locks at `sentAt` (by the client's clock). */
  renewed(groups: readonly number[], sentAt: number, lockMs: number): void {
    for (const id of groups) {
      const group = this.#groups.get(id);
      if (!group) continue;
      group.deadline = sentAt + lockMs;
      group.renewAt = sentAt + lockMs * RENEW_FRACTION;
    }
  }

  /** A refused renew: the range's lock is gone (expired, or the member removed), so it is not ours. */
  drop(entry: Pick<AcknowledgeEntry, "topic" | "partition" | "firstOffset" | "lastOffset">): void {
    this.#each([entry], (group, key, hold, offset) => {
      if (hold.slots.get(offset)?.type === null) hold.slots.delete(offset);
      this.#prune(group, key);
    });
  }

  /**
   * When the next renewal or flush is due: the earliest `renewAt` of a group with settlements to send,
   * or (with `renew`) with held offsets. null when nothing needs the timer.
   */
  nextDue(renew: boolean): number | null {
    let next: number | null = null;
    for (const group of this.#groups.values()) {
      const needs = this.#any(group, (s) => (s.type !== null && !s.sending) || (renew && s.type === null));
      if (needs && (next === null || group.renewAt < next)) next = group.renewAt;
    }
    return next;
  }

  /** Everything is dropped: the member is gone, and its locks with it. */
  clear(): void {
    this.#groups.clear();
  }

  #slot(topic: string, partition: number, offset: number): Slot | undefined {
    const key = keyOf(topic, partition);
    for (const group of this.#groups.values()) {
      const slot = group.partitions.get(key)?.slots.get(offset);
      if (slot) return slot;
    }
    return undefined;
  }

  #each(
    entries: readonly Pick<AcknowledgeEntry, "topic" | "partition" | "firstOffset" | "lastOffset">[],
    visit: (group: LockGroup, key: string, hold: PartitionHold, offset: number) => void,
  ): void {
    for (const e of entries) {
      const key = keyOf(e.topic, e.partition);
      for (const group of [...this.#groups.values()]) {
        const hold = group.partitions.get(key);
        if (!hold) continue;
        for (let o = e.firstOffset; o <= e.lastOffset; o++) visit(group, key, hold, o);
      }
    }
  }

  #prune(group: LockGroup, key: string): void {
    if (group.partitions.get(key)?.slots.size === 0) group.partitions.delete(key);
    if (group.partitions.size === 0) this.#groups.delete(group.id);
  }

  #any(group: LockGroup, test: (slot: Slot) => boolean): boolean {
    for (const hold of group.partitions.values())
      for (const slot of hold.slots.values()) if (test(slot)) return true;
    return false;
  }

  #count(test: (slot: Slot) => boolean): number {
    let n = 0;
    for (const group of this.#groups.values())
      for (const hold of group.partitions.values())
        for (const slot of hold.slots.values()) if (test(slot)) n++;
    return n;
  }
}
