/**
 * A hostile client's strings rendered by the console (API.md §9): every string a client chooses
 * (clientId, clientHost, groupInstanceId, memberId, leave reasons, offset metadata, the token's `sub`,
 * the flash cookie, sign-in's `next`) must come out as text, never as markup or a redirect elsewhere.
 * Also a valid token that outlives a cookie's 400-day cap must still sign in.
 */

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminToken, ORIGIN, ok, page, SESSION, select, testids } from "../console/console-helpers";
import { call, freshGroup, token } from "../integration/helpers";

/** Breaks out of text, of a double- and a single-quoted attribute, and of a script block. */
const XSS = `"'><script>alert(1)</script><img src=x onerror=alert(1)></textarea></title><svg onload=alert(1)>`;

/** No trace of the payload's markup in the page: it may only appear escaped. */
function expectInert(html: string, what: string): void {
  for (const needle of ["<script>alert", "<img src=x", "<svg onload", "onerror=alert(1)>"]) {
    expect(html.includes(needle), `${what}: raw ${needle}`).toBe(false);
  }
}

describe("client-chosen strings on the group page", () => {
  it("renders a consumer member's memberId, clientId, clientHost and instance id as text", async () => {
    const g = freshGroup("axss");
    const res = await call(
      "POST",
      `/v1/groups/${g}/heartbeat`,
      {
        memberId: `m${XSS}`,
        memberEpoch: 0,
        groupInstanceId: `i${XSS}`,
        clientId: `c${XSS}`,
        subscribedTopics: [{ name: "t", partitions: 2 }],
        ownedPartitions: [],
      },
      { headers: { "cf-connecting-ip": `h${XSS}` } },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const admin = await adminToken();
    for (const path of [`/console/groups/${g}`, `/console/groups/${g}?fragment=live`]) {
      const html = await ok(path, { session: admin });
      expectInert(html, path);
      const rows = await testids(html, "member-row");
      expect(rows.map((r) => r.attrs["data-member-id"])).toEqual([`m${XSS}`]);
      expect(rows[0]!.text).toContain(`c${XSS}`);
    }
    const html = await ok(`/console/groups/${g}`, { session: admin });
    const joined = (await testids(html, "event")).filter(
      (e) => e.attrs["data-event-type"] === "member_joined",
    );
    expect(joined.length).toBe(1);
    expect(joined[0]!.text).toContain(`i${XSS}`);
  });

  it("renders a classic member's clientId, leave reason and offset metadata as text", async () => {
    const g = freshGroup("axssc");
    const join = await call("POST", `/v1/groups/${g}/classic/join`, {
      memberId: "",
      groupInstanceId: `s${XSS}`,
      clientId: `k${XSS}`.slice(0, 255),
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 1000,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: JSON.stringify({ topics: ["t"] }) }],
    });
    expect(join.status, JSON.stringify(join.body)).toBe(200);
    const admin = await adminToken();
    expectInert(await ok(`/console/groups/${g}`, { session: admin }), "classic member");
    const leave = await call("POST", `/v1/groups/${g}/classic/leave`, {
      members: [{ memberId: join.body.memberId, groupInstanceId: `s${XSS}`, reason: XSS }],
    });
    expect(leave.status, JSON.stringify(leave.body)).toBe(200);
    const commit = await call("POST", `/v1/groups/${g}/offsets`, {
      offsets: [{ topic: "t", partition: 0, offset: 1, metadata: XSS, logEndOffset: 5 }],
    });
    expect(commit.status, JSON.stringify(commit.body)).toBe(200);
    const html = await ok(`/console/groups/${g}`, { session: admin });
    expectInert(html, "classic after leave");
    expectInert(await ok(`/console/groups/${g}/reset`, { session: admin }), "reset page");
  });

  it("renders the token's sub (the actor of an admin event) as text", async () => {
    const g = freshGroup("axsss");
    expect(
      (await call("POST", `/v1/groups/${g}/offsets`, { offsets: [{ topic: "t", partition: 0, offset: 3 }] }))
        .status,
    ).toBe(200);
    const hostile = await token({ sub: `u${XSS}` });
    const reset = await call(
      "POST",
      `/v1/groups/${g}/offsets/reset`,
      { topic: "t", to: "earliest" },
      { token: hostile },
    );
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    const events = await call("GET", `/v1/groups/${g}/events`);
    expect(events.body.events.find((e: any) => e.type === "offsets_reset").actor).toBe(`u${XSS}`);
    // Seen by the hostile signer's own session and by another admin's.
    for (const session of [hostile, await adminToken()]) {
      const html = await ok(`/console/groups/${g}`, { session });
      expectInert(html, "actor");
      const reset = (await testids(html, "event")).find(
        (e) => e.attrs["data-event-type"] === "offsets_reset",
      );
      expect(reset!.text).toContain(`u${XSS}`);
    }
  });
});

describe("forged cookies and parameters", () => {
  it("renders a forged flash cookie's message as text, with no test id outside its list", async () => {
    const admin = await adminToken();
    const flash = JSON.stringify({ ok: true, message: XSS, testid: `reset-done"${XSS}` });
    const res = await exports.default.fetch(`${ORIGIN}/console`, {
      headers: { cookie: `${SESSION}=${admin}; __Host-cohort_flash=${encodeURIComponent(flash)}` },
      redirect: "manual",
    });
    const html = await res.text();
    expect(res.status).toBe(200);
    expectInert(html, "flash");
    const shown = await select(html, '[role="status"], [role="alert"], [data-testid="flash"]');
    expect(shown.some((f) => f.text.includes(XSS))).toBe(true);
  });

  it("keeps sign-in's next inside the console, in the form and in the redirect", async () => {
    const admin = await adminToken();
    const nexts = [
      "//evil.test/console",
      "https://evil.test",
      "/console/../../evil",
      "/console/%2e%2e/%2e%2e/evil",
      "/console\\@evil.test",
      "/console/\t/evil.test",
      "/console\r\nSet-Cookie: x=1",
      "/\\evil.test",
      "javascript:alert(1)",
      `/console/${XSS}`,
      "/console@evil.test",
      "/console.evil.test",
      "/consolex",
    ];
    for (const next of nexts) {
      const form = await page(`/console/sign-in?next=${encodeURIComponent(next)}`);
      expect(form.status, next).toBe(200);
      expectInert(form.html, `sign-in form ${next}`);
      const hidden = (await select(form.html, 'input[name="next"]'))[0]!.attrs.value!;
      expect(
        hidden === "/console" || hidden.startsWith("/console/") || hidden.startsWith("/console?"),
        `${next} → ${hidden}`,
      ).toBe(true);
      const signed = await page("/console/sign-in", { form: { token: admin, next } });
      expect(signed.status, next).toBe(303);
      const location = new URL(signed.location!, ORIGIN);
      expect(location.origin, `${next} → ${signed.location}`).toBe(ORIGIN);
      expect(
        location.pathname === "/console" || location.pathname.startsWith("/console/"),
        `${next} → ${signed.location}`,
      ).toBe(true);
      expect(signed.headers.getSetCookie().some((c) => c.startsWith("x="))).toBe(false);
    }
  });

  it("signs in with valid tokens that expire more than 400 days from now", async () => {
    // Such a token is a valid /v1 credential (API.md §2); the console keeps it until it expires (§9).
    // The last exp is the latest a JavaScript Date can hold (year 275760).
    for (const exp of [Math.floor(Date.now() / 1000) + 2 * 365 * 86_400, 8.64e12]) {
      const long = await token({ exp });
      expect((await call("GET", "/v1/groups", undefined, { token: long })).status).toBe(200);
      const signed = await page("/console/sign-in", { form: { token: long, next: "/console" } });
      expect(signed.status, `exp ${exp}: ${signed.html.slice(0, 200)}`).toBe(303);
      expect(signed.headers.getSetCookie().some((c) => c.startsWith(`${SESSION}=`))).toBe(true);
    }
  });
});
