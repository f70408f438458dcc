/**
 * The console under /console (API.md §9): pages rendered on the server with hono/jsx, forms that post
 * back here and redirect with a flash, and every read and action made through /v1 in-process with the
 * caller's token. Secure headers with a strict CSP on every answer; no inline script anywhere.
 */

import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { GroupId } from "../api/schemas.ts";
import { type ApiError, groupPath, type ResetResult, V1Api, type V1Fetch } from "./api.ts";
import { setFlash, takeFlash } from "./flash.ts";
import { GroupLive, GroupPage, loadGroup } from "./group-page.tsx";
import { type Filters, GroupsPage, GroupsTable, loadGroups } from "./groups-page.tsx";
import { ConfirmPage, ErrorPage } from "./layout.tsx";
import { ResetPage, resetBody, resetDoneMessage, resetFields } from "./reset-page.tsx";
import { type ConfigOf, type ConsoleEnv, consoleSession, sameOriginForms, signInRoutes } from "./sign-in.tsx";

/** Form posts are a few fields: anything larger is not the console's own form. */
const MAX_FORM_BYTES = 64 * 1024;
/** Longest query value passed on to /v1 (which validates it again). */
const MAX_QUERY = 2048;

type C = Context<ConsoleEnv>;

export function consoleApp(deps: { v1: V1Fetch; configOf: ConfigOf }): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const apiOf = (c: C) => new V1Api(deps.v1, c.env, new URL(c.req.url).origin, c.get("token"));

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
  app.on(["POST", "PUT", "PATCH", "DELETE"], "*", sameOriginForms);
  app.on(
    ["POST", "PUT", "PATCH", "DELETE"],
    "*",
    bodyLimit({
      maxSize: MAX_FORM_BYTES,
      onError: (c) =>
        c.html(<ErrorPage status={413} code="PAYLOAD_TOO_LARGE" message="the form is too large" />, 413),
    }),
  );
  // The asset layer answers these before the Worker runs (wrangler dev, deployments); a runtime without
  // it in front (the vitest pool) reaches the Worker, which hands them to the same assets binding.
  app.get("/:asset{[a-z-]+\\.(?:css|js)}", async (c) => {
    const assets = (c.env as Env & { ASSETS?: Fetcher }).ASSETS;
    if (!assets) return c.text("not found", 404);
    const served = await assets.fetch(c.req.raw);
    return new Response(served.body, served);
  });
  signInRoutes(app, deps.configOf);
  app.use("*", consoleSession(deps.configOf));

  /** A /v1 refusal as a page with the same status (401: the session ended, so sign in again). */
  const failPage = (c: C, e: ApiError) => {
    if (e.status === 401) return c.redirect("/console/sign-in?expired=1", 303);
    const status = e.status >= 400 && e.status < 500 ? e.status : 503;
    if (new URL(c.req.url).searchParams.get("fragment") !== null) return c.text(e.message, status as 400);
    return c.html(
      <ErrorPage status={status} code={e.code} message={e.message} viewer={c.get("viewer")} />,
      status as 400,
    );
  };
  const badRequest = (c: C, code: string, message: string) => failPage(c, { status: 400, code, message });
  const q = (c: C, name: string) => (c.req.query(name) ?? "").slice(0, MAX_QUERY);
  /** The path's group id, checked as the API checks it (API.md §1), or null. */
  const groupIdOf = (c: C) => {
    const id = c.req.param("groupId") ?? "";
    return GroupId.safeParse(id).success ? id : null;
  };
  const adminOnly = (c: C) =>
    failPage(c, {
      status: 403,
      code: "GROUP_AUTHORIZATION_FAILED",
      message: "the token lacks the admin scope",
    });
  const groupUrl = (id: string) => `/console/groups/${encodeURIComponent(id)}`;

  const groupsPage = async (c: C) => {
    const filters: Filters = {
      state: q(c, "state"),
      type: q(c, "type"),
      prefix: q(c, "prefix"),
      cursor: q(c, "cursor"),
    };
    const now = Date.now();
    const data = await loadGroups(apiOf(c), filters, now);
    if ("status" in data) return failPage(c, data);
    if (c.req.query("fragment") === "live") return c.html(<GroupsTable data={data} />);
    return c.html(
      <GroupsPage data={data} filters={filters} viewer={c.get("viewer")} flash={takeFlash(c)} now={now} />,
    );
  };
  app.get("/", groupsPage);
  app.get("/groups", groupsPage);

  app.get("/groups/:groupId", async (c) => {
    const id = groupIdOf(c);
    if (id === null)
      return badRequest(c, "INVALID_GROUP_ID", "a group id is 1-249 characters of [A-Za-z0-9._-]");
    const now = Date.now();
    const data = await loadGroup(apiOf(c), id);
    if ("status" in data) return failPage(c, data);
    const viewer = c.get("viewer");
    if (c.req.query("fragment") === "live")
      return c.html(<GroupLive data={data} admin={viewer.admin} now={now} />);
    return c.html(<GroupPage data={data} viewer={viewer} flash={takeFlash(c)} now={now} />);
  });

  /** The reset page: its form (topics from the committed offsets), and a preview or a problem when posted. */
  const resetPage = async (
    c: C,
    id: string,
    form: Record<string, unknown>,
    after?: (page: ResetPageProps) => Promise<Response | ResetPageProps>,
  ) => {
    const api = apiOf(c);
    const [described, offsets] = await Promise.all([
      api.get<{ members: unknown[] }>(groupPath(id)),
      api.get<{ offsets: { topic: string }[] }>(groupPath(id, "/offsets")),
    ]);
    if (!described.ok) return failPage(c, described.error);
    if (!offsets.ok) return failPage(c, offsets.error);
    let props: ResetPageProps = {
      groupId: id,
      topics: [...new Set(offsets.value.offsets.map((o) => o.topic))],
      members: described.value.members.length,
      fields: resetFields(form),
      preview: null,
      problem: null,
      status: 200,
    };
    if (after) {
      const next = await after(props);
      if (next instanceof Response) return next;
      props = next;
    }
    const { status, ...page } = props;
    return c.html(<ResetPage {...page} viewer={c.get("viewer")} flash={takeFlash(c)} />, status as 200);
  };

  app.get("/groups/:groupId/reset", (c) => {
    const id = groupIdOf(c);
    if (id === null)
      return badRequest(c, "INVALID_GROUP_ID", "a group id is 1-249 characters of [A-Za-z0-9._-]");
    if (!c.get("viewer").admin) return adminOnly(c);
    return resetPage(c, id, {});
  });

  app.post("/groups/:groupId/reset", async (c) => {
    const id = groupIdOf(c);
    if (id === null)
      return badRequest(c, "INVALID_GROUP_ID", "a group id is 1-249 characters of [A-Za-z0-9._-]");
    if (!c.get("viewer").admin) return adminOnly(c);
    const form = await c.req.parseBody();
    const apply = form.action === "apply";
    return resetPage(c, id, form, async (page) => {
      const body = resetBody(page.fields);
      if (typeof body === "string") return { ...page, problem: body, status: 400 };
      const result = await apiOf(c).call<ResetResult>("POST", groupPath(id, "/offsets/reset"), {
        ...body,
        dryRun: !apply,
      });
      if (!result.ok) {
        if (result.error.status === 403 || result.error.status === 401) return failPage(c, result.error);
        return {
          ...page,
          problem: `${result.error.code}: ${result.error.message}`,
          status: result.error.status < 500 ? result.error.status : 503,
        };
      }
      if (!apply) return { ...page, preview: result.value };
      setFlash(c, { ok: true, message: resetDoneMessage(result.value), testid: "reset-done" });
      return c.redirect(groupUrl(id), 303);
    });
  });

  app.post("/groups/:groupId/delete", async (c) => {
    const id = groupIdOf(c);
    if (id === null)
      return badRequest(c, "INVALID_GROUP_ID", "a group id is 1-249 characters of [A-Za-z0-9._-]");
    const viewer = c.get("viewer");
    if (!viewer.admin) return adminOnly(c);
    const form = await c.req.parseBody();
    const api = apiOf(c);
    if (form.confirm !== "yes") {
      const described = await api.get<{ members: unknown[]; type: string }>(groupPath(id));
      if (!described.ok) return failPage(c, described.error);
      return c.html(
        <ConfirmPage
          title={`Delete group ${id}?`}
          action={`${groupUrl(id)}/delete`}
          fields={{}}
          button="Delete the group and its offsets"
          testid="delete-confirm"
          cancel={groupUrl(id)}
          viewer={viewer}
        >
          <p>
            This removes the {described.value.type} group <strong class="mono">{id}</strong> and every
            committed offset it has. It cannot be undone; consumers that join it later start from their reset
            policy.
          </p>
        </ConfirmPage>,
      );
    }
    const deleted = await api.call("DELETE", groupPath(id));
    if (!deleted.ok) {
      if (deleted.error.status !== 409) return failPage(c, deleted.error);
      setFlash(c, {
        ok: false,
        message: `the group was not deleted: ${deleted.error.message} (${deleted.error.code})`,
      });
      return c.redirect(groupUrl(id), 303);
    }
    setFlash(c, { ok: true, message: `group ${id} was deleted.`, testid: "delete-done" });
    return c.redirect("/console/groups", 303);
  });

  app.post("/groups/:groupId/redrive", async (c) => {
    const id = groupIdOf(c);
    if (id === null)
      return badRequest(c, "INVALID_GROUP_ID", "a group id is 1-249 characters of [A-Za-z0-9._-]");
    const viewer = c.get("viewer");
    if (!viewer.admin) return adminOnly(c);
    const form = await c.req.parseBody();
    const fields: Record<string, string> = {};
    for (const name of ["topic", "partition", "firstOffset", "lastOffset"]) {
      const v = form[name];
      if (typeof v === "string" && v !== "") fields[name] = v.slice(0, 300);
    }
    const numeric = ["partition", "firstOffset", "lastOffset"].every(
      (n) => fields[n] === undefined || /^\d{1,16}$/.test(fields[n]!),
    );
    if (!fields.topic || !numeric)
      return badRequest(
        c,
        "INVALID_REQUEST",
        "redrive needs a topic, and whole numbers for partition and offsets",
      );
    const what = `${fields.topic}${fields.partition !== undefined ? `-${fields.partition}` : ""}${fields.firstOffset !== undefined ? ` offsets ${fields.firstOffset}–${fields.lastOffset ?? "end"}` : ""}`;
    if (form.confirm !== "yes") {
      return c.html(
        <ConfirmPage
          title={`Redrive ${what}?`}
          action={`${groupUrl(id)}/redrive`}
          fields={fields}
          button="Redrive"
          testid="redrive-confirm"
          cancel={groupUrl(id)}
          viewer={viewer}
        >
          <p>
            The archived offsets of <strong>{what}</strong> become available again with delivery count 0, and
            the group's consumers will be handed them again.
          </p>
        </ConfirmPage>,
      );
    }
    const body = Object.fromEntries(
      Object.entries(fields).map(([k, v]) => [k, k === "topic" ? v : Number(v)]),
    );
    const result = await apiOf(c).call<{ redriven: number }>(
      "POST",
      groupPath(id, "/share/archived/redrive"),
      body,
    );
    if (!result.ok) {
      if (result.error.status !== 409) return failPage(c, result.error);
      setFlash(c, {
        ok: false,
        message: `nothing was redriven: ${result.error.message} (${result.error.code})`,
      });
    } else {
      setFlash(c, {
        ok: true,
        message: `${result.value.redriven} offsets of ${what} redriven.`,
        testid: "redrive-done",
      });
    }
    return c.redirect(groupUrl(id), 303);
  });

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

type ResetPageProps = {
  groupId: string;
  topics: string[];
  members: number;
  fields: ReturnType<typeof resetFields>;
  preview: ResetResult | null;
  problem: string | null;
  status: number;
};
