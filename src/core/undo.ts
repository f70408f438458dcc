/**
 * Undo journals for a group's volatile state (deadlines, parked tickets, what members last reported,
 * pending notices): what SQLite cannot give back after a failed request. Each structure, after
 * `checkpoint()`, records the previous value of every key it touches; `rollback()` restores exactly
 * those; `release()` keeps the changes. The cost is O(keys touched), so a steady heartbeat in a
 * 10,000-member group journals one or two keys, never a snapshot of every member.
 *
 * Iteration order is state too (describe lists members in it; a classic group's next leader is the
 * first member): a rollback restores it exactly. Re-adding a deleted key would move it to the end, so
 * the first delete of a key present at the checkpoint saves the order of the keys once, O(size), which
 * only a request that removes something pays (and removing a member is O(members) already).
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
  /** The keys in order, saved at the first delete of a key present at the checkpoint. */
  private order: K[] | null = null;
  private journaling = false;

  checkpoint(): void {
    this.journaling = true;
    this.journal = null;
    this.order = null;
  }

  rollback(): void {
    const journal = this.journal;
    const order = this.order;
    this.release();
    if (!journal) return;
    for (const [key, before] of journal) {
      if (before.had) super.set(key, before.value as V);
      else super.delete(key);
    }
    if (order) {
      const entries = order
        .filter((k) => journal.get(k)?.had !== false)
        .map((k) => [k, super.get(k) as V] as const);
      super.clear();
      for (const [k, v] of entries) super.set(k, v);
    }
  }

  release(): void {
    this.journaling = false;
    this.journal = null;
    this.order = null;
  }

  private remember(key: K): void {
    // Not journaling while Map's own constructor runs: no checkpoint can be active then.
    if (!this.journaling) return;
    this.journal ??= new Map();
    if (!this.journal.has(key)) this.journal.set(key, { had: super.has(key), value: super.get(key) });
  }

  override set(key: K, value: V): this {
    this.remember(key);
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    if (super.has(key)) {
      this.remember(key);
      if (this.journaling && this.order === null && this.journal?.get(key)?.had)
        this.order = [...super.keys()];
    }
    return super.delete(key);
  }

  override clear(): void {
    for (const key of super.keys()) this.remember(key);
    if (this.journaling && this.order === null) this.order = [...super.keys()];
    super.clear();
  }
}

/** A Set that can undo its changes since a checkpoint. */
export class UndoSet<T> extends Set<T> implements Undoable {
  private journal: Map<T, boolean> | null = null;
  /** The values in order, saved at the first delete of a value present at the checkpoint. */
  private order: T[] | null = null;
  private journaling = false;

  checkpoint(): void {
    this.journaling = true;
    this.journal = null;
    this.order = null;
  }

  rollback(): void {
    const journal = this.journal;
    const order = this.order;
    this.release();
    if (!journal) return;
    for (const [value, had] of journal) {
      if (had) super.add(value);
      else super.delete(value);
    }
    if (order) {
      super.clear();
      for (const v of order) if (journal.get(v) !== false) super.add(v);
    }
  }

  release(): void {
    this.journaling = false;
    this.journal = null;
    this.order = null;
  }

  private remember(value: T): void {
    if (!this.journaling) return;
    this.journal ??= new Map();
    if (!this.journal.has(value)) this.journal.set(value, super.has(value));
  }

  override add(value: T): this {
    this.remember(value);
    return super.add(value);
  }

  override delete(value: T): boolean {
    if (super.has(value)) {
      this.remember(value);
      if (this.journaling && this.order === null && this.journal?.get(value))
        this.order = [...super.values()];
    }
    return super.delete(value);
  }

  override clear(): void {
    for (const value of super.values()) this.remember(value);
    if (this.journaling && this.order === null) this.order = [...super.values()];
    super.clear();
  }
}
