/**
 * GET /v1/groups over the real shards (API.md §6): every matching group exactly once, in groupId
 * order, across shards and pages, with prefix, state and type filters and a token's patterns; under
 * concurrent creation and deletion of real groups; hostile limits, cursors and prefixes are 400
 * INVALID_REQUEST, never 5xx; and a fuzz of the query against a model of the entries.
 */

import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { GroupSummary, GroupType } from "../../src/core/group.ts";
import { encodeCursor } from "../../src/directory/cursor.ts";
import { call, commit, expectError, freshGroup, token } from "../integration/helpers";
import { listAll, listed, shardFor, until } from "./directory-helpers";

const STATES = ["Empty", "Stable", "Assigning", "PreparingRebalance"];
const TYPES: GroupType[] = ["classic", "consumer", "share"];
const FAMILIES = ["lx-a-", "lx-ab-", "lx-b.", "lx_c-"];

/** Synthetic entries written straight to their shards (the group objects are not involved). */
const model: GroupSummary[] = [];

beforeAll(async () => {
  const rand = fc.sample(fc.tuple(fc.nat(), fc.nat(), fc.nat(20)), { numRuns: 600, seed: 13 });
  for (let i = 0; i < rand.length; i++) {
    const [f, s, m] = rand[i]!;
    const groupId = `${FAMILIES[f % FAMILIES.length]}${i.toString(36)}`;
    model.push({ groupId, type: TYPES[(s >> 2) % 3]!, state: STATES[s % STATES.length]!, members: m });
  }
  await Promise.all(model.map((g) => shardFor(g.groupId).record(g.groupId, 1, g)));
  model.sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
}, 60_000);

const query = (q: { prefix?: string; states?: string[]; types?: string[]; limit?: number }) =>
  [
    ...(q.prefix !== undefined ? [`prefix=${q.prefix}`] : []),
    ...(q.states ?? []).map((s) => `state=${s}`),
    ...(q.types ?? []).map((t) => `type=${t}`),
    ...(q.limit !== undefined ? [`limit=${q.limit}`] : []),
  ].join("&");

const expected = (q: { prefix?: string; states?: string[]; types?: string[] }, may = (_id: string) => true) =>
  model.filter(
    (g) =>
      g.groupId.startsWith(q.prefix ?? "lx") &&
      (!q.states?.length || q.states.includes(g.state)) &&
      (!q.types?.length || q.types.includes(g.type)) &&
      may(g.groupId),
  );

describe("paging across shards", () => {
  it("returns every group exactly once, in order, with prefix, state and type filtered in the shards", async () => {
    for (const q of [
      { prefix: "lx", limit: 1000 },
      { prefix: "lx", limit: 7 },
      { prefix: "lx-a", limit: 13 },
      { prefix: "lx-ab-", limit: 1 },
      { prefix: "lx-", states: ["Stable", "Empty"], limit: 25 },
      { prefix: "lx", types: ["consumer"], states: ["Assigning"], limit: 4 },
      { prefix: "lx-b.", types: ["share", "classic"], limit: 50 },
      { prefix: "lx-zzz", limit: 10 },
    ]) {
      const { groups, pages } = await listAll(query(q));
      expect(groups, JSON.stringify(q)).toEqual(expected(q));
      if (q.limit < groups.length) expect(pages).toBeGreaterThanOrEqual(Math.ceil(groups.length / q.limit));
    }
  });

  it("shows a token only the groups it may describe, and pages through them completely", async () => {
    const mine = (id: string) => id.startsWith("lx-ab-") || id === model[0]!.groupId;
    const t = await token({ groups: ["lx-ab-*", model[0]!.groupId], scope: "describe" });
    expect((await listAll(query({ prefix: "lx", limit: 3 }), t)).groups).toEqual(expected({}, mine));
    // Past the patterns pushed into SQL (64), the Worker's filter alone: pages may be short, none lost.
    const some = model.filter((_, i) => i % 7 === 0).map((g) => g.groupId);
    const many = await token({ groups: [...some, "nothing-*"], scope: "describe" });
    const all = await listAll(query({ prefix: "lx", limit: 40 }), many);
    expect(all.groups).toEqual(expected({}, (id) => some.includes(id)));
    expect((await listAll("prefix=lx-b&limit=5", await token({ groups: ["lx-a-*"] }))).groups).toEqual([]);
  });

  it("stays exact under concurrent creation and deletion of real groups", async () => {
    const run = freshGroup("cc");
    const entry = [{ topic: "t", partition: 0, offset: 1 }];
    const initial = Array.from({ length: 40 }, (_, i) => `${run}-${String(i).padStart(3, "0")}`);
    await Promise.all(initial.map((g) => commit(g, entry)));
    await until(
      async () => (await listAll(`prefix=${run}-`)).groups.length,
      (n) => n === initial.length,
      10_000,
      "all listed",
    );
    const doomed = initial.filter((_, i) => i % 3 === 0);
    const churn = (async () => {
      for (let i = 0; i < 20; i++) {
        await commit(`${run}-${String(i * 2 + 1).padStart(3, "0")}x`, entry);
        const d = doomed[i];
        if (d) expect((await call("DELETE", `/v1/groups/${d}`)).status).toBe(200);
      }
    })();
    const pages = (async () => {
      const seen: string[] = [];
      for (let round = 0; round < 3; round++) {
        seen.length = 0;
        seen.push(...(await listAll(`prefix=${run}-&limit=3`)).groups.map((g) => g.groupId));
        for (let i = 1; i < seen.length; i++) expect(seen[i - 1]! < seen[i]!).toBe(true);
        for (const g of initial) if (!doomed.includes(g)) expect(seen).toContain(g);
      }
      return seen;
    })();
    await Promise.all([churn, pages]);
    // Once the churn is over, the list converges to exactly the groups that exist.
    const survivors = [
      ...initial.filter((g) => !doomed.includes(g)),
      ...Array.from({ length: 20 }, (_, i) => `${run}-${String(i * 2 + 1).padStart(3, "0")}x`),
    ].sort();
    await until(
      async () => (await listAll(`prefix=${run}-&limit=7`)).groups.map((g) => g.groupId),
      (ids) => JSON.stringify(ids) === JSON.stringify(survivors),
      10_000,
      "converged after churn",
    );
    expect(await listed(doomed[0]!)).toBeUndefined();
  });
});

describe("hostile listing queries", () => {
  const bad = [
    "limit=0",
    "limit=1001",
    "limit=-1",
    "limit=1e3",
    "limit=abc",
    "limit=",
    "limit=99999",
    "limit=5&limit=5",
    "limit=%00",
    "prefix=a/b",
    "prefix=%00",
    `prefix=${"p".repeat(250)}`,
    "prefix=a&prefix=b",
    "prefix=%E2%80%AE",
    "cursor=",
    "cursor=abc",
    "cursor=%00%00%00%00",
    `cursor=${encodeURIComponent(btoa("1:bad/id"))}`,
    `cursor=${encodeURIComponent(btoa("2:lx-a-1"))}`,
    `cursor=${btoa(`1:${"x".repeat(250)}`).replace(/=+$/, "")}`,
    `cursor=${"A".repeat(10_000)}`,
    `cursor=${encodeCursor("lx-a-1")}&cursor=${encodeCursor("lx-a-2")}`,
    "type=weird",
    `state=${"s".repeat(65)}`,
  ];
  it("are 400 INVALID_REQUEST with the problems listed", async () => {
    for (const q of bad) {
      const reply = await call("GET", `/v1/groups?${q}`);
      expectError(reply, 400, "INVALID_REQUEST", 42);
      expect(Array.isArray(reply.body.error.issues), q).toBe(true);
    }
  });

  it("accept every cursor they handed out, and an empty prefix (fuzz: no 5xx, 200 or 400 only)", async () => {
    expect((await call("GET", `/v1/groups?prefix=&limit=1&cursor=${encodeCursor("lx-b.")}`)).status).toBe(
      200,
    );
    const value = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.stringMatching(/^[A-Za-z0-9._-]{0,20}$/),
      fc.integer({ min: -5, max: 2000 }).map(String),
      fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/).map(encodeCursor),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom("limit", "prefix", "cursor", "state", "type"), value), {
          maxLength: 4,
        }),
        async (params) => {
          const q = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
          const reply = await call("GET", `/v1/groups?${q}`);
          expect([200, 400], q).toContain(reply.status);
          if (reply.status === 400) expectError(reply, 400, "INVALID_REQUEST", 42);
          else expect(Object.keys(reply.body).sort()).toEqual(["groups", "nextCursor"]);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("the OpenAPI document", () => {
  it("describes the listing's query and its page", async () => {
    const doc = (await call("GET", "/openapi.json", undefined, { token: null })).body;
    const list = doc.paths["/v1/groups"].get;
    const params = Object.fromEntries(list.parameters.map((p: any) => [p.name, p]));
    expect(Object.keys(params).sort()).toEqual(["cursor", "limit", "prefix", "state", "type"]);
    expect(params.limit.schema).toMatchObject({ type: "integer", minimum: 1, maximum: 1000, default: 1000 });
    expect(doc.components.schemas.GroupList.required).toEqual(["groups", "nextCursor"]);
  });
});

describe("a fuzz of the listing query", () => {
  it("pages through exactly the model's matching groups for random filters, prefixes and limits", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("lx", "lx-", "lx-a", "lx-a-", "lx-ab", "lx-b.", "lx_c-1", "lx-a-1"),
        fc.subarray(STATES),
        fc.subarray(TYPES),
        fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 60, max: 1000 })),
        async (prefix, states, types, limit) => {
          const q = { prefix, states, types, limit };
          const { groups } = await listAll(query(q));
          expect(groups).toEqual(expected(q));
        },
      ),
      { numRuns: 25 },
    );
  });
});
