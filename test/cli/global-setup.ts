/** Starts one local coordinator (workerd, AUTH_MODE=none) for the CLI tests and stops it afterwards. */

import type { TestProject } from "vitest/node";
import { startLocalCoordinator } from "../../scripts/local-coordinator.ts";

declare module "vitest" {
  export interface ProvidedContext {
    cohortUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const coordinator = await startLocalCoordinator();
  project.provide("cohortUrl", coordinator.url);
  return () => coordinator.stop();
}
