/**
 * One `cohort.admin` log line (src/log.ts) per call of an admin route — from the API, the CLI or the
 * console alike, since all of them go through /v1 — with who called it (the token's `sub`, when the
 * grant carries one), what it named and how it ended. Refused calls (401, 403) are logged too: an
 * operator wants to see the attempts as well as the changes.
 */

import type { MiddlewareHandler } from "hono";
import { log } from "../log.ts";
import type { AppEnv } from "./auth.ts";

/** Admin routes under /v1: method, path pattern (group id first, then what else it names). */
const ADMIN_ROUTES: readonly { method: string; path: RegExp; action: string }[] = [
  { method: "DELETE", path: /^\/v1\/groups\/([^/]+)$/, action: "group.delete" },
  { method: "DELETE", path: /^\/v1\/groups\/([^/]+)\/offsets\/([^/]+)$/, action: "offsets.delete" },
  { method: "POST", path: /^\/v1\/groups\/([^/]+)\/offsets\/reset$/, action: "offsets.reset" },
  { method: "POST", path: /^\/v1\/groups\/([^/]+)\/share\/archived\/redrive$/, action: "share.redrive" },
];

const decoded = (part: string | undefined): string | undefined => {
  if (part === undefined) return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
};

/** The parsed JSON body the route read (hono caches it), or undefined. */
async function bodyOf(
  c: Parameters<MiddlewareHandler<AppEnv>>[0],
): Promise<Record<string, unknown> | undefined> {
  if (c.req.method !== "POST") return undefined;
  try {
    const body = await c.req.json();
    return body && typeof body === "object" ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const adminLog: MiddlewareHandler<AppEnv> = async (c, next) => {
  // Reads pass with a method check: no URL is parsed.
  const method = c.req.method;
  if (method !== "POST" && method !== "DELETE") return next();
  const path = c.req.path;
  // The protocol POSTs (heartbeats, commits, acquires) end otherwise: no regex runs for them.
  if (method === "POST" && !path.endsWith("/reset") && !path.endsWith("/redrive")) return next();
  const route = ADMIN_ROUTES.find((r) => r.method === method && r.path.test(path));
  // Not an admin call: handed on without a frame of ours waiting on it.
  if (!route) return next();
  await next();
  const [, groupId, topic] = route.path.exec(path) ?? [];
  const body = await bodyOf(c);
  const grant = c.get("grant") as { subject?: string | null } | undefined;
  log(c.res.status < 400 ? "info" : "warn", {
    event: "cohort.admin",
    action: route.action,
    groupId: decoded(groupId),
    topic: decoded(topic) ?? (typeof body?.topic === "string" ? body.topic : undefined),
    dryRun: route.action === "offsets.reset" ? body?.dryRun === true : undefined,
    subject: grant?.subject ?? null,
    status: c.res.status,
  });
};
