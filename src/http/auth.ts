/**
 * Bearer-token auth of API.md §2, checked with hono's JWT helpers (HS256). A token carries `exp`
 * (required), `groups` (exact ids, prefixes ending in `*`, or `*`) and `scope` (`consume`, `describe`,
 * `admin`; `admin` implies the others). Everything fails closed: no secret configured is a 503.
 *
 * A WebSocket upgrade (the watch, API.md §5) may carry the token as the subprotocol
 * `cohort.bearer.<JWT>` beside `cohort.v1`, for browsers that cannot set headers; never in the URL,
 * where proxies and logs would keep it. Without either, the console's session cookie (API.md §9) counts,
 * and a request it authenticates must come from this origin unless it is safe (session-cookie.ts).
 */

import type { Context, MiddlewareHandler } from "hono";
import { verify } from "hono/jwt";
import type { Config } from "../core/config.ts";
import { errorOf, errorResponse } from "./respond.ts";
import { CROSS_SITE_REFUSAL, sameOriginOrSafe, sessionToken } from "./session-cookie.ts";

export type Scope = "consume" | "describe" | "admin";

/** What the caller may do. `null` patterns: every group (AUTH_MODE=none). */
export interface Grant {
  scopes: ReadonlySet<Scope>;
  groups: readonly string[] | null;
  /** When the token expires (ms since the epoch, from `exp`); null: never (AUTH_MODE=none). */
  expiresAt: number | null;
}

/** The watch socket's subprotocol, answered to every upgrade that offers subprotocols. */
export const WATCH_PROTOCOL = "cohort.v1";
/** The subprotocol prefix that carries a bearer token: `cohort.bearer.<JWT>`. */
export const BEARER_PROTOCOL_PREFIX = "cohort.bearer.";
/** Query parameters that would put a credential in the URL: refused outright. */
const CREDENTIAL_PARAMS = new Set(["token", "access_token", "jwt", "bearer", "auth", "authorization"]);

export type AppEnv = { Bindings: Env; Variables: { config: Config; grant: Grant } };

const ALL: Grant = {
  scopes: new Set<Scope>(["consume", "describe", "admin"]),
  groups: null,
  expiresAt: null,
};

export function mayAccess(grant: Grant, groupId: string): boolean {
  if (grant.groups === null) return true;
  return grant.groups.some(
    (p) => p === "*" || p === groupId || (p.endsWith("*") && groupId.startsWith(p.slice(0, -1))),
  );
}

function hasScope(grant: Grant, anyOf: readonly Scope[]): boolean {
  return grant.scopes.has("admin") || anyOf.some((s) => grant.scopes.has(s));
}

/**
 * The subprotocols a WebSocket upgrade offers (`Sec-WebSocket-Protocol`). An upgrade that offers any
 * must offer `cohort.v1` (the one answered: a client fails a handshake answered with a protocol it did
 * not offer) and at most one `cohort.bearer.<JWT>`; a string is the reason to refuse it (400).
 */
export function offeredProtocols(
  header: string | undefined,
): { offered: boolean; token: string | null } | string {
  const offers = (header ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (offers.length === 0) return { offered: false, token: null };
  const bearers = offers.filter((p) => p.startsWith(BEARER_PROTOCOL_PREFIX));
  if (bearers.length > 1) return `offer at most one ${BEARER_PROTOCOL_PREFIX}<JWT> subprotocol`;
  if (!offers.includes(WATCH_PROTOCOL)) {
    return `a watch that offers subprotocols must offer ${WATCH_PROTOCOL} (with ${BEARER_PROTOCOL_PREFIX}<JWT> to authenticate)`;
  }
  const token = bearers[0]?.slice(BEARER_PROTOCOL_PREFIX.length) ?? null;
  return { offered: true, token };
}

const isUpgrade = (c: Context<AppEnv>) => c.req.header("upgrade")?.toLowerCase() === "websocket";

/** A presented credential: the Authorization value (`Bearer <JWT>`), and whether it came from the cookie. */
type Presented = { token: string | null; cookie: boolean };

/** Without a header (or bearer subprotocol), the console's session cookie (API.md §9) stands in for it. */
function orSessionCookie(c: Context<AppEnv>, token: string | null): Presented {
  if (token !== null) return { token, cookie: false };
  const session = sessionToken(c);
  return session === null ? { token: null, cookie: false } : { token: `Bearer ${session}`, cookie: true };
}

/** The token a request presents (header, an upgrade's subprotocol, or the session cookie), or the reason to refuse (400). */
function presentedToken(c: Context<AppEnv>): Presented | { refuse: string } {
  const header = c.req.header("authorization");
  if (!isUpgrade(c)) return orSessionCookie(c, header ?? null);
  for (const name of new URL(c.req.url).searchParams.keys()) {
    if (CREDENTIAL_PARAMS.has(name.toLowerCase())) {
      return {
        refuse: `never put a token in the URL (query parameter ${name}): send it as Authorization: Bearer <JWT> or the subprotocol ${BEARER_PROTOCOL_PREFIX}<JWT>`,
      };
    }
  }
  const offer = offeredProtocols(c.req.header("sec-websocket-protocol"));
  if (typeof offer === "string") return { refuse: offer };
  if (offer.token !== null && header !== undefined) {
    return { refuse: "send the token once: in the Authorization header or as a subprotocol, not both" };
  }
  return orSessionCookie(c, offer.token !== null ? `Bearer ${offer.token}` : (header ?? null));
}

/** The grant of an Authorization value (`Bearer <JWT>`), verified with HS256, or why it is refused (401). */
export async function grantOf(header: string | null, secret: string): Promise<Grant | string> {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match)
    return `missing bearer token (Authorization: Bearer <JWT>, or on a watch the subprotocol ${BEARER_PROTOCOL_PREFIX}<JWT>)`;
  let claims: Record<string, unknown>;
  try {
    claims = await verify(match[1]!, secret, { alg: "HS256" });
  } catch (err) {
    // The library's messages quote the token itself: say why in words of our own, never echo it.
    return `invalid token: ${refusalOf(err)}`;
  }
  if (typeof claims.exp !== "number") return "invalid token: the exp claim is required";
  const groups = Array.isArray(claims.groups)
    ? claims.groups.filter((g): g is string => typeof g === "string")
    : [];
  const scopes = typeof claims.scope === "string" ? claims.scope.split(/\s+/) : [];
  return {
    groups,
    scopes: new Set(scopes.filter((s): s is Scope => s === "consume" || s === "describe" || s === "admin")),
    expiresAt: claims.exp * 1000,
  };
}

/** Authenticates every /v1 request (401) or lets AUTH_MODE=none through. */
export const authenticate = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const config = c.get("config");
  const presented = presentedToken(c);
  if ("refuse" in presented) return errorResponse(c, errorOf("INVALID_REQUEST", presented.refuse));
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
  if (presented.cookie && !sameOriginOrSafe(c)) {
    return errorResponse(c, errorOf("GROUP_AUTHORIZATION_FAILED", CROSS_SITE_REFUSAL));
  }
  const grant = await grantOf(presented.token, config.jwtSecret);
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

/** Why hono's verify refused a token, by the error's class name (its message contains the token). */
function refusalOf(err: unknown): string {
  switch (err instanceof Error ? err.name : "") {
    case "JwtTokenExpired":
      return "the token has expired";
    case "JwtTokenNotBefore":
      return "the token is not valid yet (nbf)";
    case "JwtTokenIssuedAt":
      return "the token's iat is in the future";
    case "JwtTokenSignatureMismatched":
      return "the signature does not match";
    case "JwtAlgorithmNotImplemented":
    case "JwtAlgorithmMismatch":
    case "JwtAlgorithmNotAllowed":
      return "only HS256 tokens are accepted";
    default:
      return "the token is malformed or its signature does not verify";
  }
}
