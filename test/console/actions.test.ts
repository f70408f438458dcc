/**
 * The console's admin actions and its refusals (API.md §9): reset offsets through a preview that
 * changes nothing, then apply; delete behind a confirmation and disabled while members remain; redrive;
 * a token without `admin` sees no controls and its posts are refused; a group outside the token's
 * groups is a 403 page; a cross-origin form post changes nothing.
 */

import { describe, expect, it } from "vitest";
import { call, freshGroup } from "../integration/helpers";
import {
  adminToken,
  commitOffsets,
  joinConsumer,
  ok,
  page,
  select,
  shareGroupWithArchive,
  testids,
  viewerToken,
} from "./console-helpers";

const offsetsOf = async (g: string) =>
  (await call("GET", `/v1/groups/${g}/offsets`)).body.offsets.map((o: any) => [o.partition, o.offset]);

describe("reset offsets", () => {
  it("previews before/after without changing anything, then applies the same values", async () => {
    const g = freshGroup("rs");
    await commitOffsets(g, "orders", [
      [0, 40, 100],
      [1, 10, 50],
      [2, 7, 7],
    ]);
    const admin = await adminToken();
    const form = await ok(`/console/groups/${g}/reset`, { session: admin });
    expect(await testids(form, "reset-form")).toHaveLength(1);
    for (const name of [
      'select[name="topic"]',
      'select[name="to"]',
      'input[name="offset"]',
      'input[name="shiftBy"]',
    ]) {
      expect(await select(form, `[data-testid="reset-form"] ${name}`), name).toHaveLength(1);
    }
    const fields = { topic: "orders", partitions: "0, 1", to: "shift", offset: "", shiftBy: "-5" };
    const preview = await ok(`/console/groups/${g}/reset`, {
      session: admin,
      form: { ...fields, action: "preview" },
    });
    const cells = (await select(preview, '[data-testid="reset-preview-table"] tbody tr > *')).map(
      (c) => c.text,
    );
    expect(cells).toEqual(["orders", "0", "40", "35", "-5", "orders", "1", "10", "5", "-5"]);
    expect(await testids(preview, "reset-apply")).toHaveLength(1);
    expect(await offsetsOf(g)).toEqual([
      [0, 40],
      [1, 10],
      [2, 7],
    ]);
    // The apply form carries the previewed values back.
    const hidden = await select(preview, 'section[aria-labelledby="preview-h"] input[type="hidden"]');
    const carried = Object.fromEntries(hidden.map((h) => [h.attrs.name!, h.attrs.value ?? ""]));
    expect(carried).toEqual(fields);
    const applied = await page(`/console/groups/${g}/reset`, {
      session: admin,
      form: { ...carried, action: "apply" },
    });
    expect(applied.status).toBe(303);
    expect(applied.location).toBe(`/console/groups/${g}`);
    expect(await offsetsOf(g)).toEqual([
      [0, 35],
      [1, 5],
      [2, 7],
    ]);
    // The flash travels to the next page, once.
    const flash = applied.headers.getSetCookie().find((c) => c.startsWith("__Host-cohort_flash="))!;
    const next = await page(applied.location!, {
      headers: { cookie: `__Host-cohort_session=${admin}; ${flash.split(";")[0]}` },
    });
    const done = await testids(next.html, "reset-done");
    expect(done[0]!.text).toContain("orders-0: 40 → 35");
  });

  it("shows the API's refusal while the group has members, and changes nothing", async () => {
    const g = freshGroup("rsm");
    const joined = await joinConsumer(g, "m1", "t", 1);
    await commitOffsets(g, "t", [[0, 4, 9]], { memberId: "m1", memberEpoch: joined.memberEpoch });
    const admin = await adminToken();
    const form = await ok(`/console/groups/${g}/reset`, { session: admin });
    expect(await testids(form, "reset-members-note")).toHaveLength(1);
    const p = await page(`/console/groups/${g}/reset`, {
      session: admin,
      form: { topic: "t", partitions: "", to: "earliest", offset: "", shiftBy: "", action: "apply" },
    });
    expect(p.status).toBe(409);
    expect((await testids(p.html, "reset-problem"))[0]!.text).toContain("NON_EMPTY_GROUP");
    expect(await offsetsOf(g)).toEqual([[0, 4]]);
  });

  it("answers malformed fields with a 400 form, before calling the API", async () => {
    const g = freshGroup("rsb");
    await commitOffsets(g, "t", [[0, 4, 9]]);
    const admin = await adminToken();
    const bad: Record<string, string>[] = [
      { topic: "t", to: "offset", offset: "-1" },
      { topic: "t", to: "offset", offset: "1e5" },
      { topic: "t", to: "shift", shiftBy: "9".repeat(40) },
      { topic: "t", to: "sideways" },
      { topic: "t", to: "earliest", partitions: "0,,1" },
      { topic: "", to: "earliest" },
    ];
    for (const fields of bad) {
      const p = await page(`/console/groups/${g}/reset`, {
        session: admin,
        form: { ...fields, action: "apply" },
      });
      expect(p.status, JSON.stringify(fields)).toBe(400);
    }
    // Values the form accepts but the API does not (beyond 2^53, an unknown topic's name) are the API's 400.
    const p = await page(`/console/groups/${g}/reset`, {
      session: admin,
      form: { topic: "bad topic!", to: "earliest", action: "preview" },
    });
    expect(p.status).toBe(400);
    expect(await offsetsOf(g)).toEqual([[0, 4]]);
  });
});

describe("delete", () => {
  it("is disabled with its reason while members remain, and refused if posted anyway", async () => {
    const g = freshGroup("dm");
    await joinConsumer(g, "m1", "t", 1);
    const admin = await adminToken();
    const html = await ok(`/console/groups/${g}`, { session: admin });
    const button = await testids(html, "delete-group");
    expect(button[0]!.attrs).toHaveProperty("disabled");
    expect((await testids(html, "delete-disabled-reason"))[0]!.text).toContain("1 member");
    const forced = await page(`/console/groups/${g}/delete`, { session: admin, form: { confirm: "yes" } });
    expect(forced.status).toBe(303);
    expect(forced.location).toBe(`/console/groups/${g}`);
    expect((await call("GET", `/v1/groups/${g}`)).status).toBe(200);
  });

  it("asks for a confirmation, then deletes", async () => {
    const g = freshGroup("dd");
    await commitOffsets(g, "t", [[0, 1, 1]]);
    const admin = await adminToken();
    const html = await ok(`/console/groups/${g}`, { session: admin });
    expect((await testids(html, "delete-group"))[0]!.attrs).not.toHaveProperty("disabled");
    const confirm = await ok(`/console/groups/${g}/delete`, { session: admin, form: {} });
    expect(await testids(confirm, "delete-confirm")).toHaveLength(1);
    expect((await call("GET", `/v1/groups/${g}`)).status).toBe(200);
    const done = await page(`/console/groups/${g}/delete`, { session: admin, form: { confirm: "yes" } });
    expect(done.status).toBe(303);
    expect(done.location).toBe("/console/groups");
    expect((await call("GET", `/v1/groups/${g}`)).status).toBe(404);
  });

  it("refuses a delete posted from another origin, and deletes nothing", async () => {
    const g = freshGroup("dx");
    await commitOffsets(g, "t", [[0, 1, 1]]);
    const p = await page(`/console/groups/${g}/delete`, {
      session: await adminToken(),
      form: { confirm: "yes" },
      origin: "https://evil.test",
    });
    expect(p.status).toBe(403);
    expect((await call("GET", `/v1/groups/${g}`)).status).toBe(200);
  });
});

describe("redrive", () => {
  it("confirms, then makes the archived range available again", async () => {
    const g = freshGroup("rd");
    await shareGroupWithArchive(g, "jobs");
    const admin = await adminToken();
    const range = { topic: "jobs", partition: "0", firstOffset: "0", lastOffset: "1" };
    const confirm = await ok(`/console/groups/${g}/redrive`, { session: admin, form: range });
    expect(await testids(confirm, "redrive-confirm")).toHaveLength(1);
    const done = await page(`/console/groups/${g}/redrive`, {
      session: admin,
      form: { ...range, confirm: "yes" },
    });
    expect(done.status).toBe(303);
    const archived = await call("GET", `/v1/groups/${g}/share/archived`);
    expect(archived.body.ranges).toEqual([]);
  });
});

describe("what a token may not do, the console does not offer", () => {
  it("shows a describe-only token no admin controls and refuses its admin posts", async () => {
    const g = freshGroup("ro");
    await commitOffsets(g, "t", [[0, 4, 9]]);
    const s = freshGroup("ros");
    await shareGroupWithArchive(s, "jobs");
    const viewer = await viewerToken();
    const html = await ok(`/console/groups/${g}`, { session: viewer });
    for (const id of ["delete-group", "reset-link", "delete-disabled-reason"]) {
      expect(await testids(html, id), id).toHaveLength(0);
    }
    expect(html).not.toContain("/reset");
    const share = await ok(`/console/groups/${s}`, { session: viewer });
    expect(await testids(share, "share-archived")).toHaveLength(1);
    expect(await testids(share, "redrive")).toHaveLength(0);
    const posts: [string, Record<string, string>][] = [
      [`/console/groups/${g}/delete`, { confirm: "yes" }],
      [`/console/groups/${g}/reset`, { topic: "t", to: "earliest", action: "apply" }],
      [`/console/groups/${s}/redrive`, { topic: "jobs", confirm: "yes" }],
    ];
    for (const [path, form] of posts) {
      const p = await page(path, { session: viewer, form });
      expect(p.status, path).toBe(403);
      expect(await testids(p.html, "forbidden")).toHaveLength(1);
    }
    expect((await page(`/console/groups/${g}/reset`, { session: viewer })).status).toBe(403);
    expect(await offsetsOf(g)).toEqual([[0, 4]]);
    expect((await call("GET", `/v1/groups/${s}/share/archived`)).body.ranges).toHaveLength(1);
  });

  it("answers a group outside the token's groups with a 403 page and leaves it out of the list", async () => {
    const mine = freshGroup("mine");
    const theirs = freshGroup("theirs");
    await commitOffsets(mine, "t", [[0, 1, 1]]);
    await commitOffsets(theirs, "t", [[0, 1, 1]]);
    const viewer = await viewerToken([`${mine.split("-")[0]}-*`]);
    const p = await page(`/console/groups/${theirs}`, { session: viewer });
    expect(p.status).toBe(403);
    expect(await testids(p.html, "forbidden")).toHaveLength(1);
    expect((await page(`/console/groups/${theirs}?fragment=live`, { session: viewer })).status).toBe(403);
    expect((await page(`/console/groups/${mine}`, { session: viewer })).status).toBe(200);
    await expect
      .poll(
        async () =>
          (await testids(await ok("/console/groups", { session: viewer }), "group-row")).map(
            (r) => r.attrs["data-group-id"],
          ),
        {
          timeout: 10_000,
          interval: 100,
        },
      )
      .toContain(mine);
    const rows = await testids(await ok("/console/groups", { session: viewer }), "group-row");
    expect(rows.map((r) => r.attrs["data-group-id"])).not.toContain(theirs);
  });
});
