/**
 * Partition -> member slot, per topic in a growable Int32Array (-1: nobody), and the slots themselves
 * (member id <-> small integer). The consumer group keeps two: who owns each partition now
 * (assigned or being revoked) and whose target holds it. At 100,000 partitions that is 400 KB per
 * index instead of a Map of 100,000 string keys rebuilt on every event.
 */
import type { PartitionMap } from "./partitions.ts";

export class PartitionIndex {
  private readonly topics = new Map<string, Int32Array>();
  /** Entries set per topic, so callers can tell which topics hold anything. */
  private readonly counts = new Map<string, number>();

  get(topic: string, partition: number): number {
    const slots = this.topics.get(topic);
    return slots !== undefined && partition < slots.length ? slots[partition]! : -1;
  }

  set(topic: string, partition: number, slot: number): void {
    const slots = this.slotsFor(topic, partition);
    if (slots[partition] === -1) this.counts.set(topic, (this.counts.get(topic) ?? 0) + 1);
    slots[partition] = slot;
  }

  /** The topic's slots, grown to hold `partition`. */
  private slotsFor(topic: string, partition: number): Int32Array {
    let slots = this.topics.get(topic);
    if (slots === undefined || partition >= slots.length) {
      const grown = new Int32Array(Math.max(partition + 1, (slots?.length ?? 0) * 2, 8)).fill(-1);
      if (slots) grown.set(slots);
      slots = grown;
      this.topics.set(topic, slots);
    }
    return slots;
  }

  /** Clears the entry if `slot` holds it (another member may have taken it meanwhile). */
  clear(topic: string, partition: number, slot: number): void {
    const slots = this.topics.get(topic);
    if (slots === undefined || partition >= slots.length || slots[partition] !== slot) return;
    slots[partition] = -1;
    this.counts.set(topic, this.counts.get(topic)! - 1);
  }

  /** `set` for every partition of `map`, looking each topic up once (a rebalance adds whole targets). */
  add(map: PartitionMap, slot: number): void {
    for (const topic in map) {
      const list = map[topic]!;
      if (list.length === 0) continue;
      let top = -1;
      for (const p of list) if (p > top) top = p;
      const slots = this.slotsFor(topic, top);
      let added = 0;
      for (const p of list) {
        if (slots[p] === -1) added++;
        slots[p] = slot;
      }
      if (added > 0) this.counts.set(topic, (this.counts.get(topic) ?? 0) + added);
    }
  }

  /** `clear` for every partition of `map`, looking each topic up once. */
  remove(map: PartitionMap, slot: number): void {
    for (const topic in map) {
      const slots = this.topics.get(topic);
      if (slots === undefined) continue;
      let removed = 0;
      for (const p of map[topic]!) {
        if (p >= slots.length || slots[p] !== slot) continue;
        slots[p] = -1;
        removed++;
      }
      if (removed > 0) this.counts.set(topic, this.counts.get(topic)! - removed);
    }
  }

  /** Topics with at least one entry. */
  *usedTopics(): Iterable<string> {
    for (const [topic, n] of this.counts) if (n > 0) yield topic;
  }

  /** The raw slots of a topic (read-only use), or undefined. */
  slotsOf(topic: string): Int32Array | undefined {
    return this.topics.get(topic);
  }
}

/** Member ids as small reusable integers, for the indexes and the uniform fast path. */
export class MemberSlots {
  private readonly slotOf = new Map<string, number>();
  private readonly idOf: (string | undefined)[] = [];
  private readonly free: number[] = [];

  get capacity(): number {
    return this.idOf.length;
  }

  of(id: string): number {
    let slot = this.slotOf.get(id);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.idOf.length;
      this.idOf[slot] = id;
      this.slotOf.set(id, slot);
    }
    return slot;
  }

  id(slot: number): string | undefined {
    return slot < 0 ? undefined : this.idOf[slot];
  }

  release(id: string): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    this.slotOf.delete(id);
    this.idOf[slot] = undefined;
    this.free.push(slot);
  }

  /** Gives `from`'s slot to `to` (a static member taking over under a new id). */
  rename(from: string, to: string): void {
    const slot = this.slotOf.get(from);
    if (slot === undefined) return;
    this.slotOf.delete(from);
    this.slotOf.set(to, slot);
    this.idOf[slot] = to;
  }
}
