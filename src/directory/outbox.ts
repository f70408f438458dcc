/**
 * A group's directory outbox: how its summary reaches its directory shard off the request path and
 * is never lost. One row in the group's SQLite (`directory_outbox`, never removed by the group's
 * deletion): the group id, the summary (null: removed), its version (only grows, across deletions and
 * re-creations of the group) and the version the directory acknowledged.
 *
 * - `stage` writes the row when the summary changed, inside the transaction that changed the group:
 *   the change and its directory update commit together or not at all.
 * - `flush` sends the newest version once that transaction committed, without anyone awaiting it; at
 *   most one send is in flight, so changes made meanwhile coalesce into the next send.
 * - A send that fails (or gets no answer within SEND_TIMEOUT_MS) is retried by the group's alarm
 *   (`deadline` is folded into the alarm's next deadline), 0.5 s doubling to RETRY_MAX_MS with jitter,
 *   until acknowledged. The acknowledged version is written with the next change (a removal's at once):
 *   one write per change, and a restart in between re-sends one version the shard then ignores.
 * - A removal keeps the alarm armed (a check SETTLE_MS later) until acknowledged, since nothing else
 *   would wake a deleted group. After a restart a pending version is sent at once.
 *
 * The directory keeps the newest version it has seen, so retries, late answers and a previous life's
 * sends still in flight can arrive in any order.
 */

import type { Group, GroupSummary } from "../core/group.ts";
import { log } from "../log.ts";

/** A send not answered by then counts as failed (a hung shard must not stop the retries). */
export const SEND_TIMEOUT_MS = 5_000;
/** The longest wait between retries: a list converges ≤ ~6 s after its shard is reachable again. */
export const RETRY_MAX_MS = 5_000;
/** When a removal, sent at once, is checked by the alarm (and sent again if not acknowledged). */
export const SETTLE_MS = 5_000;

/** 0.5 s, 1 s, 2 s, 4 s, then RETRY_MAX_MS; ±20 % so that many groups do not retry in step. */
export const retryDelay = (failures: number): number =>
  Math.min(RETRY_MAX_MS, 500 * 2 ** Math.max(0, failures - 1)) * (0.8 + 0.4 * Math.random());

export interface OutboxHost {
  sql: SqlStorage;
  /** The RPC to the group's directory shard. */
  send(groupId: string, version: number, summary: GroupSummary | null): Promise<unknown>;
  /** Arms the group's alarm no later than `at`. */
  schedule(at: number): void;
  /** Everything staged is acknowledged (a deleted group then needs no alarm). */
  settled(): void;
  /** Sends nothing (the bench's directory-disabled runs; rows are still written). */
  disabled?: boolean;
}

interface Entry {
  groupId: string;
  version: number;
  summary: GroupSummary | null;
  acked: number;
}

export class DirectoryOutbox {
  /** Rows written since the object started (counted into the group's `stats()`). */
  rowsWritten = 0;
  /** The row as committed, or as staged in the open transaction; null: never listed. */
  private entry: Entry | null = null;
  /** The staged summary as JSON ("" for none): a summary is staged only when this changes. */
  private key = "";
  private inFlight = false;
  private failures = 0;
  /** When the alarm should look again (null: not needed, e.g. a send in flight that will answer). */
  private retryAt: number | null = null;

  private readonly host: OutboxHost;

  constructor(host: OutboxHost) {
    this.host = host;
  }

  /** Reads the row (at start, and after a rolled-back transaction: the staged version went with it). */
  load(): void {
    const row = this.host.sql
      .exec("SELECT group_id, version, summary, acked FROM directory_outbox WHERE id = 1")
      .toArray()[0];
    this.entry = row
      ? {
          groupId: row.group_id as string,
          version: row.version as number,
          summary: row.summary === null ? null : (JSON.parse(row.summary as string) as GroupSummary),
          acked: row.acked as number,
        }
      : null;
    this.key = (row?.summary as string | null | undefined) ?? "";
  }

  /**
   * At start: reads the row, stages the group's summary if the row lags it (the first start after the
   * release that added the outbox), and sends what is pending (a previous life's send may be lost).
   */
  start(group: Group | null, now: number): void {
    this.load();
    const groupId = group?.groupId ?? this.entry?.groupId;
    if (groupId !== undefined) this.stage(groupId, group, now);
    this.flush();
  }

  /** Whether `group`'s summary differs from the one last staged (a transaction is needed to stage it). */
  differs(group: Group | null): boolean {
    return keyOf(group) !== this.key;
  }

  /** Inside the group's transaction: writes the new summary at the next version, if it changed. */
  stage(groupId: string, group: Group | null, now: number): void {
    const key = keyOf(group);
    if (key === this.key) return;
    const summary = group ? group.summary() : null;
    const entry: Entry = {
      groupId,
      version: (this.entry?.version ?? 0) + 1,
      summary,
      acked: this.entry?.acked ?? 0,
    };
    const cursor = this.host.sql.exec(
      "INSERT OR REPLACE INTO directory_outbox (id, group_id, version, summary, acked) VALUES (1, ?, ?, ?, ?)",
      entry.groupId,
      entry.version,
      key === "" ? null : key,
      entry.acked,
    );
    this.rowsWritten += cursor.rowsWritten;
    this.entry = entry;
    this.key = key;
    if (!summary) this.retryAt = Math.min(this.retryAt ?? Number.POSITIVE_INFINITY, now + SETTLE_MS);
  }

  get pending(): boolean {
    return this.entry !== null && this.entry.acked < this.entry.version;
  }

  /** The alarm deadline the outbox needs, or null. */
  deadline(): number | null {
    return this.pending ? this.retryAt : null;
  }

  /** After the transaction committed: sends the newest version unless a send is in flight. */
  flush(): void {
    const entry = this.entry;
    if (!entry || !this.pending || this.inFlight || this.host.disabled) return;
    this.inFlight = true;
    void this.deliver(entry.groupId, entry.version, entry.summary);
  }

  /** From the alarm: sends a pending version whose retry is due, keeping the alarm armed meanwhile. */
  retry(now: number): void {
    if (!this.pending) {
      this.retryAt = null;
      return;
    }
    if (this.retryAt !== null && this.retryAt > now) return;
    this.retryAt = now + retryDelay(this.failures + 1);
    this.flush();
  }

  private async deliver(groupId: string, version: number, summary: GroupSummary | null): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.host.send(groupId, version, summary),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("no answer")), SEND_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      this.inFlight = false;
      this.failures++;
      this.retryAt = Date.now() + retryDelay(this.failures);
      log("warn", { event: "cohort.directory.retry", groupId, version, error: String(err) });
      this.host.schedule(this.retryAt);
      return;
    } finally {
      clearTimeout(timer);
    }
    this.inFlight = false;
    this.acknowledged(version);
    this.flush();
  }

  private acknowledged(version: number): void {
    const entry = this.entry;
    if (!entry || version <= entry.acked) return;
    entry.acked = version;
    if (entry.acked < entry.version) return;
    this.failures = 0;
    this.retryAt = null;
    // Written only where nothing else will: a live group writes it with its next change (`stage`), and a
    // restart before that re-sends the version once, which the shard ignores. A removed group writes
    // it now, so that its next life does not wake to re-send a removal.
    if (!entry.summary) {
      const cursor = this.host.sql.exec(
        "UPDATE directory_outbox SET acked = ? WHERE id = 1 AND acked < ?",
        version,
        version,
      );
      this.rowsWritten += cursor.rowsWritten;
    }
    this.host.settled();
  }
}

const keyOf = (group: Group | null): string => (group ? JSON.stringify(group.summary()) : "");
