/**
 * GroupDirectory: one shard of the list of groups (GET /v1/groups); DIRECTORY_SHARDS of them
 * (src/directory/shards.ts), a group in the one its id hashes to. Each group sends its summary (type,
 * state, member count) with a version that only grows, from its outbox (src/directory/outbox.ts),
 * off the request path and again until acknowledged. A shard keeps the newest version per group:
 * an older update arriving late changes nothing. A removal is a versioned tombstone (so a late older
 * update cannot bring a deleted group back), purged by the shard's alarm TOMBSTONE_TTL_MS later.
 *
 * Listing reads one page of one shard: the filters (`state`, `type`, the ranges a prefix and the
 * token allow) are in the SQL, in group id order from a cursor, over the primary key.
 */

import { DurableObject } from "cloudflare:workers";
import type { GroupSummary, GroupType } from "../core/group.ts";

/** A contiguous part of the id space: the ids starting with `prefix`, or exactly `prefix`. */
export interface IdRange {
  prefix: string;
  exact: boolean;
}

export interface ShardQuery {
  /** Only ids after this one (exclusive); null: from the start. */
  after: string | null;
  /** Only ids in these ranges (sorted, disjoint); null: every id. */
  ranges: IdRange[] | null;
  states?: string[] | undefined;
  types?: GroupType[] | undefined;
  /** Rows wanted (1 … 1000). */
  limit: number;
}

export interface ShardPage {
  rows: GroupSummary[];
  /** Whether the shard has more matching rows after the last one returned. */
  more: boolean;
}

export interface ShardStats {
  /** Updates received (applied or ignored as not newer), lists served, since the object started. */
  updates: number;
  applied: number;
  lists: number;
  startedAt: number;
  listed: number;
  tombstones: number;
}

/** How long a removal's tombstone outlives it: far longer than any update stays in flight. */
export const TOMBSTONE_TTL_MS = 3_600_000;

/** What a test can make a shard do (only with the var COHORT_TEST_HOOKS=1): fail, or never answer. */
export type DirectoryFault = "none" | "throw" | "hang";

export class GroupDirectory extends DurableObject<Env> {
  private fault: DirectoryFault = "none";
  /** Calls held by a "hang" fault: they go on once the fault is cleared. */
  private readonly hung: (() => void)[] = [];
  private readonly counts = { updates: 0, applied: 0, lists: 0, startedAt: Date.now() };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      // `removed_at` is set on tombstones (type, state and members null): a removal at `version`.
      ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS entries (
        group_id TEXT PRIMARY KEY, version INTEGER NOT NULL, type TEXT, state TEXT, members INTEGER,
        removed_at INTEGER) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS tombstones ON entries (removed_at) WHERE removed_at IS NOT NULL;`);
    });
  }

  /**
   * Records a group's summary at `version`, or its removal (null), unless the shard already holds that
   * version or a newer one. Answers whether it was applied; either way the sender may stop sending it.
   */
  async record(groupId: string, version: number, summary: GroupSummary | null): Promise<boolean> {
    await this.faulty();
    this.counts.updates++;
    const removedAt = summary ? null : Date.now();
    const cursor = this.ctx.storage.sql.exec(
      `INSERT INTO entries (group_id, version, type, state, members, removed_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_id) DO UPDATE SET version = excluded.version, type = excluded.type,
         state = excluded.state, members = excluded.members, removed_at = excluded.removed_at
       WHERE excluded.version > entries.version`,
      groupId,
      version,
      summary?.type ?? null,
      summary?.state ?? null,
      summary?.members ?? null,
      removedAt,
    );
    const applied = cursor.rowsWritten > 0;
    if (applied) this.counts.applied++;
    if (applied && removedAt !== null && (await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(removedAt + TOMBSTONE_TTL_MS);
    }
    return applied;
  }

  /** One page of this shard's groups in id order, filtered in SQL. */
  async list(query: ShardQuery): Promise<ShardPage> {
    await this.faulty();
    this.counts.lists++;
    const sql = this.ctx.storage.sql;
    const filters: string[] = [];
    const filterArgs: SqlStorageValue[] = [];
    if (query.states?.length) {
      filters.push("AND state IN (SELECT value FROM json_each(?))");
      filterArgs.push(JSON.stringify(query.states));
    }
    if (query.types?.length) {
      filters.push("AND type IN (SELECT value FROM json_each(?))");
      filterArgs.push(JSON.stringify(query.types));
    }
    const rows: GroupSummary[] = [];
    const want = query.limit + 1;
    for (const range of query.ranges ?? [{ prefix: "", exact: false }]) {
      if (rows.length >= want) break;
      // Ids are [A-Za-z0-9._-] (all below '~'): the ids starting with p are exactly [p, p || '~').
      const where = range.exact ? "group_id = ?" : "group_id >= ? AND group_id < (? || '~')";
      const cursor = sql.exec(
        `SELECT group_id, type, state, members FROM entries
         WHERE ${where} AND group_id > ? AND removed_at IS NULL ${filters.join(" ")}
         ORDER BY group_id LIMIT ?`,
        ...(range.exact ? [range.prefix] : [range.prefix, range.prefix]),
        query.after ?? "",
        ...filterArgs,
        want - rows.length,
      );
      for (const r of cursor) {
        rows.push({
          groupId: r.group_id as string,
          type: r.type as GroupType,
          state: r.state as string,
          members: r.members as number,
        });
      }
    }
    const more = rows.length > query.limit;
    return { rows: more ? rows.slice(0, query.limit) : rows, more };
  }

  /** Purges tombstones older than TOMBSTONE_TTL_MS; re-arms for the oldest one left. */
  override async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    const cutoff = Date.now() - TOMBSTONE_TTL_MS;
    sql.exec("DELETE FROM entries WHERE removed_at IS NOT NULL AND removed_at <= ?", cutoff);
    const oldest = sql.exec("SELECT MIN(removed_at) AS t FROM entries WHERE removed_at IS NOT NULL").one()
      .t as number | null;
    if (oldest !== null) await this.ctx.storage.setAlarm(oldest + TOMBSTONE_TTL_MS);
  }

  /** Counts since the object started, and the rows it holds: for tests and the many-groups bench. */
  async stats(): Promise<ShardStats> {
    const sql = this.ctx.storage.sql;
    const row = sql
      .exec(
        `SELECT COUNT(*) FILTER (WHERE removed_at IS NULL) AS listed,
           COUNT(*) FILTER (WHERE removed_at IS NOT NULL) AS tombstones FROM entries`,
      )
      .one();
    return { ...this.counts, listed: row.listed as number, tombstones: row.tombstones as number };
  }

  /** Test hook (COHORT_TEST_HOOKS=1 only): makes this shard fail or hang until set back to "none". */
  async setFault(fault: DirectoryFault): Promise<void> {
    if ((this.env as unknown as Record<string, unknown>).COHORT_TEST_HOOKS !== "1") {
      throw new Error("directory faults are a test hook (COHORT_TEST_HOOKS=1)");
    }
    this.fault = fault;
    if (fault === "hang") return;
    for (const resume of this.hung.splice(0)) resume();
  }

  private async faulty(): Promise<void> {
    if (this.fault === "throw") throw new Error("cohort: directory shard unavailable (test fault)");
    if (this.fault === "hang") await new Promise<void>((resume) => this.hung.push(resume));
  }
}
