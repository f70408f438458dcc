/**
 * The console's pages (API.md §9) for real groups of each type, read through /v1 with the signed-in
 * token: the groups list with its filters and paging, a group's members, lag, history and events, a
 * share group's in-flight and archived tables, the live fragment, the static assets and the CSP.
 */

import { beforeAll, describe, expect, it } from "vitest";
import { join as classicJoin } from "../classic/members";
import { freshGroup } from "../integration/helpers";
import {
  adminToken,
  commitOffsets,
  joinConsumer,
  ok,
  page,
  select,
  shareGroupWithArchive,
  testids,
} from "./console-helpers";

let admin: string;
beforeAll(async () => {
  admin = await adminToken();
});

describe("groups list", () => {
  it("lists groups with state badges, type, members and lag, and links each to its page", async () => {
    const prefix = freshGroup("list");
    const g = `${prefix}-offsets`;
    await commitOffsets(g, "orders", [
      [0, 40, 100],
      [1, 10, 10],
    ]);
    await joinConsumer(`${prefix}-consumer`, "m1", "orders", 2);
    const html = await expectListed(`/console/groups?prefix=${prefix}`, [g, `${prefix}-consumer`]);
    expect(await testids(html, "groups-table")).toHaveLength(1);
    const rows = await select(html, `[data-testid="group-row"][data-group-id="${g}"]`);
    expect(rows[0]!.text).toContain("60"); // total lag 60 + 0
    expect(rows[0]!.text).toContain("classic");
    const links = await select(html, `[data-group-id="${g}"] a`);
    expect(links[0]!.attrs.href).toBe(`/console/groups/${g}`);
    const badges = await select(html, `[data-group-id="${g}"] [data-testid="state-badge"]`);
    expect(badges[0]!.text).toBe("Empty");
    expect(badges[0]!.attrs.title).toMatch(/No members/);
    const consumerRow = await select(html, `[data-group-id="${prefix}-consumer"]`);
    expect(consumerRow[0]!.text).toContain("consumer");
    // The filters form with its named fields.
    expect(await select(html, '[data-testid="filters"] input[name="prefix"]')).toHaveLength(1);
    expect(await select(html, '[data-testid="filters"] select[name="state"]')).toHaveLength(1);
    expect(await select(html, '[data-testid="filters"] select[name="type"]')).toHaveLength(1);
    // /console is the same page.
    expect(await testids(await ok("/console", { session: admin }), "groups-table")).toHaveLength(1);
  });

  it("filters by type and state through the API", async () => {
    const prefix = freshGroup("filt");
    await commitOffsets(`${prefix}-a`, "t", [[0, 1, 2]]);
    await joinConsumer(`${prefix}-b`, "m1", "t", 1);
    const consumers = await expectListed(`/console/groups?prefix=${prefix}&type=consumer`, [`${prefix}-b`]);
    expect(await select(consumers, `[data-group-id="${prefix}-a"]`)).toHaveLength(0);
    const empty = await expectListed(`/console/groups?prefix=${prefix}&state=Empty`, [`${prefix}-a`]);
    expect(await select(empty, `[data-group-id="${prefix}-b"]`)).toHaveLength(0);
  });

  it("pages by the API's cursor, keeping the filters", { timeout: 60_000 }, async () => {
    const prefix = freshGroup("page");
    const ids = Array.from({ length: 27 }, (_, i) => `${prefix}-${String(i).padStart(2, "0")}`);
    await Promise.all(ids.map((id) => commitOffsets(id, "t", [[0, 1, 1]])));
    const first = await expectListed(`/console/groups?prefix=${prefix}`, ids.slice(0, 25));
    const next = await testids(first, "next-page");
    expect(next).toHaveLength(1);
    const href = next[0]!.attrs.href!;
    expect(href).toContain(`prefix=${prefix}`);
    expect(href).toContain("cursor=");
    const second = await ok(href, { session: admin });
    const rows = await testids(second, "group-row");
    expect(rows.map((r) => r.attrs["data-group-id"])).toEqual(ids.slice(25));
    expect(await testids(second, "next-page")).toHaveLength(0);
  });
});

describe("group pages", () => {
  it("shows a classic group's offsets and lag per partition, with an empty history", async () => {
    const g = freshGroup("cl");
    await commitOffsets(g, "orders", [
      [0, 5, 12],
      [1, 3, 3],
    ]);
    const html = await ok(`/console/groups/${g}`, { session: admin });
    expect((await testids(html, "total-lag"))[0]!.text).toBe("7");
    const rows = await testids(html, "partition-row");
    expect(rows.map((r) => [r.attrs["data-topic"], r.attrs["data-partition"]])).toEqual([
      ["orders", "0"],
      ["orders", "1"],
    ]);
    expect(rows[0]!.text).toContain("12");
    expect(await testids(html, "members-table")).toHaveLength(1);
    expect(await testids(html, "member-row")).toHaveLength(0);
    expect(await select(html, 'svg[data-testid="lag-sparkline"]')).toHaveLength(1);
    expect(await testids(html, "events")).toHaveLength(1);
    const live = await testids(html, "live");
    expect(live).toHaveLength(1);
    expect(live[0]!.attrs["data-live-src"]).toBe(`/console/groups/${g}?fragment=live`);
    expect(Date.parse(live[0]!.attrs["data-refreshed-at"]!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("shows a classic group's members with client id and generation", async () => {
    const g = freshGroup("clm");
    const first = await classicJoin(g, { memberId: "" });
    const memberId = first.body.error.memberId as string;
    const joined = await classicJoin(g, { memberId });
    expect(joined.status, JSON.stringify(joined.body)).toBe(200);
    const html = await ok(`/console/groups/${g}`, { session: admin });
    const rows = await select(html, `[data-testid="member-row"][data-member-id="${memberId}"]`);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.text).toContain("it"); // clientId of test/classic/members.ts
  });

  it("shows a consumer group's members with epoch and assignment, and owners per partition", async () => {
    const g = freshGroup("co");
    const joined = await joinConsumer(g, "m1", "orders", 3);
    await commitOffsets(g, "orders", [[0, 1, 9]], { memberId: "m1", memberEpoch: joined.memberEpoch });
    const html = await ok(`/console/groups/${g}`, { session: admin });
    const member = await select(html, '[data-testid="member-row"][data-member-id="m1"]');
    expect(member[0]!.text).toContain("client-m1");
    expect(member[0]!.text).toMatch(/orders: 0, 1, 2/);
    expect((await testids(html, "state-badge"))[0]!.text).toMatch(/Stable|Reconciling|Assigning/);
    expect((await testids(html, "total-lag"))[0]!.text).toBe("8");
  });

  it("shows a share group's in-flight counts and archived ranges, with a redrive for admins", async () => {
    const g = freshGroup("sh");
    await shareGroupWithArchive(g, "jobs");
    const html = await ok(`/console/groups/${g}`, { session: admin });
    const inflight = await select(html, '[data-testid="share-inflight"] tbody tr');
    expect(inflight).toHaveLength(1);
    expect(inflight[0]!.text).toContain("jobs");
    const archived = await select(html, '[data-testid="share-archived"] tbody tr');
    expect(archived).toHaveLength(1);
    expect(archived[0]!.text).toContain("rejected by a consumer");
    expect(await testids(html, "redrive")).toHaveLength(1);
    expect(await testids(html, "member-row")).toHaveLength(1);
  });

  it("serves the live region alone as a fragment", async () => {
    const g = freshGroup("fr");
    await joinConsumer(g, "m1", "t", 1);
    const fragment = await ok(`/console/groups/${g}?fragment=live`, { session: admin });
    expect(fragment).not.toContain("<html");
    expect(await testids(fragment, "member-row")).toHaveLength(1);
    const list = await ok(`/console/groups?prefix=${g}&fragment=live`, { session: admin });
    expect(await testids(list, "groups-table")).toHaveLength(1);
  });

  it("answers a group that does not exist with a 404 page", async () => {
    const p = await page(`/console/groups/${freshGroup("none")}`, { session: admin });
    expect(p.status).toBe(404);
    expect(await testids(p.html, "error")).toHaveLength(1);
  });
});

describe("headers and assets", () => {
  it("sends a strict CSP and the other secure headers on every console page", async () => {
    const p = await page("/console/groups", { session: admin });
    const csp = p.headers.get("content-security-policy") ?? "";
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "frame-ancestors 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toContain("unsafe-inline");
    expect(p.headers.get("x-frame-options")).toBe("DENY");
    expect(p.headers.get("x-content-type-options")).toBe("nosniff");
    expect(p.headers.get("cache-control")).toBe("no-store");
    // No inline script or style in the page itself.
    expect(p.html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(p.html).not.toMatch(/\sstyle=/);
  });

  it("serves the stylesheet and the live-refresh script as static assets", async () => {
    const css = await page("/console/console.css");
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toContain("text/css");
    const js = await page("/console/live.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("javascript");
    expect(js.html).toContain("visibilitychange");
  });
});

/** The list page, once the directory lists every id wanted (API.md §6: within moments). */
async function expectListed(path: string, ids: string[]): Promise<string> {
  let html = "";
  await expect
    .poll(
      async () => {
        html = await ok(path, { session: admin });
        return (await testids(html, "group-row")).map((r) => r.attrs["data-group-id"]);
      },
      { timeout: 10_000, interval: 100 },
    )
    .toEqual(expect.arrayContaining(ids));
  return html;
}
