/**
 * Undo journals for a group's volatile state (deadlines, parked tickets, what members last reported,
 * pending notices): what SQLite cannot give back after a failed request. Each structure, after
 * `checkpoint()`, records the previous value of every key it touches; `rollback()` restores exactly
 * those; `release()` keeps the changes. The cost is O(keys touched), so a steady heartbeat in a
 * 10,000-member group journals one or two keys, never a snapshot of every member.
 */

export interface Undoable {
  checkpoint(): void;
  rollback(): void;
  release(): void;
}

export const isUndoable = (value: unknown): value is Undoable =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Partial<Undoable>).checkpoint === "function" &&
  typeof (value as Partial<Undoable>).rollback === "function";

/** A Map that can undo its changes since a checkpoint (an absent key is journaled as such). */
export class UndoMap<K, V> extends Map<K, V> implements Undoable {
  private journal: Map<K, { had: boolean; value: V | undefined }> | null = null;

  checkpoint(): void {
    this.journal = new Map();
  }

  rollback(): void {
    const journal = this.journal;
    this.journal = null;
    if (!journal) return;
    for (const [key, before] of journal) {
      if (before.had) super.set(key, before.value as V);
      else super.delete(key);
    }
  }

  release(): void {
    this.journal = null;
  }

  private remember(key: K): void {
    // `journal` is unset while Map's own constructor runs: no checkpoint can be active then.
    if (this.journal && !this.journal.has(key))
      this.journal.set(key, { had: super.has(key), value: super.get(key) });
  }

  override set(key: K, value: V): this {
    this.remember(key);
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    if (super.has(key)) this.remember(key);
    return super.delete(key);
  }

  override clear(): void {
    for (const key of super.keys()) this.remember(key);
    super.clear();
  }
}

/** A Set that can undo its changes since a checkpoint. */
export class UndoSet<T> extends Set<T> implements Undoable {
  private journal: Map<T, boolean> | null = null;

  checkpoint(): void {
    this.journal = new Map();
  }

  rollback(): void {
    const journal = this.journal;
    this.journal = null;
    if (!journal) return;
    for (const [value, had] of journal) {
      if (had) super.add(value);
      else super.delete(value);
    }
  }

  release(): void {
    this.journal = null;
  }

  private remember(value: T): void {
    if (this.journal && !this.journal.has(value)) this.journal.set(value, super.has(value));
  }

  override add(value: T): this {
    this.remember(value);
    return super.add(value);
  }

  override delete(value: T): boolean {
    if (super.has(value)) this.remember(value);
    return super.delete(value);
  }

  override clear(): void {
    for (const value of super.values()) this.remember(value);
    super.clear();
  }
}
