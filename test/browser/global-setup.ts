/**
 * The browser project's fixture: one local coordinator (wrangler dev on workerd, AUTH_MODE=jwt) and one
 * headless Chromium, both started once for every browser test file and stopped after them. The files
 * connect to the browser over its websocket, so a launch (the slow part) happens once per run.
 */

import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import type { TestProject } from "vitest/node";
import { startLocalCoordinator } from "../../scripts/local-coordinator.ts";
import { TEST_JWT_SECRET } from "../test-secret.ts";

declare module "vitest" {
  export interface ProvidedContext {
    consoleUrl: string;
    browserEndpoint: string;
    /** Why the fixture could not start (no Chromium); every browser test fails with it. */
    browserMissing: string | null;
  }
}

/** Debian's Chromium; another build of Chromium may be named by CHROMIUM_PATH (e.g. on a laptop). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Sessions and locks far past the run, so members seeded at the start are still there at the end. */
const COORDINATOR_VARS = {
  AUTH_MODE: "jwt",
  JWT_SECRET: TEST_JWT_SECRET,
  GROUP_INITIAL_REBALANCE_DELAY_MS: "100",
  CONSUMER_SESSION_TIMEOUT_MS: "600000",
  SHARE_SESSION_TIMEOUT_MS: "600000",
  SHARE_RECORD_LOCK_DURATION_MS: "600000",
  SHARE_AUTO_OFFSET_RESET: "earliest",
};

export default async function setup(project: TestProject) {
  // npm test must not pass without its browser test: with no Chromium every browser test fails, saying
  // how to get one, while the other projects still run (a throw here would stop the whole run unread).
  if (!existsSync(CHROMIUM_PATH)) {
    project.provide(
      "browserMissing",
      `The console's browser test needs Chromium at ${CHROMIUM_PATH}, which is missing.\n` +
        "  On Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y chromium\n" +
        "  (.ci/run does this), or point CHROMIUM_PATH at another Chromium build.",
    );
    return;
  }
  project.provide("browserMissing", null);
  const browser = await chromium.launchServer({
    executablePath: CHROMIUM_PATH,
    args: ["--headless", "--no-sandbox", "--disable-background-networking"],
  });
  let coordinator: Awaited<ReturnType<typeof startLocalCoordinator>>;
  try {
    coordinator = await startLocalCoordinator(COORDINATOR_VARS);
  } catch (error) {
    await browser.close();
    throw error;
  }
  project.provide("consoleUrl", coordinator.url);
  project.provide("browserEndpoint", browser.wsEndpoint());
  return async () => {
    await browser.close();
    await coordinator.stop();
  };
}
