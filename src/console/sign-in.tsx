/**
 * Browser sign-in (API.md §9): the console asks for a token once, verifies it exactly as /v1 does
 * (auth.ts's grantOf), and keeps it in the `__Host-` session cookie until the token's own `exp`.
 * Pages under /console need that session (AUTH_MODE=jwt) and every form post must come from this origin.
 */

import type { Context, MiddlewareHandler } from "hono";
import type { FC } from "hono/jsx";
import type { Config } from "../core/config.ts";
import { type Grant, grantOf } from "../http/auth.ts";
import { clearSession, sameOriginOrSafe, sessionToken, setSession } from "../http/session-cookie.ts";
import type { V1Api } from "./api.ts";
import { Layout, type Viewer } from "./layout.tsx";

export type ConfigOf = (env: Env) => { ok: true; config: Config } | { ok: false; problem: string };

/** What a console request knows about its caller. */
export type ConsoleEnv = {
  Bindings: Env;
  Variables: { token: string | null; viewer: Viewer; config: Config; api: V1Api };
};

/** A `next` target that stays inside the console (never another site, never `//host`). */
export function safeNext(next: unknown): string {
  const inside =
    typeof next === "string" &&
    next.length < 2000 &&
    /^\/console(\/[A-Za-z0-9._~%/?=&+-]*)?$/.test(next) &&
    !/\.\.|%2e/i.test(next); // no dot segments, plain or encoded, that would climb out of /console
  return inside ? next : "/console";
}

export const SignInPage: FC<{ message: string | null; next: string }> = ({ message, next }) => (
  <Layout title="Sign in">
    <h1>Sign in to the cohort console</h1>
    <p>
      Paste a token (a JWT signed for this coordinator). The console keeps it in a secure, HttpOnly cookie
      until the token expires, and sees and does exactly what the token allows.
    </p>
    {message ? (
      <div class="flash flash-bad" role="alert" data-testid="sign-in-error">
        {message}
      </div>
    ) : null}
    <form method="post" action="/console/sign-in" data-testid="sign-in" class="stack">
      <input type="hidden" name="next" value={next} />
      <label for="token">Token</label>
      <input id="token" name="token" type="password" autocomplete="off" required spellcheck={false} />
      <button type="submit" data-testid="sign-in-submit">
        Sign in
      </button>
    </form>
  </Layout>
);

const viewerOf = (grant: Grant | null): Viewer => ({
  signedIn: grant !== null,
  subject: grant?.subject ?? null,
  expiresAt: grant?.expiresAt ?? null,
  admin: grant === null || grant.scopes.has("admin"),
});

/** The session a console page runs in: AUTH_MODE=none lets everyone in with every right. */
export const consoleSession =
  (configOf: ConfigOf): MiddlewareHandler<ConsoleEnv> =>
  async (c, next) => {
    const read = configOf(c.env);
    if (!read.ok) return c.text(read.problem, 503, { "retry-after": "1" });
    c.set("config", read.config);
    if (read.config.authMode === "none") {
      c.set("token", null);
      c.set("viewer", viewerOf(null));
      return next();
    }
    const token = sessionToken(c);
    const grant =
      token && read.config.jwtSecret ? await grantOf(`Bearer ${token}`, read.config.jwtSecret) : null;
    if (token === null || grant === null || typeof grant === "string") {
      if (token !== null) clearSession(c);
      return toSignIn(c, token !== null);
    }
    c.set("token", token);
    c.set("viewer", viewerOf(grant));
    return next();
  };

/** Unsigned or expired: pages go to the sign-in form; the refresh script's fragments get a bare 401. */
function toSignIn(c: Context<ConsoleEnv>, expired: boolean): Response {
  const url = new URL(c.req.url);
  if (url.searchParams.get("fragment") !== null) return c.text("sign in again", 401);
  const next = c.req.method === "GET" ? `${url.pathname}${url.search}` : "/console";
  const query = new URLSearchParams({ next: safeNext(next), ...(expired ? { expired: "1" } : {}) });
  return c.redirect(`/console/sign-in?${query}`, 303);
}

/** Refuses a form post from another origin, whatever the auth mode (the console's own CSRF rule). */
export const sameOriginForms: MiddlewareHandler = async (c, next) =>
  sameOriginOrSafe(c) ? next() : c.text("cross-origin form posts are refused", 403);

export function signInRoutes(app: import("hono").Hono<ConsoleEnv>, configOf: ConfigOf): void {
  app.get("/sign-in", (c) => {
    const read = configOf(c.env);
    const next = safeNext(c.req.query("next"));
    if (read.ok && read.config.authMode === "none") return c.redirect(next, 303);
    const expired = c.req.query("expired") === "1" ? "Your session has expired: sign in again." : null;
    return c.html(<SignInPage message={expired} next={next} />);
  });

  app.post("/sign-in", async (c) => {
    const read = configOf(c.env);
    if (!read.ok) return c.text(read.problem, 503, { "retry-after": "1" });
    const form = await c.req.parseBody();
    const next = safeNext(form.next);
    if (read.config.authMode === "none") return c.redirect(next, 303);
    if (!read.config.jwtSecret)
      return c.text("AUTH_MODE=jwt but JWT_SECRET is not configured", 503, { "retry-after": "1" });
    const token = typeof form.token === "string" ? form.token.trim() : "";
    const grant = token === "" ? "paste a token" : await grantOf(`Bearer ${token}`, read.config.jwtSecret);
    if (typeof grant === "string") {
      return c.html(<SignInPage message={`Sign-in refused: ${grant}.`} next={next} />, 401);
    }
    setSession(c, token, grant.expiresAt ?? Date.now());
    return c.redirect(next, 303);
  });

  app.post("/sign-out", (c) => {
    clearSession(c);
    return c.redirect("/console/sign-in", 303);
  });
}
