/**
 * Bad input never breaks the coordinator: fast-check throws random and malformed requests (bodies,
 * paths, ids, numbers out of range, huge strings, wrong types, broken JSON, bad tokens) at the Worker.
 * None may get a 5xx, and every error must have API.md §1's shape with the status fixed for its code.
 */

import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { expect, it } from "vitest";
import { ERRORS } from "../../src/core/errors";
import { token } from "./helpers";

const groupIds = fc.oneof(
  fc.constantFrom("fuzz-a", "fuzz-b", "orders.v1_x-y"),
  fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/),
  fc.string({ maxLength: 30 }),
  fc.constant("x".repeat(250)),
  fc.constantFrom("%00", "..", "%2F", "a%20b", "é", "🙂", "a/b"),
);
const numbers = fc.oneof(
  fc.integer({ min: -5, max: 20 }),
  fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1, 2 ** 53, -1, 1.5, Number.MAX_VALUE, -0),
  fc.double(),
);
const weird = fc.oneof(
  fc.string({ maxLength: 40 }),
  numbers,
  fc.boolean(),
  fc.constant(null),
  fc.anything({ maxDepth: 2 }),
);
const offsetEntry = fc.record(
  {
    topic: fc.oneof(fc.constantFrom("t", "orders"), weird),
    partition: fc.oneof(numbers, weird),
    offset: fc.oneof(numbers, weird),
    metadata: fc.oneof(fc.string({ maxLength: 30 }), fc.constant("m".repeat(5000)), weird),
    leaderEpoch: fc.oneof(numbers, weird),
    logEndOffset: fc.oneof(numbers, weird),
  },
  { requiredKeys: [] },
);
const bodies = fc.oneof(
  fc.record(
    {
      memberId: fc.oneof(fc.string({ maxLength: 10 }), weird),
      generationId: fc.oneof(numbers, weird),
      memberEpoch: fc.oneof(numbers, weird),
      groupInstanceId: fc.oneof(fc.string({ maxLength: 10 }), weird),
      offsets: fc.oneof(fc.array(offsetEntry, { maxLength: 5 }), weird),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      topic: fc.oneof(fc.constant("t"), weird),
      partitions: fc.oneof(fc.array(numbers, { maxLength: 4 }), weird),
      to: fc.oneof(fc.constantFrom("earliest", "latest", "offset", "shift"), weird),
      offset: fc.oneof(numbers, weird),
      shiftBy: fc.oneof(numbers, weird),
      dryRun: fc.oneof(fc.boolean(), weird),
    },
    { requiredKeys: [] },
  ),
  fc.anything({ maxDepth: 3 }),
  fc.json(),
);
const partitionSegment = fc.oneof(numbers.map(String), fc.string({ maxLength: 12 }));
/** Real routes with their methods, mostly; then anything. */
const requests = fc.oneof(
  { weight: 3, arbitrary: groupIds.map((g) => ["POST", `/v1/groups/${g}/offsets`] as const) },
  { weight: 2, arbitrary: groupIds.map((g) => ["POST", `/v1/groups/${g}/offsets/reset`] as const) },
  { weight: 1, arbitrary: groupIds.map((g) => ["GET", `/v1/groups/${g}/offsets`] as const) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(groupIds, fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }))
      .map(
        ([g, ts]) =>
          [
            "GET",
            `/v1/groups/${g}/offsets?${ts.map((t) => `topic=${encodeURIComponent(t)}`).join("&")}`,
          ] as const,
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(groupIds, groupIds, partitionSegment)
      .map(([g, t, p]) => ["GET", `/v1/groups/${g}/offsets/${t}/${p}`] as const),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(groupIds, groupIds, fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }))
      .map(
        ([g, t, ps]) =>
          [
            "DELETE",
            `/v1/groups/${g}/offsets/${t}?${ps.map((p) => `partition=${encodeURIComponent(p)}`).join("&")}`,
          ] as const,
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("GET", "DELETE"), groupIds)
      .map(([m, g]) => [m, `/v1/groups/${g}`] as const),
  },
  { weight: 1, arbitrary: groupIds.map((g) => ["GET", `/v1/groups/${g}/lag`] as const) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }))
      .map(
        ([s, t]) =>
          ["GET", `/v1/groups?state=${encodeURIComponent(s)}&type=${encodeURIComponent(t)}`] as const,
      ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH"),
      fc.oneof(
        fc.webPath().map((p) => `/v1${p}`),
        fc.constantFrom("/v1", "/v1/", "/v1/groups/", "/v2/groups", "/openapi.json", "/health"),
      ),
    ),
  },
);
const rawBodies = fc.oneof(
  bodies.map((b) => {
    try {
      return JSON.stringify(b) ?? "null";
    } catch {
      return "{}";
    }
  }),
  fc.constantFrom("{", "[1,2", "\u0000", "null", '{"offsets": [', "", "true"),
  fc.string({ maxLength: 200 }),
);

it("gives no 5xx and only well-formed errors for 1,200 random requests", async () => {
  const admin = await token();
  const tokens = fc.oneof(
    { weight: 8, arbitrary: fc.constant<string | null>(admin) },
    { weight: 1, arbitrary: fc.constantFrom<string | null>(null, "garbage", `${admin.slice(0, -3)}abc`) },
  );
  let checked = 0;
  await fc.assert(
    fc.asyncProperty(
      requests,
      rawBodies,
      tokens,
      fc.constantFrom(
        "application/json",
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "",
      ),
      async ([method, path], body, auth, contentType) => {
        const headers: Record<string, string> = {};
        if (contentType) headers["content-type"] = contentType;
        if (auth) headers.authorization = `Bearer ${auth}`;
        const hasBody = method !== "GET";
        let res: Response;
        try {
          res = await exports.default.fetch(`http://cohort.test${path}`, {
            method,
            headers,
            body: hasBody ? body : undefined,
          });
        } catch (err) {
          // A URL the client itself cannot form is not a request the Worker ever sees.
          if (err instanceof TypeError) return;
          throw err;
        }
        checked++;
        const text = await res.text();
        expect(res.status, `${method} ${path} ${body.slice(0, 80)}`).toBeLessThan(500);
        if (res.status >= 400) {
          const json = JSON.parse(text);
          const code = json.error.code as keyof typeof ERRORS;
          expect(Object.keys(json)).toEqual(["error"]);
          expect(ERRORS[code], `unknown code ${code}`).toBeDefined();
          expect(res.status).toBe(ERRORS[code].status);
          expect(json.error.kafkaCode).toBe(ERRORS[code].kafkaCode);
          expect(typeof json.error.message).toBe("string");
        }
      },
    ),
    { numRuns: 1200, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
  );
  expect(checked).toBeGreaterThan(1000);
}, 120_000);
