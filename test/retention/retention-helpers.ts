/**
 * Shared by the retention tests (project `workers-retention`, OFFSETS_RETENTION_MS=1500): the retention
 * they run with, a JSON request through the Worker, and a wait until a moment has passed.
 */

import { exports } from "cloudflare:workers";

/** OFFSETS_RETENTION_MS of the `workers-retention` project (vitest.config.ts). */
export const RETENTION = 1500;

export async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await exports.default.fetch(`http://cohort.test${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Resolves once `Date.now()` is past `t`. */
export const sleepUntil = async (t: number): Promise<void> => {
  while (Date.now() <= t) await new Promise((r) => setTimeout(r, Math.max(1, t - Date.now() + 1)));
};
