/**
 * Auth (API.md §2): 401 for missing, forged or expired tokens; 403 outside the token's groups or
 * scopes; the group list filtered by the token's patterns.
 */

import { describe, expect, it } from "vitest";
import { TEST_JWT_SECRET } from "../test-secret";
import { call, commit, expectError, freshGroup, LIST_LAG, listedIds, token } from "./helpers";

const entry = [{ topic: "t", partition: 0, offset: 1 }];

describe("authentication", () => {
  it("rejects a request without a token", async () => {
    expectError(
      await call("GET", `/v1/groups/${freshGroup()}/offsets`, undefined, { token: null }),
      401,
      "UNAUTHENTICATED",
      null,
    );
    expectError(await call("GET", "/v1/groups", undefined, { token: null }), 401, "UNAUTHENTICATED", null);
  });

  it("rejects a token signed with another key", async () => {
    const forged = await token({}, `${TEST_JWT_SECRET}-other`);
    expectError(
      await call("GET", `/v1/groups/${freshGroup()}/offsets`, undefined, { token: forged }),
      401,
      "UNAUTHENTICATED",
      null,
    );
  });

  it("never echoes the token in a refusal (expired, not yet valid, forged)", async () => {
    const now = Math.floor(Date.now() / 1000);
    const { sign } = await import("hono/jwt");
    const tokens = [
      await token({ exp: now - 60 }),
      await token({ exp: now + 600, nbf: now + 300 }),
      await sign({ exp: now + 600, groups: ["*"], scope: "admin" }, "another-secret-entirely", "HS256"),
    ];
    for (const t of tokens) {
      const res = await call("GET", `/v1/groups/${freshGroup()}/offsets`, undefined, { token: t });
      expectError(res, 401, "UNAUTHENTICATED", null);
      const text = JSON.stringify(res.body);
      for (const part of t.split(".")) expect(text).not.toContain(part);
    }
  });

  it("rejects an expired token and one without exp", async () => {
    const expired = await token({ exp: Math.floor(Date.now() / 1000) - 60 });
    expectError(
      await call("GET", `/v1/groups/${freshGroup()}/offsets`, undefined, { token: expired }),
      401,
      "UNAUTHENTICATED",
      null,
    );
    const { sign } = await import("hono/jwt");
    const noExp = await sign({ groups: ["*"], scope: "admin" }, TEST_JWT_SECRET, "HS256");
    expectError(
      await call("GET", `/v1/groups/${freshGroup()}/offsets`, undefined, { token: noExp }),
      401,
      "UNAUTHENTICATED",
      null,
    );
  });

  it("accepts HS256 only: refuses alg none and other algorithms even with the right secret", async () => {
    const { sign } = await import("hono/jwt");
    const claims = { exp: Math.floor(Date.now() / 1000) + 60, groups: ["*"], scope: "admin" };
    const b64 = (o: unknown) =>
      btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
    const hs512 = await sign(claims, TEST_JWT_SECRET, "HS512");
    for (const t of [unsigned, hs512]) {
      expectError(await call("GET", "/v1/groups", undefined, { token: t }), 401, "UNAUTHENTICATED", null);
    }
  });

  it("rejects a malformed token and a non-Bearer scheme", async () => {
    expectError(
      await call("GET", "/v1/groups", undefined, { token: "not.a.jwt" }),
      401,
      "UNAUTHENTICATED",
      null,
    );
    const good = await token();
    const basic = await call("GET", "/v1/groups", undefined, {
      token: null,
      headers: { authorization: `Basic ${good}` },
    });
    expectError(basic, 401, "UNAUTHENTICATED", null);
  });

  it("leaves /health and /openapi.json open", async () => {
    expect(await call("GET", "/health", undefined, { token: null })).toMatchObject({
      status: 200,
      body: { status: "ok" },
    });
    const doc = await call("GET", "/openapi.json", undefined, { token: null });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
    expect(Object.keys(doc.body.paths)).toContain("/v1/groups/{groupId}/offsets");
    expect(doc.body.components.schemas.OffsetCommitRequest.properties.offsets.maxItems).toBe(10000);
  });
});

describe("authorization", () => {
  it("refuses a group outside the token's patterns and allows exact ids and prefixes", async () => {
    const t = await token({ groups: ["billing", "orders-*"], scope: "consume" });
    expectError(
      await call("POST", "/v1/groups/payments/offsets", { offsets: entry }, { token: t }),
      403,
      "GROUP_AUTHORIZATION_FAILED",
      30,
    );
    expect((await call("POST", "/v1/groups/billing/offsets", { offsets: entry }, { token: t })).status).toBe(
      200,
    );
    expect(
      (await call("POST", "/v1/groups/orders-eu/offsets", { offsets: entry }, { token: t })).status,
    ).toBe(200);
    expectError(
      await call("POST", "/v1/groups/orders/offsets", { offsets: entry }, { token: t }),
      403,
      "GROUP_AUTHORIZATION_FAILED",
      30,
    );
  });

  it("requires the scope of each route, with admin implying the others", async () => {
    const g = freshGroup();
    await commit(g, entry);
    const consume = await token({ scope: "consume" });
    const describeOnly = await token({ scope: "describe" });
    const admin = await token({ scope: "admin" });
    const none = await token({ scope: "" });
    // consume: commit and fetch, not describe or admin routes.
    expect((await call("GET", `/v1/groups/${g}/offsets`, undefined, { token: consume })).status).toBe(200);
    expectError(
      await call("GET", `/v1/groups/${g}`, undefined, { token: consume }),
      403,
      "GROUP_AUTHORIZATION_FAILED",
      30,
    );
    expectError(
      await call("GET", `/v1/groups/${g}/lag`, undefined, { token: consume }),
      403,
      "GROUP_AUTHORIZATION_FAILED",
      30,
    );
    expectError(
      await call("GET", "/v1/groups", undefined, { token: consume }),
      403,
      "GROUP_AUTHORIZATION_FAILED",
      30,
    );
    // describe: read everything, write nothing.
    expect(
      (await call("GET", `/v1/groups/${g}/offsets/t/0`, undefined, { token: describeOnly })).status,
    ).toBe(200);
    expect((await call("GET", `/v1/groups/${g}`, undefined, { token: describeOnly })).status).toBe(200);
    expectError(
      await call("POST", `/v1/groups/${g}/offsets`, { offsets: entry }, { token: describeOnly }),
      403,
      "GROUP_AUTHORIZATION_FAILED",
      30,
    );
    const reset = { topic: "t", to: "earliest" };
    expectError(
      await call("POST", `/v1/groups/${g}/offsets/reset`, reset, { token: describeOnly }),
      403,
      "GROUP_AUTHORIZATION_FAILED",
      30,
    );
    expectError(
      await call("DELETE", `/v1/groups/${g}/offsets/t`, undefined, { token: consume }),
      403,
      "GROUP_AUTHORIZATION_FAILED",
      30,
    );
    expectError(
      await call("DELETE", `/v1/groups/${g}`, undefined, { token: describeOnly }),
      403,
      "GROUP_AUTHORIZATION_FAILED",
      30,
    );
    expectError(
      await call("GET", `/v1/groups/${g}/offsets`, undefined, { token: none }),
      403,
      "GROUP_AUTHORIZATION_FAILED",
      30,
    );
    // Nothing the refused calls asked for happened.
    expect((await call("GET", `/v1/groups/${g}/offsets/t/0`)).body.offset).toBe(1);
    expect((await call("GET", `/v1/groups/${g}`)).status).toBe(200);
    // admin: everything.
    expect((await call("POST", `/v1/groups/${g}/offsets`, { offsets: entry }, { token: admin })).status).toBe(
      200,
    );
    expect((await call("GET", `/v1/groups/${g}/lag`, undefined, { token: admin })).status).toBe(200);
    expect((await call("POST", `/v1/groups/${g}/offsets/reset`, reset, { token: admin })).status).toBe(200);
    expect((await call("GET", `/v1/groups/${g}/offsets/t/0`)).body.offset).toBe(0);
  });

  it("lists only the groups the token may describe", async () => {
    for (const g of ["team-a-1", "team-a-2", "team-b-1", "other"]) await commit(g, entry);
    const t = await token({ groups: ["team-a-*", "other"], scope: "describe" });
    await expect.poll(() => listedIds("", t), LIST_LAG).toEqual(["other", "team-a-1", "team-a-2"]);
    const res = await call("GET", "/v1/groups", undefined, { token: t });
    expect(res.status).toBe(200);
    expect(res.body.groups.map((g: any) => g.groupId)).toEqual(["other", "team-a-1", "team-a-2"]);
    const everything = await call("GET", "/v1/groups");
    expect(everything.body.groups.map((g: any) => g.groupId)).toEqual(expect.arrayContaining(["team-b-1"]));
  });
});
