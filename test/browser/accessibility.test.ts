/**
 * The console's main pages pass axe-core's audit (no serious or critical violation) and work at a
 * phone's width: 375 px without the document scrolling sideways, their key controls on screen.
 */

import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  axeViolations,
  connectBrowser,
  DESKTOP,
  expectAccessible,
  expectFitsWidth,
  onPage,
  onPageOfNewContext,
  PHONE,
  show,
  signedInContext,
} from "./browser-pages.ts";
import { groupId, seedGroups } from "./seed.ts";

const groups = {
  consumer: groupId("a11y", "orders"),
  classic: groupId("a11y", "payments"),
  empty: groupId("a11y", "audit"),
  share: groupId("a11y", "jobs"),
};

/** Each page, the element it is ready at, and the controls an operator needs on a phone. */
const PAGES = [
  // Seen before signing in, in a context of its own.
  {
    name: "sign-in",
    path: "/console/sign-in",
    ready: "sign-in",
    controls: ["sign-in", "sign-in-submit"],
    anonymous: true,
  },
  { name: "groups list", path: "/console", ready: "groups-table", controls: ["filters", "group-row"] },
  {
    name: "consumer group",
    path: `/console/groups/${groups.consumer}`,
    ready: "members-table",
    controls: ["members-table", "total-lag", "delete-group"],
  },
  {
    name: "classic group",
    path: `/console/groups/${groups.classic}`,
    ready: "members-table",
    controls: ["lag-table"],
  },
  {
    name: "reset",
    path: `/console/groups/${groups.empty}/reset`,
    ready: "reset-form",
    controls: ["reset-preview"],
  },
  {
    name: "share group",
    path: `/console/groups/${groups.share}`,
    ready: "share-inflight",
    controls: ["share-inflight", "share-archived", "redrive"],
  },
];

let browser: Browser;
let desktop: BrowserContext;
let phone: BrowserContext;

beforeAll(async () => {
  [browser] = await Promise.all([connectBrowser(), seedGroups(groups)]);
  [desktop, phone] = await Promise.all([
    signedInContext(browser, {}, DESKTOP),
    signedInContext(browser, {}, PHONE),
  ]);
});

afterAll(async () => {
  await browser?.close();
});

type Visit = (typeof PAGES)[number];

/** Opens the page as an operator would see it: signed in (in `context`), or anonymous for sign-in. */
function visit(
  entry: Visit,
  viewport: typeof DESKTOP,
  context: BrowserContext,
  check: (page: Page) => Promise<void>,
) {
  const body = async (page: Page) => {
    await show(page, entry.path, entry.ready);
    await check(page);
  };
  return "anonymous" in entry ? onPageOfNewContext(browser, null, viewport, body) : onPage(context, body);
}

// The audit is not vacuous: on a page with an unlabelled field and a nameless button it reports both.
test("axe-core, injected this way, reports serious violations", async () => {
  const page = await desktop.newPage();
  await page.setContent('<html lang="en"><title>t</title><main><input><button></button></main></html>');
  const found = (await axeViolations(page, "a deliberately broken page")).map((v) => [v.id, v.impact]);
  expect(found).toEqual(
    expect.arrayContaining([
      ["label", "critical"],
      ["button-name", "critical"],
    ]),
  );
  await page.close();
});

test.each(PAGES)("axe-core finds nothing serious on the $name page (1280 px)", (entry) =>
  visit(entry, DESKTOP, desktop, (page) => expectAccessible(page, entry.name)),
);

test.each(PAGES)("the $name page fits a phone (375×740)", (entry) =>
  visit(entry, PHONE, phone, (page) => expectFitsWidth(page, entry.controls)),
);

// The key columns come first and long ids wrap instead of widening them: member, client id and
// assignment are all on screen at 375 px without scrolling the table sideways.
test("the members table's key columns are on screen at a phone's width", () =>
  onPage(phone, async (page) => {
    await show(page, `/console/groups/${groups.consumer}`, "members-table");
    const cells = page.locator('[data-testid="member-row"]').first().locator("th, td");
    const columns = { member: 0, "client id": 1, assignment: 2 };
    for (const [name, index] of Object.entries(columns)) {
      const box = await cells.nth(index).boundingBox();
      expect(box, name).not.toBeNull();
      expect(box!.x, `${name} starts on screen`).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width, `${name} ends on screen`).toBeLessThanOrEqual(PHONE.width);
    }
  }));
