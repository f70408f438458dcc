/**
 * GET /v1/groups across the directory's shards: each shard reads a page in group id order in SQL
 * (state, type, the query's prefix and the ranges the token may describe), the Worker merges them.
 *
 * Each shard is asked for about 1.5× its share of the page (groups hash uniformly over the shards),
 * not for the whole page: a shard that has more rows than it returned bounds the page at its last
 * row, since rows past it may be missing. So a page holds every matching group up to its last one,
 * none twice, and may be shorter than `limit` (rarely, when one shard's share runs over); nextCursor
 * names the last group the page covered, and is null only when no shard has more.
 */

import type { GroupSummary, GroupType } from "../core/group.ts";
import { type Grant, mayAccess } from "../http/auth.ts";
import { encodeCursor } from "./cursor.ts";
import type { IdRange, ShardPage } from "./directory-object.ts";
import { DIRECTORY_SHARDS, shardStub } from "./shards.ts";

/** Ranges of a token's group patterns pushed into each shard's SQL; beyond this the Worker filters. */
export const MAX_GRANT_RANGES = 64;

export interface ListQuery {
  states?: string[] | undefined;
  types?: GroupType[] | undefined;
  prefix?: string | undefined;
  limit: number;
  /** Only groups after this id (the decoded cursor). */
  after: string | null;
}

export interface ListPage {
  groups: GroupSummary[];
  nextCursor: string | null;
}

/** Rows asked of each shard for a page of `limit`: ~1.5× its share, and a few more. */
export const perShard = (limit: number, shards = DIRECTORY_SHARDS): number =>
  Math.min(limit, Math.ceil((limit * 3) / (2 * shards)) + 8);

export async function listGroups(env: Env, grant: Grant, query: ListQuery): Promise<ListPage> {
  const ranges = accessRanges(grant.groups, query.prefix ?? "");
  if (ranges !== null && ranges.length === 0) return { groups: [], nextCursor: null };
  const shardQuery = {
    after: query.after,
    ranges,
    states: query.states,
    types: query.types,
    limit: perShard(query.limit),
  };
  const pages = await Promise.all(
    Array.from({ length: DIRECTORY_SHARDS }, (_, i) => shardStub(env, i).list(shardQuery)),
  );
  const { rows, more } = mergePages(pages, query.limit);
  return {
    // The token's patterns are in the SQL; this filter is the authority (and all of it past MAX_GRANT_RANGES).
    groups: rows.filter((g) => mayAccess(grant, g.groupId)),
    nextCursor: more && rows.length > 0 ? encodeCursor(rows[rows.length - 1]!.groupId) : null,
  };
}

/**
 * Shard pages (each in id order) → the first `limit` rows in id order that are complete: up to the
 * lowest last row of any shard that has more. `more`: whether anything may follow the rows returned.
 */
export function mergePages(
  pages: readonly ShardPage[],
  limit: number,
): { rows: GroupSummary[]; more: boolean } {
  let bound: string | null = null;
  for (const page of pages) {
    const last = page.rows[page.rows.length - 1];
    if (page.more && last && (bound === null || last.groupId < bound)) bound = last.groupId;
  }
  const all: GroupSummary[] = [];
  for (const page of pages) {
    for (const row of page.rows) if (bound === null || row.groupId <= bound) all.push(row);
  }
  all.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  return { rows: all.slice(0, limit), more: all.length > limit || bound !== null };
}

/**
 * The id ranges a listing may read: the token's patterns (exact ids, `prefix*`, `*`; null: every
 * group) intersected with the query's prefix, sorted, with ranges inside others dropped — so they are
 * disjoint and in id order. null: every id. [] : nothing the token may describe matches.
 */
export function accessRanges(patterns: readonly string[] | null, prefix: string): IdRange[] | null {
  const all = prefix === "" ? null : [{ prefix, exact: false }];
  if (patterns === null) return all;
  const ranges: IdRange[] = [];
  for (const p of patterns) {
    if (p === "*") return all;
    if (p.endsWith("*")) {
      const start = p.slice(0, -1);
      if (start.startsWith(prefix)) ranges.push({ prefix: start, exact: false });
      else if (prefix.startsWith(start)) ranges.push({ prefix, exact: false });
    } else if (p.startsWith(prefix)) ranges.push({ prefix: p, exact: true });
  }
  // A prefix sorts before everything it covers; an exact id after the prefix range of the same text.
  ranges.sort((a, b) =>
    a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : Number(a.exact) - Number(b.exact),
  );
  const kept: IdRange[] = [];
  let cover: string | null = null;
  for (const r of ranges) {
    if (cover !== null && r.prefix.startsWith(cover)) continue;
    const last = kept[kept.length - 1];
    if (last?.exact && r.exact && last.prefix === r.prefix) continue;
    kept.push(r);
    if (!r.exact) cover = r.prefix;
  }
  if (kept.length > MAX_GRANT_RANGES) return all;
  return kept;
}
