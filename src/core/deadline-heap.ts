/**
 * Deadlines by key (a member id, or a timer's name) in an indexed binary min-heap: set, delete and the
 * earliest one in O(log n) / O(1), so a steady heartbeat at 10,000 members moves its session deadline
 * without a scan of every member, and a mass expiry takes the due keys earliest first in O(log n) each
 * (the alarm must never be armed later than the earliest deadline). Every group type uses it.
 *
 * Deadlines are volatile (never persisted), so a failed request cannot get them back from SQLite: after
 * `checkpoint()` the heap journals the previous value of each key it touches, and `rollback()` puts
 * exactly those back. The journal costs O(keys touched), never O(keys).
 */
export class DeadlineHeap {
  private readonly ids: string[] = [];
  private readonly at: number[] = [];
  private readonly position = new Map<string, number>();
  /** Since the checkpoint: each touched key's deadline before its first change (undefined: absent). */
  private journal: Map<string, number | undefined> | null = null;
  private journaling = false;

  /** Starts journaling changes (a new checkpoint replaces the previous one). */
  checkpoint(): void {
    this.journaling = true;
    this.journal = null;
  }

  /** Puts back every deadline changed since the checkpoint, and stops journaling. */
  rollback(): void {
    const journal = this.journal;
    this.release();
    if (!journal) return;
    for (const [id, before] of journal) {
      if (before === undefined) this.delete(id);
      else this.set(id, before);
    }
  }

  /** Keeps the changes since the checkpoint, and stops journaling. */
  release(): void {
    this.journaling = false;
    this.journal = null;
  }

  private remember(id: string): void {
    if (!this.journaling) return;
    this.journal ??= new Map();
    if (!this.journal.has(id)) this.journal.set(id, this.get(id));
  }

  get size(): number {
    return this.ids.length;
  }

  has(id: string): boolean {
    return this.position.has(id);
  }

  get(id: string): number | undefined {
    const i = this.position.get(id);
    return i === undefined ? undefined : this.at[i];
  }

  /** The earliest deadline, or null when there is none. */
  min(): number | null {
    return this.ids.length === 0 ? null : this.at[0]!;
  }

  /** The key with the earliest deadline, or undefined when there is none. */
  first(): string | undefined {
    return this.ids[0];
  }

  set(id: string, deadline: number): void {
    this.remember(id);
    const i = this.position.get(id);
    if (i === undefined) {
      this.ids.push(id);
      this.at.push(deadline);
      this.position.set(id, this.ids.length - 1);
      this.up(this.ids.length - 1);
      return;
    }
    const before = this.at[i]!;
    this.at[i] = deadline;
    if (deadline < before) this.up(i);
    else this.down(i);
  }

  /** Removes `id`'s deadline; true when it had one. */
  delete(id: string): boolean {
    const i = this.position.get(id);
    if (i === undefined) return false;
    this.remember(id);
    const last = this.ids.length - 1;
    this.position.delete(id);
    if (i !== last) {
      this.place(i, this.ids[last]!, this.at[last]!);
      this.ids.pop();
      this.at.pop();
      this.up(i);
      this.down(i);
    } else {
      this.ids.pop();
      this.at.pop();
    }
    return true;
  }

  /** Ids whose deadline is at or before `now` (no particular order). */
  due(now: number): string[] {
    const out: string[] = [];
    // Only subtrees whose root is due can hold due deadlines.
    const stack = this.ids.length > 0 ? [0] : [];
    while (stack.length > 0) {
      const i = stack.pop()!;
      if (this.at[i]! > now) continue;
      out.push(this.ids[i]!);
      for (const c of [2 * i + 1, 2 * i + 2]) if (c < this.ids.length) stack.push(c);
    }
    return out;
  }

  private place(i: number, id: string, deadline: number): void {
    this.ids[i] = id;
    this.at[i] = deadline;
    this.position.set(id, i);
  }

  private up(start: number): void {
    const id = this.ids[start]!;
    const d = this.at[start]!;
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.at[parent]! <= d) break;
      this.place(i, this.ids[parent]!, this.at[parent]!);
      i = parent;
    }
    this.place(i, id, d);
  }

  private down(start: number): void {
    const n = this.ids.length;
    const id = this.ids[start]!;
    const d = this.at[start]!;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.at[child + 1]! < this.at[child]!) child++;
      if (this.at[child]! >= d) break;
      this.place(i, this.ids[child]!, this.at[child]!);
      i = child;
    }
    this.place(i, id, d);
  }
}
