/**
 * Shared by the retention tests (project `workers-retention`, OFFSETS_RETENTION_MS=1500): the retention
 * they run with, a JSON request through the Worker, the listed ids (polled: the directory follows a
 * change off the request path), and a wait until a moment has passed.
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

/** The listed ids: the directory follows a group off the request path (API.md §6: at most 10 s). */
export const listedIds = async (): Promise<string[]> =>
  (await api("GET", "/v1/groups")).body.groups.map((x: { groupId: string }) => x.groupId);
export const LIST_LAG = { timeout: 10_000, interval: 50 };

/** Resolves once `Date.now()` is past `t`. */
export const sleepUntil = async (t: number): Promise<void> => {
  while (Date.now() <= t) await new Promise((r) => setTimeout(r, Math.max(1, t - Date.now() + 1)));
};
