/**
 * The console's main pages pass axe-core's audit (no serious or critical violation) and work at a
 * phone's width: 375 px without the document scrolling sideways, their key controls on screen.
 */

import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, test } from "vitest";
import {
  connectBrowser,
  DESKTOP,
  expectAccessible,
  expectFitsWidth,
  expectNoProblems,
  PHONE,
  show,
  signedInContext,
  watchedPage,
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
const contexts: Partial<Record<"desktop" | "phone", BrowserContext>> = {};

beforeAll(async () => {
  [browser] = await Promise.all([connectBrowser(), seedGroups(groups)]);
  contexts.desktop = await signedInContext(browser, {}, DESKTOP);
  contexts.phone = await signedInContext(browser, {}, PHONE);
});

afterAll(async () => {
  await browser?.close();
});

describe("accessibility (axe-core) at desktop width", () => {
  test("sign-in page", async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const watched = await watchedPage(context);
    await show(watched.page, "/console/sign-in", "sign-in");
    await expectAccessible(watched.page, "sign-in");
    expectNoProblems(watched);
    await context.close();
  });

  test.each(PAGES)("$name", async ({ name, path, ready }) => {
    const watched = await watchedPage(contexts.desktop!);
    await show(watched.page, path, ready);
    await expectAccessible(watched.page, name);
    expectNoProblems(watched);
    await watched.page.close();
  });
});

describe("phone width (375×740)", () => {
  test("sign-in page", async () => {
    const context = await browser.newContext({ viewport: PHONE });
    const watched = await watchedPage(context);
    await show(watched.page, "/console/sign-in", "sign-in");
    await expectFitsWidth(watched.page, ["sign-in", "sign-in-submit"]);
    expectNoProblems(watched);
    await context.close();
  });

  test.each(PAGES)("$name", async ({ path, ready, controls }) => {
    const watched = await watchedPage(contexts.phone!);
    await show(watched.page, path, ready);
    await expectFitsWidth(watched.page, controls);
    expectNoProblems(watched);
    await watched.page.close();
  });
});
