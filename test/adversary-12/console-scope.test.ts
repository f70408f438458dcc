/**
 * Tokens that may not see or do something, through the console and the history routes (API.md §2, §8,
 * §9): a `team-a-*` token reaching for team-b's events, lag, pages, fragments and admin forms; a
 * describe-only token posting admin forms; expired, not-yet-valid and malformed tokens in the cookie.
 * Each is refused and changes nothing, events included.
 */

import { describe, expect, it } from "vitest";
import { adminToken, commitOffsets, ok, page, testids, viewerToken } from "../console/console-helpers";
import { call, freshGroup, listedIds, token } from "../integration/helpers";

const eventsOf = async (g: string) => (await call("GET", `/v1/groups/${g}/events?limit=1000`)).body.events;
const offsetsOf = async (g: string) => (await call("GET", `/v1/groups/${g}/offsets`)).body.offsets;

/** A team-b group with offsets and one admin event, and the state a refused request must leave. */
async function teamB() {
  const b = freshGroup("team-b");
  await commitOffsets(b, "t", [
    [0, 5, 10],
    [1, 6, 10],
  ]);
  expect(
    (await call("POST", `/v1/groups/${b}/offsets/reset`, { topic: "t", to: "offset", offset: 4 })).status,
  ).toBe(200);
  return { b, events: await eventsOf(b), offsets: await offsetsOf(b) };
}

describe("a team-a-* token against team-b", () => {
  it("cannot read team-b's events or lag history, with or without a cookie", async () => {
    const { b } = await teamB();
    for (const scope of ["describe", "admin", "consume describe"]) {
      const teamA = await token({ groups: ["team-a-*"], scope });
      for (const path of [
        `/v1/groups/${b}/events`,
        `/v1/groups/${b}/lag/history`,
        `/v1/groups/${b}/events?after=0&limit=1000`,
      ]) {
        const res = await call("GET", path, undefined, { token: teamA });
        expect(res.status, `${scope} ${path}`).toBe(403);
        expect(res.body.error.code).toBe("GROUP_AUTHORIZATION_FAILED");
        const cookie = await page(path, { session: teamA });
        expect(cookie.status, `cookie ${scope} ${path}`).toBe(403);
        expect(cookie.html).not.toContain('"seq"');
      }
    }
  });

  it("sees no team-b page, fragment, form or list entry in the console", async () => {
    const { b } = await teamB();
    const teamA = await token({ groups: ["team-a-*"], scope: "admin" });
    for (const path of [
      `/console/groups/${b}`,
      `/console/groups/${b}?fragment=live`,
      `/console/groups/${b}/reset`,
      `/console/groups/${b}?fragment=live&fragment=x`,
    ]) {
      const p = await page(path, { session: teamA });
      expect(p.status, path).toBe(403);
      expect(p.html, path).not.toContain('data-testid="event"');
      expect(p.html, path).not.toContain("total-lag");
    }
    for (const path of [
      "/console",
      "/console/groups",
      "/console?fragment=live",
      `/console?prefix=${b}`,
      `/console/groups?prefix=team-b&state=Empty`,
    ]) {
      const rows = await testids(await ok(path, { session: teamA }), "group-row");
      expect(
        rows.map((r) => r.attrs["data-group-id"]),
        path,
      ).not.toContain(b);
    }
    expect(await listedIds(`?prefix=${b}`, teamA)).toEqual([]);
  });

  it("cannot reset, delete or redrive team-b through console forms; nothing changes", async () => {
    const { b, events, offsets } = await teamB();
    const teamA = await token({ groups: ["team-a-*"], scope: "admin", sub: "mallory" });
    const forms: [string, Record<string, string>][] = [
      ["reset", { topic: "t", to: "earliest" }],
      ["reset", { topic: "t", to: "earliest", action: "apply" }],
      ["delete", {}],
      ["delete", { confirm: "yes" }],
      ["redrive", { topic: "t", confirm: "yes" }],
    ];
    for (const [sub, form] of forms) {
      const p = await page(`/console/groups/${b}/${sub}`, { session: teamA, form });
      expect(p.status, `${sub} ${JSON.stringify(form)}`).toBe(403);
      expect(p.headers.getSetCookie().filter((c) => c.includes("flash") && !c.includes("Max-Age=0"))).toEqual(
        [],
      );
    }
    expect(await eventsOf(b)).toEqual(events);
    expect(await offsetsOf(b)).toEqual(offsets);
    expect((await call("GET", `/v1/groups/${b}`)).status).toBe(200);
  });
  it("is not offered a redrive confirmation page for team-b (the refused page, 403)", async () => {
    // BRIEF's console interface: a group outside the token's groups gets status 403 and "forbidden";
    // §9: what a token may not do, the console does not offer.
    const { b } = await teamB();
    const teamA = await token({ groups: ["team-a-*"], scope: "admin" });
    const p = await page(`/console/groups/${b}/redrive`, { session: teamA, form: { topic: "t" } });
    expect(p.status).toBe(403);
    expect(await testids(p.html, "forbidden")).toHaveLength(1);
  });
});

describe("a describe-only token and broken tokens", () => {
  it("a describe-only token posting admin forms is refused (403) and records no event", async () => {
    const { b, events, offsets } = await teamB();
    const viewer = await viewerToken(["*"], { sub: "viewer" });
    for (const [sub, form] of [
      ["reset", { topic: "t", to: "earliest", action: "apply" }],
      ["reset", { topic: "t", to: "earliest" }],
      ["delete", { confirm: "yes" }],
      ["redrive", { topic: "t", confirm: "yes" }],
    ] as [string, Record<string, string>][]) {
      const p = await page(`/console/groups/${b}/${sub}`, { session: viewer, form });
      expect(p.status, sub).toBe(403);
    }
    expect((await page(`/console/groups/${b}/reset`, { session: viewer })).status).toBe(403);
    const html = await ok(`/console/groups/${b}`, { session: viewer });
    expect(await testids(html, "reset-apply")).toEqual([]);
    expect(await eventsOf(b)).toEqual(events);
    expect(await offsetsOf(b)).toEqual(offsets);
  });

  it("expired, not-yet-valid, wrong-secret and exp-less tokens in the cookie are signed out everywhere", async () => {
    const { b, events } = await teamB();
    const now = Math.floor(Date.now() / 1000);
    const broken = [
      await token({ exp: now - 5 }),
      await token({ nbf: now + 3600 }),
      await token({}, "another-secret-entirely-32-bytes!!"),
      await token({ exp: "9999999999" as unknown as number }),
      `${await adminToken()}x`,
    ];
    for (const jwt of broken) {
      const v1 = await page(`/v1/groups/${b}/events`, { session: jwt });
      expect(v1.status).toBe(401);
      const lag = await page(`/v1/groups/${b}/lag/history`, { session: jwt });
      expect(lag.status).toBe(401);
      const pg = await page(`/console/groups/${b}`, { session: jwt });
      expect(pg.status).toBe(303);
      expect(pg.location).toMatch(/^\/console\/sign-in\?/);
      const frag = await page(`/console/groups/${b}?fragment=live`, { session: jwt });
      expect(frag.status).toBe(401);
      const post = await page(`/console/groups/${b}/delete`, { session: jwt, form: { confirm: "yes" } });
      expect([303, 401, 403]).toContain(post.status);
      const signIn = await page("/console/sign-in", { form: { token: jwt, next: "/console" } });
      expect(signIn.status).toBe(401);
    }
    expect(await eventsOf(b)).toEqual(events);
  });

  it("a token whose groups or scope claims are not what they should be sees nothing", async () => {
    const { b } = await teamB();
    for (const claims of [
      { groups: "*" },
      { groups: { 0: "*", length: 1 } },
      { groups: [["*"]] },
      { groups: ["team-b*"], scope: ["admin"] },
      { groups: ["team-b*"], scope: "Admin DESCRIBE" },
      { groups: ["*"], scope: "admin".padEnd(10, "\u200b") },
    ]) {
      const jwt = await token(claims as never);
      const res = await call("GET", `/v1/groups/${b}/events`, undefined, { token: jwt });
      expect(res.status, JSON.stringify(claims)).toBe(403);
      expect((await page(`/console/groups/${b}`, { session: jwt })).status, JSON.stringify(claims)).toBe(403);
    }
  });
});
