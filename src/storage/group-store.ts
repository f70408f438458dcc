/**
 * The SQLite rows of one group's Durable Object: the group's own row, one row per member (JSON), and
 * one row per committed offset. Only the Durable Object shell uses this; the core never sees SQL.
 *
 * Every row stays under 1 MB by construction. A group or member record longer than PART_CHARS is
 * split: its first PART_CHARS in `group_row`/`members`, the rest in `record_parts`, PART_CHARS at a
 * time (≤ 3 UTF-8 bytes per UTF-16 unit: ≤ 768 KiB per row). An offset row holds a topic (≤ 249
 * bytes), metadata (≤ OFFSET_METADATA_MAX_BYTES, at most 256 KiB) and six numbers. A record is split
 * only when it is that large: the limits make that rare (a consumer member holding ~40,000 partitions;
 * GROUP_MAX_PARTITIONS bounds how large it can get, README), and a usual member is one row as before.
 * Every statement's written and read rows are counted, so tests and benchmarks can show what an
 * operation costs. A share group's own rows (share-partitions, archived ranges) are share-store.ts's,
 * counted here with the rest.
 */

import type { DirtyRows, GroupRecord } from "../core/group";
import type { OffsetAges, OffsetRow } from "../core/offsets";
import { HISTORY_MIGRATION, HistoryStore } from "./history-store.ts";
import { SHARE_MIGRATION, type ShareRows, ShareStore } from "./share-store.ts";

/** Schema migrations by version; each runs once, in order, inside the constructor's blockConcurrencyWhile. */
const MIGRATIONS: string[] = [
  `CREATE TABLE group_row (id INTEGER PRIMARY KEY CHECK (id = 1), record TEXT NOT NULL);
   CREATE TABLE members (member_id TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE offsets (
     topic TEXT NOT NULL, partition INTEGER NOT NULL, committed_offset INTEGER NOT NULL,
     metadata TEXT NOT NULL, leader_epoch INTEGER, committed_at INTEGER NOT NULL, log_end_offset INTEGER,
     PRIMARY KEY (topic, partition)) WITHOUT ROWID;`,
  // The continuation of records longer than PART_CHARS: owner "group" or "member:<id>", part ≥ 1.
  `CREATE TABLE record_parts (owner TEXT NOT NULL, part INTEGER NOT NULL CHECK (part >= 1), record TEXT NOT NULL,
     PRIMARY KEY (owner, part)) WITHOUT ROWID;`,
  // Share groups (API.md §7): share-partitions and the archived listing (share-store.ts).
  SHARE_MIGRATION,
  // The directory outbox (src/directory/outbox.ts): one row, kept when the group is deleted (deleteAll).
  `CREATE TABLE directory_outbox (id INTEGER PRIMARY KEY CHECK (id = 1), group_id TEXT NOT NULL,
     version INTEGER NOT NULL, summary TEXT, acked INTEGER NOT NULL);`,
  // The group's history (API.md §8, history-store.ts): kept when the group is deleted (deleteAll).
  HISTORY_MIGRATION,
];

/** UTF-16 units per stored piece of a record: ≤ 768 KiB of UTF-8, under the 1 MB a row may take here. */
export const PART_CHARS = 262_144;

/** `text` in pieces of at most PART_CHARS units, never splitting a surrogate pair. */
export function splitRecord(text: string): string[] {
  const parts: string[] = [];
  let at = 0;
  while (at < text.length || parts.length === 0) {
    let end = Math.min(at + PART_CHARS, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    parts.push(text.slice(at, end));
    at = end;
  }
  return parts;
}

const GROUP_OWNER = "group";
const memberOwner = (memberId: string) => `member:${memberId}`;

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

export class GroupStore implements OffsetAges {
  /** Rows written since this object started (SQLite's own count, summed over statements). */
  rowsWritten = 0;
  /** Rows read since this object started (SQLite's own count: rows visited, not only returned). */
  rowsRead = 0;
  /** Known to hold at least one offset (see `hasOffsets`). */
  private holdsOffsets = false;
  /**
   * The oldest `committedAt` of any offset (null: none), or undefined when not known. Commits only
   * add rows at `now`, so it stays valid across them (a re-commit of the oldest row leaves it older
   * than the truth, which only makes the alarm look once too early); deletions forget it.
   */
  private oldest: number | null | undefined;
  /**
   * Each topic with offsets and its oldest `committedAt` (KIP-496's alarm asks only about topics no
   * member subscribes to), or undefined when not known: rebuilt by one scan when asked, then kept by
   * commits and deletions, so an alarm of a group with members reads no offset row.
   */
  private topics: Map<string, number> | undefined;
  /** Continuation rows each owner has in `record_parts`, where known (unknown: delete to be sure). */
  private readonly parts = new Map<string, number>();

  private readonly sql: SqlStorage;
  /** A share group's own rows, counted with these. */
  readonly share: ShareStore;
  /** The group's history (events and lag samples), counted with these. */
  readonly history: HistoryStore;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.share = new ShareStore((query, ...bindings) => this.exec(query, ...bindings), splitRecord);
    this.history = new HistoryStore((query, ...bindings) => this.exec(query, ...bindings));
  }

  /** Runs a query to the end and counts the rows it read and wrote (final only once drained). */
  private exec(query: string, ...bindings: SqlStorageValue[]): Row[] {
    const cursor = this.sql.exec<Row>(query, ...bindings);
    const rows = cursor.toArray();
    this.rowsRead += cursor.rowsRead;
    this.rowsWritten += cursor.rowsWritten;
    return rows;
  }

  /** Runs a write; returns the rows it wrote. */
  private write(query: string, ...bindings: SqlStorageValue[]): number {
    const before = this.rowsWritten;
    this.exec(query, ...bindings);
    return this.rowsWritten - before;
  }

  migrate(): void {
    this.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const current = (this.exec("SELECT MAX(version) AS v FROM schema_version")[0]?.v as number | null) ?? 0;
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.exec(MIGRATIONS[v]!);
      this.exec("INSERT INTO schema_version (version) VALUES (?)", v + 1);
    }
  }

  /** The group's rows; a share group's share-partitions and archived ranges with them. */
  loadGroup(): { record: GroupRecord; members: unknown[]; share?: ShareRows } | null {
    const row = this.exec("SELECT record FROM group_row WHERE id = 1")[0];
    // No group row, no offsets: a group is created by its first commit and its rows go together.
    if (!row) {
      this.topics = new Map();
      return null;
    }
    const rest = new Map<string, string[]>();
    this.parts.clear();
    for (const p of this.exec("SELECT owner, record FROM record_parts ORDER BY owner, part")) {
      const owner = p.owner as string;
      rest.set(owner, [...(rest.get(owner) ?? []), p.record as string]);
    }
    const whole = (owner: string, first: string) => {
      const more = rest.get(owner) ?? [];
      this.parts.set(owner, more.length);
      return more.length === 0 ? first : first + more.join("");
    };
    const members = this.exec("SELECT member_id, record FROM members");
    const record = JSON.parse(whole(GROUP_OWNER, row.record as string)) as GroupRecord;
    return {
      record,
      members: members.map(
        (m) => JSON.parse(whole(memberOwner(m.member_id as string), m.record as string)) as unknown,
      ),
      ...(record.type === "share" ? { share: this.share.load() } : {}),
    };
  }

  /** Writes the rows a mutation changed: the group row and changed or removed members. */
  saveGroup(record: GroupRecord, dirty: DirtyRows): void {
    if (dirty.group) {
      const [first, ...more] = splitRecord(JSON.stringify(record));
      this.write("INSERT OR REPLACE INTO group_row (id, record) VALUES (1, ?)", first!);
      this.writeParts(GROUP_OWNER, more);
    }
    for (const [memberId, value] of dirty.members) {
      if (value === undefined) {
        this.write("DELETE FROM members WHERE member_id = ?", memberId);
        this.writeParts(memberOwner(memberId), []);
        this.parts.delete(memberOwner(memberId));
        continue;
      }
      const [first, ...more] = splitRecord(JSON.stringify(value));
      this.write("INSERT OR REPLACE INTO members (member_id, record) VALUES (?, ?)", memberId, first!);
      this.writeParts(memberOwner(memberId), more);
    }
  }

  /** Replaces an owner's continuation rows; a record that fits one row (the usual case) costs nothing here. */
  private writeParts(owner: string, more: string[]): void {
    const had = this.parts.get(owner);
    if (had === undefined || had > more.length) {
      this.write("DELETE FROM record_parts WHERE owner = ? AND part > ?", owner, more.length);
    }
    more.forEach((text, i) => {
      this.write(
        "INSERT OR REPLACE INTO record_parts (owner, part, record) VALUES (?, ?, ?)",
        owner,
        i + 1,
        text,
      );
    });
    this.parts.set(owner, more.length);
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
    if (this.oldest !== undefined) {
      let oldest = this.oldest ?? Number.POSITIVE_INFINITY;
      for (const r of rows) oldest = Math.min(oldest, r.committedAt);
      this.oldest = oldest;
    }
    const topics = this.topics;
    if (topics) {
      for (const r of rows)
        topics.set(r.topic, Math.min(topics.get(r.topic) ?? r.committedAt, r.committedAt));
    }
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

  /**
   * Offsets sorted by topic then partition, optionally of some topics only. The topics travel as one
   * JSON parameter (the platform allows 100 bound parameters per query, so one `?` per topic failed
   * past 100 topics); the primary key's `topic` prefix serves each one.
   */
  readOffsets(topics?: string[]): OffsetRow[] {
    if (topics && topics.length > 0) {
      return this.exec(
        `SELECT ${OFFSET_COLUMNS} FROM offsets
         WHERE topic IN (SELECT value FROM json_each(?)) ORDER BY topic, partition`,
        JSON.stringify([...new Set(topics)]),
      ).map(toOffsetRow);
    }
    return this.exec(`SELECT ${OFFSET_COLUMNS} FROM offsets ORDER BY topic, partition`).map(toOffsetRow);
  }

  readOffset(topic: string, partition: number): OffsetRow | null {
    const row = this.exec(
      `SELECT ${OFFSET_COLUMNS} FROM offsets WHERE topic = ? AND partition = ?`,
      topic,
      partition,
    )[0];
    return row ? toOffsetRow(row) : null;
  }

  /**
   * Whether the group holds any offset. Asked after every mutation of a group without members, so the
   * answer is remembered while it can only stay true (until a delete, or a rollback: `forget()`).
   */
  hasOffsets(): boolean {
    this.holdsOffsets ||= this.exec("SELECT 1 FROM offsets LIMIT 1").length > 0;
    return this.holdsOffsets;
  }

  any(): boolean {
    return this.hasOffsets();
  }

  /** Whether the group's row is stored (asked once, when a group without members or offsets goes). */
  hasGroupRow(): boolean {
    return this.exec("SELECT 1 FROM group_row WHERE id = 1").length > 0;
  }

  /**
   * The oldest commit, for a simple group's retention. Without an index on `committed_at` (which
   * would cost a second written row per committed offset) this scans the offsets, so it is
   * remembered: asked again only after a deletion, i.e. once per expiry, not once per alarm.
   */
  oldestCommit(): number | null {
    if (this.oldest === undefined) {
      const row = this.exec("SELECT MIN(committed_at) AS oldest FROM offsets")[0];
      this.oldest = (row?.oldest as number | null | undefined) ?? null;
    }
    return this.oldest;
  }

  /**
   * Each topic with offsets and its oldest commit. Scans the offsets only when not known (after a
   * restart, a rollback or a simple group's expiry); kept up to date after that.
   */
  topicCommits(): ReadonlyMap<string, number> {
    if (this.topics === undefined) {
      const rows = this.exec("SELECT topic, MIN(committed_at) AS oldest FROM offsets GROUP BY topic");
      this.topics = new Map(rows.map((r) => [r.topic as string, r.oldest as number]));
    }
    return this.topics;
  }

  /** Re-reads the oldest commit of `topics` (only their rows: the primary key's prefix). */
  private refreshTopics(topics: string[]): void {
    const known = this.topics;
    if (!known) return;
    for (const t of topics) known.delete(t);
    const rows = this.exec(
      `SELECT topic, MIN(committed_at) AS oldest FROM offsets
       WHERE topic IN (SELECT value FROM json_each(?)) GROUP BY topic`,
      JSON.stringify(topics),
    );
    for (const r of rows) known.set(r.topic as string, r.oldest as number);
  }

  /** Forgets what was remembered about the rows, after a transaction rolled back. */
  forget(): void {
    this.forgetOffsets();
    this.topics = undefined;
    this.parts.clear();
    this.share.forget();
    this.history.forget();
  }

  /** Forgets what was remembered about the offsets, after some were deleted. */
  private forgetOffsets(): void {
    this.holdsOffsets = false;
    this.oldest = undefined;
  }

  /** Deletes a topic's offsets (some partitions, or all); returns the partitions whose rows went. */
  deleteOffsets(topic: string, partitions?: number[]): number[] {
    this.forgetOffsets();
    if (!partitions) {
      this.topics?.delete(topic);
      return this.deleted("DELETE FROM offsets WHERE topic = ? RETURNING partition", topic);
    }
    // One statement whatever the number of partitions (one JSON parameter, as in readOffsets).
    const deleted = this.deleted(
      "DELETE FROM offsets WHERE topic = ? AND partition IN (SELECT value FROM json_each(?)) RETURNING partition",
      topic,
      JSON.stringify([...new Set(partitions)]),
    );
    this.refreshTopics([topic]);
    return deleted;
  }

  private deleted(query: string, ...bindings: SqlStorageValue[]): number[] {
    return this.exec(query, ...bindings)
      .map((r) => r.partition as number)
      .sort((a, b) => a - b);
  }

  /**
   * Deletes the offsets committed at or before `committedUpTo` (null: all of them), of `topics` only
   * when given (KIP-496: the topics no member subscribes to).
   */
  expireOffsets(committedUpTo: number | null, topics?: string[]): number {
    this.forgetOffsets();
    if (committedUpTo === null) {
      this.topics = new Map();
      return this.write("DELETE FROM offsets");
    }
    if (!topics) {
      this.topics = undefined;
      return this.write("DELETE FROM offsets WHERE committed_at <= ?", committedUpTo);
    }
    const deleted = this.write(
      "DELETE FROM offsets WHERE topic IN (SELECT value FROM json_each(?)) AND committed_at <= ?",
      JSON.stringify(topics),
      committedUpTo,
    );
    this.refreshTopics(topics);
    return deleted;
  }

  /** Removes every row of the group (not its directory outbox, which must outlive it). */
  deleteAll(): void {
    this.forget();
    this.write("DELETE FROM offsets");
    this.write("DELETE FROM members");
    this.write("DELETE FROM group_row");
    this.write("DELETE FROM record_parts");
    this.share.deleteAll();
    this.topics = new Map();
  }
}
