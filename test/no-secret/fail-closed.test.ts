/**
 * AUTH_MODE=jwt with no JWT_SECRET configured: every /v1 route fails closed with 503 (API.md §2),
 * whatever token is presented; /health stays up.
 */

import { exports } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { expect, it } from "vitest";

const ROUTES: [string, string, unknown?][] = [
  ["GET", "/v1/groups"],
  ["GET", "/v1/groups/g1"],
  ["DELETE", "/v1/groups/g1"],
  ["GET", "/v1/groups/g1/lag"],
  ["GET", "/v1/groups/g1/offsets"],
  ["POST", "/v1/groups/g1/offsets", { offsets: [{ topic: "t", partition: 0, offset: 1 }] }],
  ["GET", "/v1/groups/g1/offsets/t/0"],
  ["DELETE", "/v1/groups/g1/offsets/t"],
  ["POST", "/v1/groups/g1/offsets/reset", { topic: "t", to: "earliest" }],
  ["POST", "/v1/groups/g1/heartbeat", { memberEpoch: 0 }],
  ["POST", "/v1/groups/g1/classic/join", {}],
  ["GET", "/v1/no-such-route"],
];

it("answers 503 COORDINATOR_NOT_AVAILABLE with Retry-After on every /v1 route", async () => {
  // Signed with some key: there is none configured to check it against, so nothing may pass.
  const anyToken = await sign(
    { exp: Math.floor(Date.now() / 1000) + 60, groups: ["*"], scope: "admin" },
    "guess",
    "HS256",
  );
  for (const [method, path, body] of ROUTES) {
    for (const authorization of [undefined, `Bearer ${anyToken}`]) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (authorization) headers.authorization = authorization;
      const res = await exports.default.fetch(`http://cohort.test${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect({ path, status: res.status }).toEqual({ path, status: 503 });
      expect(res.headers.get("retry-after")).toBe("1");
      const json: any = await res.json();
      expect(json.error).toMatchObject({ code: "COORDINATOR_NOT_AVAILABLE", kafkaCode: 15 });
    }
  }
  const health = await exports.default.fetch("http://cohort.test/health");
  expect(health.status).toBe(200);
});
