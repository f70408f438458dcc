/**
 * Hostile input to the console (API.md §1: a 4xx, never a 5xx, and nothing changes): prototype-key
 * and unicode group ids, huge and malformed query and form values, forged cookies.
 */

import { describe, expect, it } from "vitest";
import { call, freshGroup } from "../integration/helpers";
import { adminToken, commitOffsets, page, SESSION, testids } from "./console-helpers";

const PROTOTYPE_KEYS = ["__proto__", "constructor", "prototype", "hasOwnProperty", "toString", "valueOf"];

function expectRefused(status: number, what: string, allowed: number[] = []): void {
  expect(status < 500 || status === 503, `${what}: ${status}`).toBe(true);
  if (!allowed.includes(status)) expect(status >= 400 && status < 500, `${what}: ${status}`).toBe(true);
}

describe("hostile group ids", () => {
  it("answers prototype keys as ordinary ids: 404 while absent, the page once they exist", async () => {
    const admin = await adminToken();
    for (const id of PROTOTYPE_KEYS) {
      const p = await page(`/console/groups/${id}`, { session: admin });
      expect(p.status, id).toBe(404);
      for (const sub of ["reset", "delete", "redrive"]) {
        const post = await page(`/console/groups/${id}/${sub}`, {
          session: admin,
          form: { confirm: "yes", topic: "t" },
        });
        expectRefused(post.status, `${id}/${sub}`, [303]);
      }
    }
    await commitOffsets("__proto__", "t", [[0, 1, 3]]);
    const html = (await page("/console/groups/__proto__", { session: admin })).html;
    expect((await testids(html, "total-lag"))[0]!.text).toBe("2");
  });

  it("refuses ids outside API.md §1's alphabet or length with a 400 page", async () => {
    const admin = await adminToken();
    const ids = [
      "gr%C3%BC%C3%9Fe",
      "%E2%9C%93",
      "a%00b",
      "a%2Fb",
      "%20",
      "x".repeat(250),
      "y".repeat(10_000),
      "%F0%9F%92%A5",
    ];
    for (const id of ids) {
      for (const path of [
        `/console/groups/${id}`,
        `/console/groups/${id}/reset`,
        `/console/groups/${id}?fragment=live`,
      ]) {
        const p = await page(path, { session: admin });
        expectRefused(p.status, path.slice(0, 80));
      }
      const post = await page(`/console/groups/${id}/delete`, { session: admin, form: { confirm: "yes" } });
      expectRefused(post.status, `delete ${id.slice(0, 40)}`);
    }
  });
});

describe("hostile query values", () => {
  it("answers malformed or huge filters with a 4xx page", async () => {
    const admin = await adminToken();
    const queries = [
      `prefix=${"p".repeat(5000)}`,
      "prefix=%E2%9C%93",
      "prefix=a%20b",
      `state=${"S".repeat(100)}`,
      "type=bogus",
      `cursor=${"c".repeat(5000)}`,
      "cursor=%00%01",
      "type=__proto__",
    ];
    for (const q of queries) {
      const p = await page(`/console/groups?${q}`, { session: admin });
      expectRefused(p.status, q.slice(0, 60));
      const fragment = await page(`/console/groups?${q}&fragment=live`, { session: admin });
      expectRefused(fragment.status, `fragment ${q.slice(0, 60)}`);
    }
    // Unknown parameters and prototype-key names are ignored.
    const ignored = await page("/console/groups?__proto__=1&constructor=2&fragment=__proto__", {
      session: admin,
    });
    expect(ignored.status).toBe(200);
  });
});

describe("hostile forms", () => {
  it("answers malformed, huge and prototype-keyed reset fields with a 4xx and changes nothing", async () => {
    const g = freshGroup("hf");
    await commitOffsets(g, "t", [[0, 5, 9]]);
    const admin = await adminToken();
    const forms: Record<string, string>[] = [
      { topic: "t".repeat(60_000), to: "earliest", action: "apply" },
      { topic: "t", to: "offset", offset: "9007199254740993", action: "apply" },
      { topic: "t", to: "offset", offset: "99999999999999999999", action: "apply" },
      { topic: "t", to: "earliest", partitions: "9999999999", action: "apply" },
      { topic: "ü", to: "earliest", action: "apply" },
      { topic: "t", to: "__proto__", action: "apply" },
      Object.fromEntries([
        ["__proto__", "x"],
        ["constructor", "y"],
        ["topic", "t"],
        ["to", "constructor"],
        ["action", "apply"],
      ]),
      { topic: "t", to: "shift", shiftBy: "-", action: "apply" },
    ];
    for (const form of forms) {
      const p = await page(`/console/groups/${g}/reset`, { session: admin, form });
      expectRefused(p.status, JSON.stringify(form).slice(0, 80));
    }
    const tooLarge = await page(`/console/groups/${g}/reset`, {
      session: admin,
      form: { topic: "t", to: "earliest", action: "apply", pad: "z".repeat(70_000) },
    });
    expect(tooLarge.status).toBe(413);
    const redrives: Record<string, string>[] = [
      { topic: "t", partition: "-1", confirm: "yes" },
      { topic: "t", firstOffset: "1e9", confirm: "yes" },
      { topic: "t", firstOffset: "9", lastOffset: "1", confirm: "yes" },
      { partition: "0", confirm: "yes" },
    ];
    for (const form of redrives) {
      const p = await page(`/console/groups/${g}/redrive`, { session: admin, form });
      expectRefused(p.status, JSON.stringify(form));
    }
    const offsets = (await call("GET", `/v1/groups/${g}/offsets`)).body.offsets;
    expect(offsets.map((o: any) => o.offset)).toEqual([5]);
  });

  it("answers a huge or strange sign-in token with a 4xx and sets no cookie", async () => {
    for (const token of ["x".repeat(60_000), "ä.ö.ü", "a.b.c", "Bearer x", "\u0000"]) {
      const p = await page("/console/sign-in", { form: { token } });
      expectRefused(p.status, token.slice(0, 20));
      expect(p.headers.getSetCookie()).toEqual([]);
    }
    const huge = await page("/console/sign-in", { form: { token: "x".repeat(70_000) } });
    expect(huge.status).toBe(413);
  });
});

describe("forged cookies", () => {
  it("treats a forged session as signed out and a forged flash as nothing", async () => {
    for (const value of ["garbage", "%E2%9C%93", "a.b.c", "x".repeat(3000)]) {
      const p = await page("/console/groups", { headers: { cookie: `${SESSION}=${value}` } });
      expect(p.status, value.slice(0, 20)).toBe(303);
      expect(p.location).toMatch(/^\/console\/sign-in/);
    }
    const admin = await adminToken();
    for (const flash of [
      "{",
      "%7B%22message%22%3A1%7D",
      '{"message":"<script>x</script>","testid":"evil"}',
    ]) {
      const p = await page("/console/groups", {
        headers: { cookie: `${SESSION}=${admin}; __Host-cohort_flash=${encodeURIComponent(flash)}` },
      });
      expect(p.status).toBe(200);
      expect(p.html).not.toContain("<script>x");
      expect(p.html).not.toContain('data-testid="evil"');
    }
  });
});
