/**
 * The Hono app: configuration, auth and body-limit middleware, the /v1 routes, /health, /openapi.json
 * (which the API reference, Swagger UI as static assets in public/reference/, reads), and the mapping
 * of everything unexpected to API.md §1 errors (never a 5xx other than 503).
 */

import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { consoleApp } from "../console/routes.tsx";
import { type Config, readConfig } from "../core/config.ts";
import { logFailure } from "../log.ts";
import { adminLog } from "./admin-log.ts";
import { authenticate } from "./auth.ts";
import { newApp } from "./openapi.ts";
import { errorOf, errorResponse } from "./respond.ts";
import { classicRoutes } from "./routes/classic.ts";
import { consumerRoutes } from "./routes/consumer.ts";
import { groupRoutes } from "./routes/groups.ts";
import { historyRoutes } from "./routes/history.ts";
import { offsetRoutes } from "./routes/offsets.ts";
import { shareRoutes } from "./routes/share.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

/** Configuration is read once per environment object (i.e. per isolate and deployment). */
const configs = new WeakMap<object, ReturnType<typeof readConfig>>();
function configOf(env: Env): ReturnType<typeof readConfig> {
  let read = configs.get(env);
  if (!read) {
    read = readConfig(env as unknown as Record<string, unknown>);
    configs.set(env, read);
  }
  return read;
}

const v1 = newApp();
v1.use("*", adminLog);
v1.use("*", async (c, next) => {
  const read = configOf(c.env);
  if (!read.ok) return errorResponse(c, errorOf("COORDINATOR_NOT_AVAILABLE", read.problem));
  c.set("config", read.config as Config);
  return next();
});
v1.use("*", authenticate());
v1.use(
  "*",
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) =>
      errorResponse(c, errorOf("PAYLOAD_TOO_LARGE", `the body is over ${MAX_BODY_BYTES} bytes`)),
  }),
);
const v1Routes = v1
  .route("/", offsetRoutes)
  .route("/", groupRoutes)
  .route("/", historyRoutes)
  .route("/", consumerRoutes)
  .route("/", classicRoutes)
  .route("/", shareRoutes);

/** The one route that upgrades to a WebSocket (API.md §5). */
const WATCH_PATH = /^\/v1\/groups\/[^/]+\/members\/[^/]+\/watch$/;

/**
 * Refuses `Upgrade: websocket` anywhere but the watch route, before routing. The runtime treats such
 * a request as a WebSocket handshake, a GET, whatever its method: a POST commit would answer with the
 * offset list and commit nothing, a DELETE with the describe. Better a 400 than another request's answer.
 */
export const refuseStrayUpgrade: MiddlewareHandler = async (c, next) => {
  const upgrade = c.req.header("upgrade");
  if (upgrade === undefined) return next();
  const websocket = upgrade.split(",").some((token) => token.trim().toLowerCase() === "websocket");
  if (!websocket || (c.req.method === "GET" && WATCH_PATH.test(new URL(c.req.url).pathname))) return next();
  return errorResponse(
    c,
    errorOf(
      "INVALID_REQUEST",
      "Upgrade: websocket is accepted only by GET /v1/groups/{groupId}/members/{memberId}/watch",
    ),
  );
};

export const app = newApp();
app.use("*", refuseStrayUpgrade);
app.get("/health", (c) => c.json({ status: "ok" }));
const routes = app.route("/v1", v1Routes);
// The operator console (API.md §9): its data comes from this same app, in-process, with the caller's token.
app.route(
  "/console",
  consoleApp({ v1: (request, env) => Promise.resolve(app.fetch(request, env)), configOf }),
);

app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
  type: "http",
  scheme: "bearer",
  bearerFormat: "JWT",
});
app.doc31("/openapi.json", {
  openapi: "3.1.0",
  info: {
    title: "cohort",
    version: "1",
    description: "Kafka-style consumer group coordinator on Cloudflare Durable Objects",
  },
  security: [{ bearer: [] }],
});

app.notFound((c) =>
  errorResponse(c, errorOf("NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)),
);

app.onError((err, c) => {
  if (err instanceof HTTPException) {
    const status = err.status;
    if (status === 413) return errorResponse(c, errorOf("PAYLOAD_TOO_LARGE", err.message));
    if (status === 401) return errorResponse(c, errorOf("UNAUTHENTICATED", err.message));
    if (status < 500) {
      const message = status === 415 ? "the body must be JSON (content-type: application/json)" : err.message;
      return errorResponse(c, errorOf("INVALID_REQUEST", message || "invalid request"));
    }
  }
  // A Durable Object that reset, was evicted or is overloaded: retriable, and the only 5xx cohort sends.
  logFailure("request", err, { method: c.req.method, path: new URL(c.req.url).pathname });
  return errorResponse(
    c,
    errorOf("COORDINATOR_NOT_AVAILABLE", "the group coordinator is not available; retry"),
  );
});

/** The typed route tree, for hono's `hc` client. */
export type AppType = typeof routes;
