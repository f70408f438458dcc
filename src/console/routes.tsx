/**
 * The console under /console (API.md §9): pages rendered on the server with hono/jsx, forms that post
 * back here and redirect with a flash (admin-routes.tsx), and every read and action made through /v1
 * in-process with the caller's token. Secure headers with a strict CSP on every answer; no inline script.
 */

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { adminRoutes } from "./admin-routes.tsx";
import { V1Api, type V1Fetch } from "./api.ts";
import { takeFlash } from "./flash.ts";
import { GroupLive, GroupPage, loadGroup } from "./group-page.tsx";
import { type Filters, GroupsPage, GroupsTable, loadGroups } from "./groups-page.tsx";
import { ErrorPage } from "./layout.tsx";
import { type C, failPage, groupRoute } from "./responses.tsx";
import { type ConfigOf, type ConsoleEnv, consoleSession, sameOriginForms, signInRoutes } from "./sign-in.tsx";

/** Form posts are a few fields: anything larger is not the console's own form. */
const MAX_FORM_BYTES = 64 * 1024;
/** Longest query value passed on to /v1 (which validates it again). */
const MAX_QUERY = 2048;
/** The files of public/console/, which every page links. */
const CONSOLE_ASSETS = ["console.css", "live.js"] as const;
const UNSAFE = ["POST", "PUT", "PATCH", "DELETE"];

export function consoleApp(deps: { v1: V1Fetch; configOf: ConfigOf }): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();

  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
      xFrameOptions: "DENY",
      referrerPolicy: "same-origin",
    }),
  );
  app.use("*", async (c, next) => {
    await next();
    // Pages show a token's private view: never kept by a cache.
    c.header("cache-control", "no-store");
  });
  app.on(UNSAFE, "*", sameOriginForms);
  app.on(
    UNSAFE,
    "*",
    bodyLimit({
      maxSize: MAX_FORM_BYTES,
      onError: (c) =>
        c.html(<ErrorPage status={413} code="PAYLOAD_TOO_LARGE" message="the form is too large" />, 413),
    }),
  );
  // The asset layer answers these before the Worker runs (wrangler dev, deployments); a runtime without
  // it in front (the vitest pool) reaches the Worker, which hands them to the same assets binding.
  // Static paths, not a pattern: one regex route among static ones sends the whole app (the /v1 hot
  // paths included) from hono's RegExpRouter to its slower TrieRouter.
  for (const asset of CONSOLE_ASSETS) {
    app.get(`/${asset}`, async (c) => {
      const assets = (c.env as Env & { ASSETS?: Fetcher }).ASSETS;
      if (!assets) return c.text("not found", 404);
      const served = await assets.fetch(c.req.raw);
      return new Response(served.body, served);
    });
  }
  signInRoutes(app, deps.configOf);
  app.use("*", consoleSession(deps.configOf));
  app.use("*", async (c, next) => {
    c.set("api", new V1Api(deps.v1, c.env, new URL(c.req.url).origin, c.get("token")));
    return next();
  });

  const q = (c: C, name: string) => (c.req.query(name) ?? "").slice(0, MAX_QUERY);
  const groupsPage = async (c: C) => {
    const filters: Filters = {
      state: q(c, "state"),
      type: q(c, "type"),
      prefix: q(c, "prefix"),
      cursor: q(c, "cursor"),
    };
    const now = Date.now();
    const data = await loadGroups(c.get("api"), filters, now);
    if ("status" in data) return failPage(c, data);
    if (c.req.query("fragment") === "live") return c.html(<GroupsTable data={data} />);
    return c.html(
      <GroupsPage data={data} filters={filters} viewer={c.get("viewer")} flash={takeFlash(c)} now={now} />,
    );
  };
  app.get("/", groupsPage);
  app.get("/groups", groupsPage);

  app.get(
    "/groups/:groupId",
    groupRoute(async (c, id) => {
      const now = Date.now();
      const data = await loadGroup(c.get("api"), id);
      if ("status" in data) return failPage(c, data);
      const viewer = c.get("viewer");
      if (c.req.query("fragment") === "live") {
        return c.html(<GroupLive data={data} admin={viewer.admin} now={now} />);
      }
      return c.html(<GroupPage data={data} viewer={viewer} flash={takeFlash(c)} now={now} />);
    }),
  );

  adminRoutes(app);

  app.all("*", (c) =>
    failPage(c, {
      status: 404,
      code: "NOT_FOUND",
      message: `no console page at ${new URL(c.req.url).pathname}`,
    }),
  );
  app.onError((err, c) => {
    console.error("cohort console: request failed", err);
    return c.html(
      <ErrorPage
        status={503}
        code="COORDINATOR_NOT_AVAILABLE"
        message="the coordinator is not available; retry"
      />,
      503,
      { "retry-after": "1" },
    );
  });
  return app;
}
