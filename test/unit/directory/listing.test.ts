/**
 * The listing's pure parts: the shard hash, the cursor, the id ranges a token and a prefix allow, and
 * the merge of shard pages, paged to the end against in-memory shards (fast-check).
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { GroupSummary } from "../../../src/core/group.ts";
import { decodeCursor, encodeCursor } from "../../../src/directory/cursor.ts";
import type { IdRange, ShardPage } from "../../../src/directory/directory-object.ts";
import { accessRanges, MAX_GRANT_RANGES, mergePages, perShard } from "../../../src/directory/listing.ts";
import { DIRECTORY_SHARDS, hashGroupId, shardOf } from "../../../src/directory/shards.ts";
import { mayAccess } from "../../../src/http/auth.ts";

const idChar = fc.constantFrom(..."ab.-_019Zz");
const groupId = fc.string({ unit: idChar, minLength: 1, maxLength: 6 });

const inRanges = (ranges: IdRange[] | null, id: string) =>
  ranges === null || ranges.some((r) => (r.exact ? id === r.prefix : id.startsWith(r.prefix)));

/** What one shard's SQL answers: its rows in id order after `after`, in `ranges`, `limit` of them. */
function shardList(rows: string[], after: string | null, ranges: IdRange[] | null, limit: number): ShardPage {
  const match = rows.filter((id) => (after === null || id > after) && inRanges(ranges, id)).sort();
  const page = match
    .slice(0, limit)
    .map((id): GroupSummary => ({ groupId: id, type: "classic", state: "Empty", members: 0 }));
  return { rows: page, more: match.length > limit };
}

describe("shards", () => {
  it("hash group ids stably (FNV-1a) and spread them evenly", () => {
    expect(hashGroupId("")).toBe(0x811c9dc5);
    expect(hashGroupId("a")).toBe(0xe40c292c);
    const counts = new Array(DIRECTORY_SHARDS).fill(0);
    for (let i = 0; i < 32_000; i++) counts[shardOf(`orders-app-${i}`)]++;
    for (const n of counts) expect(Math.abs(n - 1000)).toBeLessThan(200);
  });
});

describe("cursor", () => {
  it("round-trips every group id and refuses anything else", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9._-]{1,249}$/), (id) => {
        expect(decodeCursor(encodeCursor(id))).toBe(id);
      }),
    );
    for (const bad of [
      "",
      "x",
      "====",
      "MTpvcmRlcnM=",
      btoa("2:orders"),
      btoa("1:or/ders"),
      btoa("1:"),
      "a".repeat(341),
    ]) {
      expect(decodeCursor(bad)).toBeNull();
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        const id = decodeCursor(text);
        if (id !== null) expect(id).toMatch(/^[A-Za-z0-9._-]{1,249}$/);
      }),
    );
  });
});

describe("accessRanges", () => {
  it("match exactly the ids the token may describe under the prefix, sorted and disjoint", () => {
    const pattern = fc.oneof(
      fc.constant("*"),
      groupId,
      groupId.map((p) => `${p}*`),
      fc.constant("a*"),
      fc.constant("*x"),
    );
    fc.assert(
      fc.property(
        fc.option(fc.array(pattern, { maxLength: 8 }), { nil: null }),
        fc.oneof(fc.constant(""), fc.string({ unit: idChar, maxLength: 3 })),
        fc.array(groupId, { maxLength: 40 }),
        (patterns, prefix, ids) => {
          const ranges = accessRanges(patterns, prefix);
          const grant = {
            scopes: new Set<"describe">(["describe"]),
            groups: patterns,
            expiresAt: null,
            subject: null,
          };
          for (const id of ids) {
            expect(inRanges(ranges, id)).toBe(mayAccess(grant, id) && id.startsWith(prefix));
          }
          if (ranges === null) return;
          for (let i = 1; i < ranges.length; i++) {
            const [a, b] = [ranges[i - 1]!, ranges[i]!];
            expect(a.prefix < b.prefix || (a.prefix === b.prefix && !a.exact && b.exact)).toBe(true);
            expect(!a.exact && b.prefix.startsWith(a.prefix)).toBe(false);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("fall back to the prefix alone past MAX_GRANT_RANGES patterns (the Worker filters then)", () => {
    const many = Array.from({ length: MAX_GRANT_RANGES + 1 }, (_, i) => `g-${i}`);
    expect(accessRanges(many, "")).toBeNull();
    expect(accessRanges(many, "g-")).toEqual([{ prefix: "g-", exact: false }]);
    expect(accessRanges(["team-a-*"], "team-b")).toEqual([]);
    expect(accessRanges(["team-*"], "team-a-")).toEqual([{ prefix: "team-a-", exact: false }]);
  });
});

describe("mergePages", () => {
  it("pages through shards to every id exactly once, in order, never an empty page before the end", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(groupId, { maxLength: 300 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 60 }),
        fc.option(
          fc.array(
            fc.oneof(
              groupId,
              groupId.map((p) => `${p}*`),
            ),
            { maxLength: 4 },
          ),
          { nil: null },
        ),
        (ids, shards, limit, patterns) => {
          const byShard = Array.from({ length: shards }, () => [] as string[]);
          for (const id of ids) byShard[hashGroupId(id) % shards]!.push(id);
          const ranges = accessRanges(patterns, "");
          const per = perShard(limit, shards);
          const seen: string[] = [];
          let after: string | null = null;
          for (let pages = 0; ; pages++) {
            expect(pages).toBeLessThanOrEqual(ids.length + 1);
            const { rows, more } = mergePages(
              byShard.map((rowsOf) => shardList(rowsOf, after, ranges, per)),
              limit,
            );
            expect(rows.length).toBeLessThanOrEqual(limit);
            seen.push(...rows.map((r) => r.groupId));
            if (!more) break;
            expect(rows.length).toBeGreaterThan(0);
            after = rows[rows.length - 1]!.groupId;
          }
          expect(seen).toEqual(ids.filter((id) => inRanges(ranges, id)).sort());
        },
      ),
      { numRuns: 500 },
    );
  });

  it("asks each shard for about 1.5× its share of a page", () => {
    expect(perShard(1000)).toBe(Math.ceil(1500 / DIRECTORY_SHARDS) + 8);
    expect(perShard(1)).toBe(1);
    expect(perShard(10, 1)).toBe(10);
  });
});
