/**
 * Screenshots of the console for the README: the groups list and a group page at desktop width, and
 * a group page at a phone's. In `npm test` they go to a temporary folder and are only checked to be
 * real PNGs of the right width; `npm run screenshots` sets SCREENSHOTS_DIR=docs/screenshots to
 * refresh the README's images from the same run.
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { connectBrowser, DESKTOP, onPageOfNewContext, PHONE, show } from "./browser-pages.ts";
import { seedGroups } from "./seed.ts";

const KEEP = process.env.SCREENSHOTS_DIR;
const OUT = KEEP ?? mkdtempSync(join(tmpdir(), "cohort-screenshots-"));

// Plain names (no run suffix): these pictures are what a reader of the README sees.
const groups = {
  consumer: "orders-processor",
  classic: "payments-ledger",
  empty: "audit-export",
  share: "jobs-queue",
};

let browser: Browser;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  [browser] = await Promise.all([connectBrowser(), seedGroups(groups, ["billing-sync"])]);
});

afterAll(async () => {
  await browser?.close();
  if (!KEEP) rmSync(OUT, { recursive: true, force: true });
});

/** Width of a PNG from its IHDR chunk (bytes 16–19), after checking the signature. */
function pngWidth(file: string): number {
  const bytes = readFileSync(file);
  expect(bytes.subarray(1, 4).toString("latin1")).toBe("PNG");
  return bytes.readUInt32BE(16);
}

async function capture(page: Page, name: string, width: number): Promise<void> {
  const file = join(OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  expect(pngWidth(file)).toBe(width);
}

test("groups list and group page at desktop width", () =>
  onPageOfNewContext(browser, {}, DESKTOP, async (page) => {
    await show(page, "/console", "groups-table");
    await capture(page, "groups-list", DESKTOP.width);
    await show(page, `/console/groups/${groups.consumer}`, "members-table");
    await capture(page, "group-page", DESKTOP.width);
  }));

test("group page at a phone's width", () =>
  onPageOfNewContext(browser, {}, PHONE, async (page) => {
    await show(page, `/console/groups/${groups.consumer}`, "members-table");
    await capture(page, "group-page-phone", PHONE.width);
  }));
