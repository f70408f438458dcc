/**
 * Bearer-token auth of API.md §2, checked with hono's JWT helpers (HS256). A token carries `exp`
 * (required), `groups` (exact ids, prefixes ending in `*`, or `*`) and `scope` (`consume`, `describe`,
 * `admin`; `admin` implies the others). Everything fails closed: no secret configured is a 503.
 */

import type { Context, MiddlewareHandler } from "hono";
import { verify } from "hono/jwt";
import type { Config } from "../core/config.ts";
import { errorOf, errorResponse } from "./respond.ts";

export type Scope = "consume" | "describe" | "admin";

/** What the caller may do. `null` patterns: every group (AUTH_MODE=none). */
export interface Grant {
  scopes: ReadonlySet<Scope>;
  groups: readonly string[] | null;
}

export type AppEnv = { Bindings: Env; Variables: { config: Config; grant: Grant } };

const ALL: Grant = { scopes: new Set<Scope>(["consume", "describe", "admin"]), groups: null };

export function mayAccess(grant: Grant, groupId: string): boolean {
  if (grant.groups === null) return true;
  return grant.groups.some(
    (p) => p === "*" || p === groupId || (p.endsWith("*") && groupId.startsWith(p.slice(0, -1))),
  );
}

function hasScope(grant: Grant, anyOf: readonly Scope[]): boolean {
  return grant.scopes.has("admin") || anyOf.some((s) => grant.scopes.has(s));
}

async function grantOf(header: string | undefined, secret: string): Promise<Grant | string> {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) return "missing bearer token (Authorization: Bearer <JWT>)";
  let claims: Record<string, unknown>;
  try {
    claims = await verify(match[1]!, secret, { alg: "HS256" });
  } catch (err) {
    return `invalid token: ${err instanceof Error ? err.message : "verification failed"}`;
  }
  if (typeof claims.exp !== "number") return "invalid token: the exp claim is required";
  const groups = Array.isArray(claims.groups)
    ? claims.groups.filter((g): g is string => typeof g === "string")
    : [];
  const scopes = typeof claims.scope === "string" ? claims.scope.split(/\s+/) : [];
  return {
    groups,
    scopes: new Set(scopes.filter((s): s is Scope => s === "consume" || s === "describe" || s === "admin")),
  };
}

/** Authenticates every /v1 request (401) or lets AUTH_MODE=none through. */
export const authenticate = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const config = c.get("config");
  if (config.authMode === "none") {
    c.set("grant", ALL);
    return next();
  }
  if (!config.jwtSecret) {
    return errorResponse(
      c,
      errorOf("COORDINATOR_NOT_AVAILABLE", "AUTH_MODE=jwt but JWT_SECRET is not configured"),
    );
  }
  const grant = await grantOf(c.req.header("authorization"), config.jwtSecret);
  if (typeof grant === "string") return errorResponse(c, errorOf("UNAUTHENTICATED", grant));
  c.set("grant", grant);
  return next();
};

/** Authorizes a group route (403): the token's groups must cover the path's group, with one of the scopes. */
export const authorize =
  (...anyOf: Scope[]): MiddlewareHandler<AppEnv> =>
  async (c: Context<AppEnv>, next) => {
    const grant = c.get("grant");
    const groupId = c.req.param("groupId") ?? "";
    if (!hasScope(grant, anyOf)) {
      return errorResponse(
        c,
        errorOf("GROUP_AUTHORIZATION_FAILED", `the token lacks the ${anyOf.join(" or ")} scope`),
      );
    }
    if (groupId && !mayAccess(grant, groupId)) {
      return errorResponse(
        c,
        errorOf("GROUP_AUTHORIZATION_FAILED", `the token does not cover group ${groupId}`),
      );
    }
    return next();
  };
