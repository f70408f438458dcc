/**
 * The SQLite rows of a share group (API.md §7): one row per share-partition holding what must survive a
 * restart (SPSO, SPEO, reported log ends, the non-acquired ranges — never acquired state, which is
 * memory only), and one row per listed archived range. Rows written scale with the ranges a request
 * touched, not with offsets: a request rewrites the rows of the share-partitions it changed and adds or
 * removes the archived ranges it changed.
 *
 * Every row under 1 MB: a share-partition holds at most SHARE_PARTITION_MAX_RECORD_LOCKS (≤ 10,000)
 * offsets in flight, so at most that many ranges, about 500 KB of JSON at worst; longer records are cut
 * into pieces of PART_CHARS (part 0, 1, …), as group-store does with members, so no row can outgrow a
 * limit whatever the record. An archived row is a topic and six numbers.
 */

import type { ArchivedRange, SharePartitionRecord } from "../core/share/share-types.ts";

/** The share tables (GroupStore.migrate runs it as one of its versions). */
export const SHARE_MIGRATION = `
  CREATE TABLE share_partitions (topic TEXT NOT NULL, partition INTEGER NOT NULL,
    part INTEGER NOT NULL CHECK (part >= 0), record TEXT NOT NULL,
    PRIMARY KEY (topic, partition, part)) WITHOUT ROWID;
  CREATE TABLE share_archived (topic TEXT NOT NULL, partition INTEGER NOT NULL, first_offset INTEGER NOT NULL,
    last_offset INTEGER NOT NULL, delivery_count INTEGER NOT NULL, reason TEXT NOT NULL,
    archived_at INTEGER NOT NULL, PRIMARY KEY (topic, partition, first_offset)) WITHOUT ROWID;`;

/** A share group's persisted state, as the group is restored from it. */
export interface ShareRows {
  partitions: SharePartitionRecord[];
  archived: ArchivedRange[];
}

/** What one mutation changed (the share group's `dirtyShareRows()`). */
export interface ShareChanges {
  /** By partitionKey; undefined = the share-partition is gone. */
  partitions: Map<string, SharePartitionRecord | undefined>;
  archivedAdded: ArchivedRange[];
  archivedRemoved: { topic: string; partition: number; firstOffset: number }[];
}

type Row = Record<string, SqlStorageValue>;
/** The owning store's statement runner: rows read and written are counted there. */
export type Exec = (query: string, ...bindings: SqlStorageValue[]) => Row[];
/** The owning store's record splitter (pieces under a row's limit). */
export type Split = (text: string) => string[];

const ARCHIVED_COLUMNS = "topic, partition, first_offset, last_offset, delivery_count, reason, archived_at";

const toArchived = (r: Row): ArchivedRange => ({
  topic: r.topic as string,
  partition: r.partition as number,
  firstOffset: r.first_offset as number,
  lastOffset: r.last_offset as number,
  deliveryCount: r.delivery_count as number,
  reason: r.reason as ArchivedRange["reason"],
  archivedAt: r.archived_at as number,
});

/** Topic and partition back from a partitionKey (topics cannot hold ':'). */
function splitKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf(":");
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

export class ShareStore {
  /** Pieces each share-partition has in the table, where known (unknown: delete to be sure). */
  private readonly pieces = new Map<string, number>();
  private readonly exec: Exec;
  private readonly split: Split;

  constructor(exec: Exec, split: Split) {
    this.exec = exec;
    this.split = split;
  }

  /** Every share row, for a restore. */
  load(): ShareRows {
    this.pieces.clear();
    const records = new Map<string, string[]>();
    for (const r of this.exec(
      "SELECT topic, partition, record FROM share_partitions ORDER BY topic, partition, part",
    )) {
      const key = `${r.topic as string}:${r.partition as number}`;
      const parts = records.get(key);
      if (parts) parts.push(r.record as string);
      else records.set(key, [r.record as string]);
    }
    const partitions: SharePartitionRecord[] = [];
    for (const [key, parts] of records) {
      this.pieces.set(key, parts.length);
      partitions.push(JSON.parse(parts.join("")) as SharePartitionRecord);
    }
    const archived = this.exec(
      `SELECT ${ARCHIVED_COLUMNS} FROM share_archived ORDER BY archived_at, topic, partition, first_offset`,
    ).map(toArchived);
    return { partitions, archived };
  }

  /**
   * Writes what a mutation changed: each changed share-partition's row (its pieces), then the archived
   * ranges removed, then those added (so a range removed and added again under its first offset stays).
   */
  save(changes: ShareChanges): void {
    for (const [key, record] of changes.partitions) this.writePartition(key, record);
    if (changes.archivedRemoved.length > 0) {
      this.exec(
        `DELETE FROM share_archived WHERE (topic, partition, first_offset) IN
           (SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?))`,
        JSON.stringify(changes.archivedRemoved.map((r) => [r.topic, r.partition, r.firstOffset])),
      );
    }
    if (changes.archivedAdded.length > 0) {
      // One statement for the batch: the platform allows 100 bound parameters per query.
      this.exec(
        `INSERT OR REPLACE INTO share_archived (${ARCHIVED_COLUMNS})
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6
         FROM json_each(?)`,
        JSON.stringify(
          changes.archivedAdded.map((r) => [
            r.topic,
            r.partition,
            r.firstOffset,
            r.lastOffset,
            r.deliveryCount,
            r.reason,
            r.archivedAt,
          ]),
        ),
      );
    }
  }

  /**
   * The write of `changes` when it is one statement, else null: one share-partition rewritten whole in
   * one piece where it is known to have one (no piece to delete), and no archived range changed — the
   * steady acquire or acknowledge of one partition.
   */
  soleWrite(changes: ShareChanges): (() => void) | null {
    if (changes.partitions.size !== 1) return null;
    if (changes.archivedAdded.length > 0 || changes.archivedRemoved.length > 0) return null;
    const [key, record] = changes.partitions.entries().next().value!;
    if (!record || this.pieces.get(key) !== 1) return null;
    const parts = this.split(JSON.stringify(record));
    if (parts.length !== 1) return null;
    return () => this.writePiece(record.topic, record.partition, 0, parts[0]!);
  }

  private writePiece(topic: string, partition: number, part: number, text: string): void {
    this.exec(
      "INSERT OR REPLACE INTO share_partitions (topic, partition, part, record) VALUES (?, ?, ?, ?)",
      topic,
      partition,
      part,
      text,
    );
  }

  private writePartition(key: string, record: SharePartitionRecord | undefined): void {
    const { topic, partition } = record ?? splitKey(key);
    const parts = record ? this.split(JSON.stringify(record)) : [];
    for (const [part, text] of parts.entries()) this.writePiece(topic, partition, part, text);
    const had = this.pieces.get(key);
    if (had === undefined || had > parts.length) {
      this.exec(
        "DELETE FROM share_partitions WHERE topic = ? AND partition = ? AND part >= ?",
        topic,
        partition,
        parts.length,
      );
    }
    if (record) this.pieces.set(key, parts.length);
    else this.pieces.delete(key);
  }

  /** Forgets what was remembered about the rows (after a rollback). */
  forget(): void {
    this.pieces.clear();
  }

  /** Removes every share row of the group. */
  deleteAll(): void {
    this.pieces.clear();
    this.exec("DELETE FROM share_partitions");
    this.exec("DELETE FROM share_archived");
  }
}
