/**
 * The rows of a group's history (API.md §8): its events in a ring of GROUP_HISTORY_MAX_EVENTS slots
 * (slot = seq mod cap, upserted, so an event costs exactly one row written and the oldest is dropped
 * by being overwritten, never by a delete), and its lag samples in a ring of one slot per minute of
 * OFFSETS_RETENTION_MS (a sample overwrites the one a retention ago, so keeping them costs no delete
 * either). Written in the transaction of the change they describe (group-shell.ts `persist`).
 *
 * These rows outlive the group's own rows (`GroupStore.deleteAll` leaves them): an operator can read
 * why a group died for OFFSETS_RETENTION_MS after it was deleted or expired, and the object's one
 * alarm then purges them (`purge`), keeping only the last seq so a re-created group continues it.
 * No index besides the slot: a secondary index would cost a second written row per event. A page is
 * read by slot ranges computed from the seqs asked for (`events`), so it reads only the rows it returns.
 */

import type { HistoryEvent, StoredEvent } from "../core/history.ts";
import { LAG_SAMPLE_MS } from "../core/history.ts";

export const HISTORY_MIGRATION = `
  CREATE TABLE history_events (slot INTEGER PRIMARY KEY, seq INTEGER NOT NULL, event TEXT NOT NULL);
  CREATE TABLE lag_samples (slot INTEGER PRIMARY KEY, at INTEGER NOT NULL, total_lag INTEGER NOT NULL);
  CREATE TABLE history_meta (id INTEGER PRIMARY KEY CHECK (id = 1), last_seq INTEGER NOT NULL);`;

type Row = Record<string, SqlStorageValue>;
type Exec = (query: string, ...bindings: SqlStorageValue[]) => Row[];

export interface LagSample {
  at: number;
  totalLag: number;
}

/** Slots of the lag ring: one per minute of retention, and one more so a slot is reused only once expired. */
const sampleSlots = (retentionMs: number): number => Math.ceil(retentionMs / LAG_SAMPLE_MS) + 1;

const toEvent = (r: Row): StoredEvent => ({
  seq: r.seq as number,
  ...(JSON.parse(r.event as string) as Omit<StoredEvent, "seq">),
});

export class HistoryStore {
  private readonly exec: Exec;
  /** The last seq written (0: none ever), or undefined until read (once per life of the object). */
  private lastSeq: number | undefined;
  /** When the last event happened, where known. */
  private lastAt: number | null | undefined;

  constructor(exec: Exec) {
    this.exec = exec;
  }

  /** The seq of the newest event (0: none yet). */
  newestSeq(): number {
    return this.last();
  }

  private last(): number {
    if (this.lastSeq === undefined) {
      const row = this.exec(
        `SELECT MAX(COALESCE((SELECT MAX(seq) FROM history_events), 0),
                    COALESCE((SELECT last_seq FROM history_meta WHERE id = 1), 0)) AS last`,
      )[0];
      this.lastSeq = (row?.last as number | null) ?? 0;
    }
    return this.lastSeq;
  }

  /** Writes a step's events at `at` in one statement: one row each (only the last `cap` of a larger batch). */
  append(events: readonly HistoryEvent[], at: number, cap: number): void {
    if (events.length === 0) return;
    let seq = this.last();
    const rows: [number, number, string][] = [];
    for (const e of events) {
      seq++;
      rows.push([seq % cap, seq, JSON.stringify({ at, ...e })]);
    }
    this.exec(
      `INSERT INTO history_events (slot, seq, event)
       SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) WHERE true
       ON CONFLICT (slot) DO UPDATE SET seq = excluded.seq, event = excluded.event`,
      JSON.stringify(rows.slice(-cap)),
    );
    this.lastSeq = seq;
    this.lastAt = at;
  }

  /**
   * The group's total lag at `at` into the minute's slot: `totalLag` given (share groups, from memory),
   * or summed in SQL from the offsets just committed (one statement, one row written).
   */
  sample(at: number, totalLag: number | null, retentionMs: number): void {
    const slot = Math.floor(at / LAG_SAMPLE_MS) % sampleSlots(retentionMs);
    const upsert = "ON CONFLICT (slot) DO UPDATE SET at = excluded.at, total_lag = excluded.total_lag";
    if (totalLag !== null) {
      this.exec(
        `INSERT INTO lag_samples (slot, at, total_lag) VALUES (?, ?, ?) ${upsert}`,
        slot,
        at,
        totalLag,
      );
      return;
    }
    this.exec(
      `INSERT INTO lag_samples (slot, at, total_lag)
       SELECT ?, ?, COALESCE(SUM(MAX(0, log_end_offset - committed_offset)), 0) FROM offsets
       WHERE log_end_offset IS NOT NULL AND committed_offset >= 0 ${upsert}`,
      slot,
      at,
    );
  }

  /**
   * Events after `after`, oldest first, at most `limit`, of the last `cap` written. The seqs asked for
   * map to at most two slot ranges; should the ring hold other seqs there (the cap changed between
   * deployments), the page is read by seq instead.
   */
  events(after: number, limit: number, cap: number): { events: StoredEvent[]; nextAfter: number } {
    const last = this.last();
    const first = Math.max(after + 1, last - cap + 1, 1);
    const end = Math.min(last, first + limit - 1);
    if (first > end) return { events: [], nextAfter: after };
    const from = first % cap;
    const count = end - first + 1;
    const to = from + count;
    const [a, b, c, d] = to <= cap ? [from, to, 0, 0] : [from, cap, 0, to - cap];
    let rows = this.exec(
      `SELECT seq, event FROM history_events
       WHERE ((slot >= ? AND slot < ?) OR (slot >= ? AND slot < ?)) AND seq BETWEEN ? AND ? ORDER BY seq`,
      a,
      b,
      c,
      d,
      first,
      end,
    );
    if (rows.length < count) {
      rows = this.exec(
        "SELECT seq, event FROM history_events WHERE seq BETWEEN ? AND ? ORDER BY seq",
        first,
        end,
      );
    }
    const events = rows.map(toEvent);
    return { events, nextAfter: events.at(-1)?.seq ?? after };
  }

  /** Samples at or after `since` still within retention, oldest first. */
  samples(since: number, now: number, retentionMs: number): LagSample[] {
    return this.exec(
      "SELECT at, total_lag FROM lag_samples WHERE at >= ? AND at > ? ORDER BY at",
      since,
      now - retentionMs,
    ).map((r) => ({ at: r.at as number, totalLag: r.total_lag as number }));
  }

  /** Whether any event is kept. */
  any(): boolean {
    return this.exec("SELECT 1 FROM history_events LIMIT 1").length > 0;
  }

  /** When the history of a group that is gone is purged: a retention after its last event; null if none. */
  expiresAt(retentionMs: number, cap: number): number | null {
    if (this.lastAt === undefined) {
      const last = this.last();
      const find = "SELECT event FROM history_events WHERE slot = ? AND seq = ?";
      const row = last > 0 ? this.exec(find, last % cap, last)[0] : undefined;
      this.lastAt = row ? (JSON.parse(row.event as string) as { at: number }).at : null;
    }
    return this.lastAt === null ? null : this.lastAt + retentionMs;
  }

  /** Drops every event and sample; the last seq stays, so a group created again continues it. */
  purge(): void {
    const last = this.last();
    this.exec("DELETE FROM history_events");
    this.exec("DELETE FROM lag_samples");
    this.exec(
      "INSERT INTO history_meta (id, last_seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq",
      last,
    );
    this.lastAt = null;
  }

  /** Forgets what was remembered, after a transaction rolled back. */
  forget(): void {
    this.lastSeq = undefined;
    this.lastAt = undefined;
  }
}
