/**
 * Pages of the console as an operator's browser sees them: contexts signed in through the sign-in
 * form, pages that record every console error, uncaught exception, failed request, error status and
 * CSP violation (a test ends by asserting there were none), axe-core's audit, and the phone-width check.
 */

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AxeResults } from "axe-core";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { expect, inject } from "vitest";
import { baseUrl, type Claims, token } from "./seed.ts";

/** The one Chromium of the run (launched by global-setup.ts), shared by every file. */
export async function connectBrowser(): Promise<Browser> {
  baseUrl(); // fails with the fixture's instructions when there is no Chromium
  return chromium.connect(inject("browserEndpoint"));
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };

/** A page whose problems are collected; `allow` names a path that is expected to answer 4xx. */
export interface WatchedPage {
  page: Page;
  problems: string[];
  allow: (path: string) => void;
}

/**
 * The few browser globals the functions run in the page touch: tsconfig has no DOM lib (the Worker has
 * no DOM), so they are typed here, for this file only.
 */
interface PageGlobals {
  innerWidth: number;
  axe: typeof import("axe-core");
  document: {
    documentElement: { scrollWidth: number };
    addEventListener(
      type: "securitypolicyviolation",
      listener: (e: { violatedDirective: string; blockedURI: string; sourceFile: string }) => void,
    ): void;
  };
}

/** Reports CSP violations through the console, where the page's listener records them. */
const REPORT_CSP_VIOLATIONS = () => {
  (globalThis as unknown as PageGlobals).document.addEventListener("securitypolicyviolation", (e) => {
    console.error(
      `CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} in ${e.sourceFile}`,
    );
  });
};

async function watchedPage(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  const allowed = new Set<string>();
  const isAllowed = (url: string) => allowed.has(new URL(url, baseUrl()).pathname);
  await page.addInitScript(REPORT_CSP_VIOLATIONS);
  page.on("console", (message) => {
    if (message.type() === "error" && !isAllowed(message.location().url || "/")) {
      problems.push(`console: ${message.text()} (${message.location().url})`);
    }
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("requestfailed", (request) => {
    // A live refresh cut short by the test navigating away is not a failure of the page.
    if (request.failure()?.errorText !== "net::ERR_ABORTED") {
      problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
    }
  });
  page.on("response", (response) => {
    if (response.status() >= 400 && !isAllowed(response.url())) {
      problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
    }
  });
  return { page, problems, allow: (path) => allowed.add(path) };
}

/**
 * Runs `body` on a new watched page of `context`, then asserts the page saw no console error, exception,
 * failed request or CSP violation; the page is closed either way.
 */
export async function onPage(
  context: BrowserContext,
  body: (page: Page, watched: WatchedPage) => Promise<void>,
): Promise<void> {
  const watched = await watchedPage(context);
  try {
    await body(watched.page, watched);
    expect(watched.problems).toEqual([]);
  } finally {
    await watched.page.close();
  }
}

/** `onPage` in a context of its own (its own cookies): signed in with `claims`, or not when `null`. */
export async function onPageOfNewContext(
  browser: Browser,
  claims: Claims | null,
  viewport: { width: number; height: number },
  body: (page: Page, watched: WatchedPage, context: BrowserContext) => Promise<void>,
): Promise<void> {
  const context = claims
    ? await signedInContext(browser, claims, viewport)
    : await browser.newContext({ viewport });
  try {
    await onPage(context, (page, watched) => body(page, watched, context));
  } finally {
    await context.close();
  }
}

/** Fills the sign-in form with `bearer` and submits it; resolves on the groups list. */
export async function signIn(page: Page, bearer: string): Promise<void> {
  await page.goto(`${baseUrl()}/console/sign-in`);
  await page.locator('[data-testid="sign-in"] input[name="token"]').fill(bearer);
  await Promise.all([
    page.waitForURL((url) => url.pathname === "/console" || url.pathname === "/console/groups"),
    page.click('[data-testid="sign-in-submit"]'),
  ]);
}

/** A fresh browser context (its own cookie jar) signed in through the form with a token of `claims`. */
export async function signedInContext(
  browser: Browser,
  claims: Claims = {},
  viewport = DESKTOP,
): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  await signIn(page, await token(claims));
  await page.close();
  return context;
}

/** Opens a console path and waits for `testid` to be on the page. */
export async function show(page: Page, path: string, testid: string): Promise<void> {
  await page.goto(baseUrl() + path);
  await page.locator(`[data-testid="${testid}"]`).first().waitFor();
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core"), "utf8");

/**
 * axe-core's violations on the page (each printed). axe goes in by evaluate, not a script tag: the
 * console's CSP rightly refuses inline scripts.
 */
export async function axeViolations(page: Page, label: string): Promise<AxeResults["violations"]> {
  await page.evaluate(AXE_SOURCE);
  const { violations } = await page.evaluate(() =>
    (globalThis as unknown as PageGlobals).axe.run({ resultTypes: ["violations"] }),
  );
  if (violations.length > 0) {
    const lines = violations.map(
      (v) => `  [${v.impact}] ${v.id}: ${v.help} (${v.nodes.length}× e.g. ${v.nodes[0]?.target.join(" ")})`,
    );
    console.log(`axe on ${label}:\n${lines.join("\n")}`);
  }
  return violations;
}

/** Asserts axe-core finds no serious or critical violation on the page. */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  const blocking = (await axeViolations(page, label)).filter(
    (v) => v.impact === "serious" || v.impact === "critical",
  );
  expect(
    blocking.map((v) => `${v.id}: ${v.help}`),
    `axe on ${label}`,
  ).toEqual([]);
}

/** At the page's viewport the document does not scroll sideways, and each control is visible on it. */
export async function expectFitsWidth(page: Page, testids: string[]): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => {
    const page = globalThis as unknown as PageGlobals;
    return { scrollWidth: page.document.documentElement.scrollWidth, innerWidth: page.innerWidth };
  });
  expect(scrollWidth, `${page.url()} is ${scrollWidth}px wide at ${innerWidth}px`).toBeLessThanOrEqual(
    innerWidth + 1,
  );
  for (const testid of testids) {
    const control = page.locator(`[data-testid="${testid}"]`).first();
    expect(await control.isVisible(), `${testid} visible on ${page.url()}`).toBe(true);
    const box = await control.boundingBox();
    expect(box, testid).not.toBeNull();
    expect(box!.x, `${testid} starts on screen`).toBeGreaterThanOrEqual(0);
  }
}
