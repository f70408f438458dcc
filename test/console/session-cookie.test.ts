/**
 * The session cookie on /v1 and the watch (API.md §9, §5): it stands in for the Authorization header;
 * an unsafe request (or an upgrade) it authenticates must come from the coordinator's own origin, else
 * 403 in §1's error shape and nothing changes; requests with a header token are not affected.
 */

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectError, freshGroup, token } from "../integration/helpers";
import { adminToken, commitOffsets, joinConsumer, ORIGIN, SESSION } from "./console-helpers";

const EVIL = "https://evil.test";

/** A /v1 request carrying only the session cookie (and the headers given). */
async function withCookie(
  method: string,
  path: string,
  jwt: string,
  headers: Record<string, string> = {},
  body?: unknown,
) {
  const res = await exports.default.fetch(`${ORIGIN}${path}`, {
    method,
    headers: {
      cookie: `${SESSION}=${jwt}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed, headers: res.headers };
}

const offsetsOf = async (g: string) => (await call("GET", `/v1/groups/${g}/offsets`)).body.offsets;

describe("/v1 with the session cookie", () => {
  it("reads with the cookie alone, as it would with the header", async () => {
    const g = freshGroup("ck");
    await commitOffsets(g, "t", [[0, 3, 5]]);
    const read = await withCookie("GET", `/v1/groups/${g}/lag`, await adminToken());
    expect(read.status).toBe(200);
    expect(read.body.totalLag).toBe(2);
    expectError(await withCookie("GET", `/v1/groups/${g}/lag`, "garbage"), 401, "UNAUTHENTICATED", null);
    const outside = await withCookie("GET", `/v1/groups/${g}/lag`, await adminToken(["other-*"]));
    expectError(outside, 403, "GROUP_AUTHORIZATION_FAILED", 30);
  });

  it("refuses a cross-origin unsafe request with the cookie (403, nothing changed)", async () => {
    const g = freshGroup("csrf");
    await commitOffsets(g, "t", [[0, 3, 5]]);
    const jwt = await adminToken();
    const commit = { offsets: [{ topic: "t", partition: 0, offset: 99 }] };
    const refusals: Record<string, string>[] = [
      { origin: EVIL },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      {}, // neither header: a browser always sends one with an unsafe request
      { origin: "null" },
      { origin: `${ORIGIN}.evil.test` },
    ];
    for (const headers of refusals) {
      const r = await withCookie("POST", `/v1/groups/${g}/offsets`, jwt, headers, commit);
      expectError(r, 403, "GROUP_AUTHORIZATION_FAILED", 30);
      expect(r.body.error.message).toContain("own origin");
    }
    expectError(
      await withCookie("DELETE", `/v1/groups/${g}`, jwt, { origin: EVIL }),
      403,
      "GROUP_AUTHORIZATION_FAILED",
      30,
    );
    expect((await offsetsOf(g)).map((o: any) => o.offset)).toEqual([3]);
    expect((await call("GET", `/v1/groups/${g}`)).status).toBe(200);
  });

  it("lets a same-origin unsafe request with the cookie through", async () => {
    const g = freshGroup("same");
    const jwt = await adminToken();
    const commit = (offset: number) => ({ offsets: [{ topic: "t", partition: 0, offset }] });
    expect(
      (await withCookie("POST", `/v1/groups/${g}/offsets`, jwt, { origin: ORIGIN }, commit(4))).status,
    ).toBe(200);
    const bySecFetch = await withCookie(
      "POST",
      `/v1/groups/${g}/offsets`,
      jwt,
      { "sec-fetch-site": "same-origin" },
      commit(5),
    );
    expect(bySecFetch.status).toBe(200);
    expect((await offsetsOf(g)).map((o: any) => o.offset)).toEqual([5]);
  });

  it("leaves requests with a header token alone, whatever their origin", async () => {
    const g = freshGroup("hdr");
    const r = await call(
      "POST",
      `/v1/groups/${g}/offsets`,
      { offsets: [{ topic: "t", partition: 0, offset: 7 }] },
      {
        headers: { origin: EVIL, cookie: `${SESSION}=garbage` },
      },
    );
    expect(r.status).toBe(200);
    expect((await offsetsOf(g)).map((o: any) => o.offset)).toEqual([7]);
  });
});

describe("the watch socket with the session cookie", () => {
  const upgrade = async (g: string, jwt: string, origin: string) =>
    exports.default.fetch(`${ORIGIN}/v1/groups/${g}/members/m1/watch`, {
      headers: { upgrade: "websocket", cookie: `${SESSION}=${jwt}`, origin },
    });

  it("accepts the cookie from the coordinator's own origin and refuses it from another", async () => {
    const g = freshGroup("wck");
    await joinConsumer(g, "m1", "t", 2);
    const jwt = await token({ groups: [g], scope: "consume" });
    const accepted = await upgrade(g, jwt, ORIGIN);
    expect(accepted.status).toBe(101);
    const ws = accepted.webSocket!;
    ws.accept();
    const first = await new Promise<any>((resolve) =>
      ws.addEventListener("message", (e) => resolve(JSON.parse(String(e.data)))),
    );
    expect(first.type).toBe("assignment");
    ws.close();
    const refused = await upgrade(g, jwt, EVIL);
    expect(refused.status).toBe(403);
    expect((await refused.json<any>()).error.code).toBe("GROUP_AUTHORIZATION_FAILED");
  });
});
