/**
 * The SQLite rows of one group's Durable Object: the group's own row, one row per member (JSON), and
 * one row per committed offset. Only the Durable Object shell uses this; the core never sees SQL.
 * Every statement's written rows are counted, so tests and benchmarks can show what an operation costs.
 */

import type { DirtyRows, GroupRecord } from "../core/group";
import type { OffsetRow, TopicCommitRange } from "../core/offsets";

/** Schema migrations by version; each runs once, in order, inside the constructor's blockConcurrencyWhile. */
const MIGRATIONS: string[] = [
  `CREATE TABLE group_row (id INTEGER PRIMARY KEY CHECK (id = 1), record TEXT NOT NULL);
   CREATE TABLE members (member_id TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE offsets (
     topic TEXT NOT NULL, partition INTEGER NOT NULL, committed_offset INTEGER NOT NULL,
     metadata TEXT NOT NULL, leader_epoch INTEGER, committed_at INTEGER NOT NULL, log_end_offset INTEGER,
     PRIMARY KEY (topic, partition)) WITHOUT ROWID;`,
];

type Row = Record<string, SqlStorageValue>;

const toOffsetRow = (r: Row): OffsetRow => ({
  topic: r.topic as string,
  partition: r.partition as number,
  offset: r.committed_offset as number,
  metadata: r.metadata as string,
  leaderEpoch: (r.leader_epoch as number | null) ?? null,
  committedAt: r.committed_at as number,
  logEndOffset: (r.log_end_offset as number | null) ?? null,
});

const OFFSET_COLUMNS =
  "topic, partition, committed_offset, metadata, leader_epoch, committed_at, log_end_offset";

export class GroupStore {
  /** Rows written since this object started (SQLite's own count, summed over statements). */
  rowsWritten = 0;
  /** Known to hold at least one offset (see `hasOffsets`). */
  private holdsOffsets = false;

  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  private exec(query: string, ...bindings: SqlStorageValue[]): SqlStorageCursor<Row> {
    const cursor = this.sql.exec<Row>(query, ...bindings);
    return cursor;
  }

  /** Runs a write and counts its rows (the cursor must be drained for the count to be final). */
  private write(query: string, ...bindings: SqlStorageValue[]): number {
    const cursor = this.exec(query, ...bindings);
    cursor.toArray();
    this.rowsWritten += cursor.rowsWritten;
    return cursor.rowsWritten;
  }

  migrate(): void {
    this.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const current = (this.exec("SELECT MAX(version) AS v FROM schema_version").one().v as number | null) ?? 0;
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.exec(MIGRATIONS[v]!);
      this.exec("INSERT INTO schema_version (version) VALUES (?)", v + 1);
    }
  }

  loadGroup(): { record: GroupRecord; members: unknown[] } | null {
    const row = this.exec("SELECT record FROM group_row WHERE id = 1").toArray()[0];
    if (!row) return null;
    const members = this.exec("SELECT record FROM members").toArray();
    return {
      record: JSON.parse(row.record as string) as GroupRecord,
      members: members.map((m) => JSON.parse(m.record as string) as unknown),
    };
  }

  /** Writes the rows a mutation changed: the group row and changed or removed members. */
  saveGroup(record: GroupRecord, dirty: DirtyRows): void {
    if (dirty.group) {
      this.write("INSERT OR REPLACE INTO group_row (id, record) VALUES (1, ?)", JSON.stringify(record));
    }
    for (const [memberId, value] of dirty.members) {
      if (value === undefined) this.write("DELETE FROM members WHERE member_id = ?", memberId);
      else
        this.write(
          "INSERT OR REPLACE INTO members (member_id, record) VALUES (?, ?)",
          memberId,
          JSON.stringify(value),
        );
    }
  }

  /**
   * Upserts offsets; a null logEndOffset keeps the one reported before. One statement for the whole
   * batch (rows passed as one JSON parameter: the platform allows 100 bound parameters per query), so
   * a 1,000-partition commit costs one SQL call, not 1,000. Rows apply in order, so a repeated
   * partition ends with its last entry, as one statement per row would.
   */
  writeOffsets(rows: OffsetRow[]): void {
    if (rows.length === 0) return;
    this.holdsOffsets = true;
    const batch = JSON.stringify(
      rows.map((r) => [
        r.topic,
        r.partition,
        r.offset,
        r.metadata,
        r.leaderEpoch,
        r.committedAt,
        r.logEndOffset,
      ]),
    );
    this.write(
      `INSERT INTO offsets (${OFFSET_COLUMNS})
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6
       FROM json_each(?) WHERE true
       ON CONFLICT (topic, partition) DO UPDATE SET committed_offset = excluded.committed_offset,
         metadata = excluded.metadata, leader_epoch = excluded.leader_epoch, committed_at = excluded.committed_at,
         log_end_offset = COALESCE(excluded.log_end_offset, offsets.log_end_offset)`,
      batch,
    );
  }

  /** Offsets sorted by topic then partition, optionally of some topics only. */
  readOffsets(topics?: string[]): OffsetRow[] {
    if (topics && topics.length > 0) {
      const marks = topics.map(() => "?").join(", ");
      return this.exec(
        `SELECT ${OFFSET_COLUMNS} FROM offsets WHERE topic IN (${marks}) ORDER BY topic, partition`,
        ...topics,
      )
        .toArray()
        .map(toOffsetRow);
    }
    return this.exec(`SELECT ${OFFSET_COLUMNS} FROM offsets ORDER BY topic, partition`)
      .toArray()
      .map(toOffsetRow);
  }

  readOffset(topic: string, partition: number): OffsetRow | null {
    const row = this.exec(
      `SELECT ${OFFSET_COLUMNS} FROM offsets WHERE topic = ? AND partition = ?`,
      topic,
      partition,
    ).toArray()[0];
    return row ? toOffsetRow(row) : null;
  }

  /**
   * Whether the group holds any offset. Asked after every mutation of a group without members, so the
   * answer is remembered while it can only stay true (until a delete, or a rollback: `forget()`).
   */
  hasOffsets(): boolean {
    this.holdsOffsets ||= this.exec("SELECT 1 FROM offsets LIMIT 1").toArray().length > 0;
    return this.holdsOffsets;
  }

  /** Forgets what was remembered about the rows, after a transaction rolled back. */
  forget(): void {
    this.holdsOffsets = false;
  }

  /** Deletes a topic's offsets (some partitions, or all); returns how many rows went. */
  deleteOffsets(topic: string, partitions?: number[]): number {
    this.holdsOffsets = false;
    if (!partitions) return this.write("DELETE FROM offsets WHERE topic = ?", topic);
    let deleted = 0;
    for (const p of new Set(partitions))
      deleted += this.write("DELETE FROM offsets WHERE topic = ? AND partition = ?", topic, p);
    return deleted;
  }

  /** The oldest commit per topic, for retention. */
  topicCommitRanges(): TopicCommitRange[] {
    return this.exec("SELECT topic, MIN(committed_at) AS oldest FROM offsets GROUP BY topic")
      .toArray()
      .map((r) => ({ topic: r.topic as string, oldestCommit: r.oldest as number }));
  }

  /** Deletes a topic's offsets committed at or before `committedUpTo` (null: all of them). */
  expireOffsets(topic: string, committedUpTo: number | null): number {
    this.holdsOffsets = false;
    if (committedUpTo === null) return this.write("DELETE FROM offsets WHERE topic = ?", topic);
    return this.write("DELETE FROM offsets WHERE topic = ? AND committed_at <= ?", topic, committedUpTo);
  }

  /** Removes every row of the group. */
  deleteAll(): void {
    this.holdsOffsets = false;
    this.write("DELETE FROM offsets");
    this.write("DELETE FROM members");
    this.write("DELETE FROM group_row");
  }
}
