/**
 * The console's browser session (API.md §9): the signed-in token kept in a `__Host-` cookie, which the
 * /v1 routes and the watch upgrade accept in place of the Authorization header, and the same-origin
 * rule that keeps another site from using it (a cookie travels with requests a page did not choose).
 */

import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";

/** `__Host-`: the browser keeps it only if Secure, Path=/ and without Domain (no subdomain can set it). */
export const SESSION_COOKIE = "__Host-cohort_session";

/** The session token a request carries in its cookie, if any. */
export function sessionToken(c: Context): string | null {
  const value = getCookie(c, SESSION_COOKIE);
  return value === undefined || value === "" ? null : value;
}

/** Browsers keep a cookie at most 400 days (RFC 6265bis), and hono refuses to set a later Expires. */
export const MAX_COOKIE_LIFETIME_MS = 400 * 24 * 3600 * 1000;

/**
 * Keeps a verified token until it expires (HttpOnly: no script of any page reads it). A token that
 * outlives a cookie's 400 days is kept for those: signing in again renews it.
 */
export function setSession(c: Context, token: string, expiresAt: number, now = Date.now()): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    secure: true,
    sameSite: "Strict",
    path: "/",
    expires: new Date(Math.min(expiresAt, now + MAX_COOKIE_LIFETIME_MS)),
  });
}

export function clearSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { httpOnly: true, secure: true, sameSite: "Strict", path: "/" });
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Whether a request that a cookie authenticates may act: safe methods (other than a WebSocket upgrade,
 * which opens a channel that acts) always; anything else only when the browser says it comes from this
 * origin — `Origin` equal to ours, or without Origin `Sec-Fetch-Site: same-origin`. Neither header:
 * refused, since a browser sends one of them with every unsafe request.
 */
export function sameOriginOrSafe(c: Context): boolean {
  const upgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
  if (SAFE_METHODS.has(c.req.method) && !upgrade) return true;
  const origin = c.req.header("origin");
  if (origin !== undefined) return origin === new URL(c.req.url).origin;
  return c.req.header("sec-fetch-site") === "same-origin";
}

export const CROSS_SITE_REFUSAL =
  "a request authenticated by the console's session cookie must come from the coordinator's own origin";
