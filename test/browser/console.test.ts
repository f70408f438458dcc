/**
 * The console in a real browser, as an operator uses it (issue 12): sign in with a token, find the
 * groups, read one group's members, lag and events, watch it change live, reset offsets through the
 * preview, meet the delete refusal, and be refused what the token does not cover. Groups are made over
 * the /v1 API first; every page must run without console errors, failed requests or CSP violations.
 */

import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  connectBrowser,
  DESKTOP,
  onPage,
  onPageOfNewContext,
  show,
  signedInContext,
  signIn,
} from "./browser-pages.ts";
import { baseUrl, committed, groupId, joinConsumer, seedGroups, token } from "./seed.ts";

const groups = {
  consumer: groupId("team-a", "orders"),
  classic: groupId("team-a", "payments"),
  empty: groupId("team-a", "audit"),
  share: groupId("team-a", "jobs"),
  otherTeam: groupId("team-b", "billing"),
};

let browser: Browser;
let operator: BrowserContext;
let seeded: Awaited<ReturnType<typeof seedGroups>>;

beforeAll(async () => {
  const { otherTeam, ...ours } = groups;
  [browser, seeded] = await Promise.all([connectBrowser(), seedGroups(ours, [otherTeam])]);
  operator = await signedInContext(browser);
});

afterAll(async () => {
  await browser?.close();
});

const row = (id: string) => `[data-testid="group-row"][data-group-id="${id}"]`;

describe("console in a browser", () => {
  test("signs in through the form into an HttpOnly __Host- cookie and lists the groups", () =>
    onPageOfNewContext(browser, null, DESKTOP, async (page) => {
      await page.goto(`${baseUrl()}/console`);
      await page.locator('[data-testid="sign-in"]').waitFor();

      await signIn(page, await token({ sub: "alice" }));
      const cookie = (await page.context().cookies()).find((c) => c.name === "__Host-cohort_session");
      expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/" });
      expect(cookie!.expires).toBeGreaterThan(Date.now() / 1000);

      const table = page.locator('[data-testid="groups-table"]');
      for (const id of Object.values(groups)) {
        await expect.poll(() => table.locator(row(id)).count()).toBe(1);
        expect(await table.locator(`${row(id)} a[href="/console/groups/${id}"]`).count()).toBe(1);
      }
      expect(await page.locator(`${row(groups.empty)} [data-testid="state-badge"]`).textContent()).toMatch(
        /Empty/,
      );
      expect(await page.locator(`${row(groups.classic)} [data-testid="state-badge"]`).textContent()).toMatch(
        /Stable/,
      );
    }));

  test("the console's CSP refuses an inline script, and the page watcher reports it", () =>
    onPage(operator, async (page, watched) => {
      await show(page, "/console", "groups-table");
      await page.evaluate(
        "document.body.append(Object.assign(document.createElement('script'), { textContent: 'window.__ran = 1' }))",
      );
      await expect.poll(() => watched.problems.join("\n")).toMatch(/CSP violation: script-src/);
      expect(await page.evaluate("window.__ran")).toBeUndefined();
      watched.problems.splice(0); // seen: the rest of the page must be clean
    }));

  test("filters the list by prefix and type", () =>
    onPage(operator, async (page) => {
      await show(page, "/console", "filters");
      await page.locator('[data-testid="filters"] input[name="prefix"]').fill("team-a-");
      await page.locator('[data-testid="filters"] select[name="type"]').selectOption("share");
      await Promise.all([
        page.waitForURL(/type=share/),
        page.locator('[data-testid="filters"] input[name="prefix"]').press("Enter"),
      ]);
      const ids = await page
        .locator('[data-testid="group-row"]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-group-id")));
      expect(ids).toContain(groups.share);
      expect(ids).not.toContain(groups.consumer);
      expect(ids).not.toContain(groups.otherTeam);
    }));

  test("a group page shows its members, per-partition lag, the sparkline and the events", () =>
    onPage(operator, async (page) => {
      await page.goto(`${baseUrl()}/console`);
      await Promise.all([
        page.waitForURL(`**/console/groups/${groups.consumer}`),
        page.click(`${row(groups.consumer)} a`),
      ]);
      await page.locator('[data-testid="members-table"]').waitFor();

      for (const memberId of seeded.members) {
        expect(await page.locator(`[data-testid="member-row"][data-member-id="${memberId}"]`).count()).toBe(
          1,
        );
      }
      expect(await page.locator('[data-testid="member-row"]').first().textContent()).toMatch(/orders-svc-/);
      expect(await page.locator('[data-testid="lag-table"] [data-testid="partition-row"]').count()).toBe(4);
      expect(await page.locator('[data-testid="total-lag"]').textContent()).toContain(
        String(seeded.totalLag),
      );
      expect(await page.locator('svg[data-testid="lag-sparkline"]').count()).toBe(1);
      const types = await page
        .locator('[data-testid="events"] [data-testid="event"]')
        .evaluateAll((items) => items.map((i) => i.getAttribute("data-event-type")));
      expect(types.filter((t) => t === "member_joined")).toHaveLength(2);
    }));

  test("the live region shows a member that joins while the page is open, without a reload", () =>
    onPage(operator, async (page) => {
      await show(page, `/console/groups/${groups.consumer}`, "live");
      // A reload would lose this marker: the update must come from the live refresh alone.
      await page.evaluate(() => Object.assign(globalThis, { __sameDocument: true }));
      const refreshedBefore = await page.locator('[data-testid="live"]').getAttribute("data-refreshed-at");

      const late = await joinConsumer(groups.consumer, "late-joiner");
      await page
        .locator(`[data-testid="live"] [data-testid="member-row"][data-member-id="${late.memberId}"]`)
        .waitFor({ timeout: 20_000 });
      expect(await page.evaluate(() => (globalThis as { __sameDocument?: boolean }).__sameDocument)).toBe(
        true,
      );
      expect(await page.locator('[data-testid="live"]').getAttribute("data-refreshed-at")).not.toBe(
        refreshedBefore,
      );
      expect(await page.locator('[data-testid="live"]').textContent()).toContain("late-joiner");
    }));

  test("keeps keyboard focus on a control in the live region across refreshes, and refreshes once it leaves", () =>
    onPage(operator, async (page) => {
      await show(page, `/console/groups/${groups.empty}`, "delete-group");
      const live = page.locator('[data-testid="live"]');
      const button = page.locator('[data-testid="live"] [data-testid="delete-group"]');
      await button.focus();
      // A mark on the very element: a replaced button with the same test id would not carry it.
      await button.evaluate((el) => Object.assign(el, { __focusMark: true }));
      await page.waitForTimeout(2 * 4000 + 1500); // past two refresh periods (live.js: 4 s)
      const focused = () =>
        page.evaluate(
          "[document.activeElement?.getAttribute('data-testid'), document.activeElement?.__focusMark === true]",
        );
      expect(await focused()).toEqual(["delete-group", true]);

      const held = await live.getAttribute("data-refreshed-at");
      await page.evaluate("document.activeElement.blur()");
      await expect
        .poll(() => live.getAttribute("data-refreshed-at"), { timeout: 12_000, interval: 250 })
        .not.toBe(held);
      expect(await button.count()).toBe(1);
    }));

  test("a reset shows its before/after preview, changes nothing until applied, then moves the offsets and is in the history", () =>
    onPage(operator, async (page) => {
      await show(page, `/console/groups/${groups.empty}/reset`, "reset-form");
      const form = page.locator('[data-testid="reset-form"]');
      await form.locator('select[name="topic"]').selectOption("audit");
      await form.locator('select[name="to"]').selectOption("earliest");
      await page.click('[data-testid="reset-preview"]');

      const preview = page.locator('[data-testid="reset-preview-table"]');
      await preview.waitFor();
      const rows = await preview
        .locator("tbody tr")
        .evaluateAll((trs) =>
          trs.map((tr) =>
            Array.from((tr as { cells: ArrayLike<{ textContent: string }> }).cells, (c) =>
              c.textContent.trim(),
            ),
          ),
        );
      // One row per partition, its committed offset (before) followed by the reset's (after).
      const beforeAfter = rows.map((cells) => {
        const before = cells.findIndex((cell) => cell === "10" || cell === "20");
        return [cells[before], cells.slice(before + 1).find((cell) => /^\d+$/.test(cell))];
      });
      expect(beforeAfter).toEqual([
        ["10", "0"],
        ["20", "0"],
      ]);
      expect(await committed(groups.empty, "audit")).toEqual({ 0: 10, 1: 20 }); // the preview is a dry run

      await page.click('[data-testid="reset-apply"]');
      await page.locator('[data-testid="reset-done"]').waitFor();
      expect(await committed(groups.empty, "audit")).toEqual({ 0: 0, 1: 0 });
      // The group's history names who reset it: the signed-in token's `sub`.
      await show(page, `/console/groups/${groups.empty}`, "events");
      const reset = page.locator('[data-testid="event"][data-event-type="offsets_reset"]');
      expect(await reset.count()).toBe(1);
      expect(await reset.textContent()).toContain("operator@test");
    }));

  test("delete is disabled, with the reason, while members remain", () =>
    onPage(operator, async (page) => {
      await show(page, `/console/groups/${groups.consumer}`, "delete-group");
      expect(await page.locator('[data-testid="delete-group"]').isDisabled()).toBe(true);
      expect(await page.locator('[data-testid="delete-disabled-reason"]').textContent()).toMatch(/member/i);
      // The group without members may be deleted: its button is live.
      await show(page, `/console/groups/${groups.empty}`, "delete-group");
      expect(await page.locator('[data-testid="delete-group"]').isDisabled()).toBe(false);
      expect(await page.locator('[data-testid="delete-disabled-reason"]').count()).toBe(0);
    }));

  test("a token for team-a-* is refused team-b's group page and does not list it", () =>
    onPageOfNewContext(browser, { groups: ["team-a-*"] }, DESKTOP, async (page, watched) => {
      const path = `/console/groups/${groups.otherTeam}`;
      watched.allow(path);
      const response = await page.goto(baseUrl() + path);
      expect(response?.status()).toBe(403);
      await page.locator('[data-testid="forbidden"]').waitFor();
      expect(await page.locator('[data-testid="members-table"], [data-testid="lag-table"]').count()).toBe(0);

      await show(page, "/console", "groups-table");
      expect(await page.locator(row(groups.otherTeam)).count()).toBe(0);
      expect(await page.locator(row(groups.consumer)).count()).toBe(1);
    }));

  test("a token without admin is offered no reset, delete or redrive", () =>
    onPageOfNewContext(browser, { scope: "describe" }, DESKTOP, async (page, watched) => {
      await show(page, `/console/groups/${groups.empty}`, "lag-table");
      expect(await page.locator('[data-testid="delete-group"]').count()).toBe(0);
      expect(await page.locator(`a[href="/console/groups/${groups.empty}/reset"]`).count()).toBe(0);
      await show(page, `/console/groups/${groups.share}`, "share-inflight");
      expect(await page.locator('[data-testid="redrive"]').count()).toBe(0);

      const resetPath = `/console/groups/${groups.empty}/reset`;
      watched.allow(resetPath);
      await page.goto(baseUrl() + resetPath);
      expect(await page.locator('[data-testid="reset-form"]').count()).toBe(0);
    }));
});
