/**
 * The console's admin actions, each through its /v1 route with the caller's token (API.md §3, §6, §7):
 * reset offsets (preview with `dryRun: true`, then apply the same values), delete a group and redrive
 * archived offsets, both behind a confirmation page. Offered only to tokens with `admin`.
 */

import type { Hono } from "hono";
import { groupPath, type ResetResult } from "./api.ts";
import { takeFlash } from "./flash.ts";
import { plural } from "./format.ts";
import { ConfirmPage } from "./layout.tsx";
import { ResetPage, type ResetPageProps, resetBody, resetDoneMessage, resetFields } from "./reset-page.tsx";
import { adminRoute, afterAction, badRequest, type C, failPage, groupUrl } from "./responses.tsx";
import type { ConsoleEnv } from "./sign-in.tsx";

const REDRIVE_NUMBERS = ["partition", "firstOffset", "lastOffset"];

/** The reset page: its form (topics from the committed offsets) with a preview or a problem when posted. */
async function resetPage(
  c: C,
  id: string,
  form: Record<string, unknown>,
  outcome: (page: ResetPageProps) => Promise<Response | ResetPageProps> = async (page) => page,
): Promise<Response> {
  const api = c.get("api");
  const [described, offsets] = await Promise.all([
    api.get<{ members: unknown[] }>(groupPath(id)),
    api.get<{ offsets: { topic: string }[] }>(groupPath(id, "/offsets")),
  ]);
  if (!described.ok) return failPage(c, described.error);
  if (!offsets.ok) return failPage(c, offsets.error);
  const page = await outcome({
    groupId: id,
    topics: [...new Set(offsets.value.offsets.map((o) => o.topic))],
    members: described.value.members.length,
    fields: resetFields(form),
    preview: null,
    problem: null,
    status: 200,
  });
  if (page instanceof Response) return page;
  const { status, ...props } = page;
  return c.html(<ResetPage {...props} viewer={c.get("viewer")} flash={takeFlash(c)} />, status as 200);
}

export function adminRoutes(app: Hono<ConsoleEnv>): void {
  app.get(
    "/groups/:groupId/reset",
    adminRoute((c, id) => resetPage(c, id, {})),
  );

  app.post(
    "/groups/:groupId/reset",
    adminRoute((c, id, form) => {
      const apply = form.action === "apply";
      return resetPage(c, id, form, async (page) => {
        const body = resetBody(page.fields);
        if (typeof body === "string") return { ...page, problem: body, status: 400 };
        const result = await c
          .get("api")
          .call<ResetResult>("POST", groupPath(id, "/offsets/reset"), { ...body, dryRun: !apply });
        if (!result.ok) {
          const { status, code, message } = result.error;
          if (status === 401 || status === 403) return failPage(c, result.error);
          return { ...page, problem: `${code}: ${message}`, status: status < 500 ? status : 503 };
        }
        if (!apply) return { ...page, preview: result.value };
        return afterAction(c, id, result, {
          message: resetDoneMessage,
          testid: "reset-done",
          to: groupUrl(id),
        });
      });
    }),
  );

  app.post(
    "/groups/:groupId/delete",
    adminRoute(async (c, id, form) => {
      const api = c.get("api");
      if (form.confirm !== "yes") {
        const described = await api.get<{ type: string }>(groupPath(id));
        if (!described.ok) return failPage(c, described.error);
        return c.html(
          <ConfirmPage
            title={`Delete group ${id}?`}
            action={`${groupUrl(id)}/delete`}
            fields={{}}
            button="Delete the group and its offsets"
            testid="delete-confirm"
            cancel={groupUrl(id)}
            viewer={c.get("viewer")}
          >
            <p>
              This removes the {described.value.type} group <strong class="mono">{id}</strong> and every
              committed offset it has. It cannot be undone; consumers that join it later start from their
              reset policy.
            </p>
          </ConfirmPage>,
        );
      }
      return afterAction(c, id, await api.call("DELETE", groupPath(id)), {
        message: () => `group ${id} was deleted.`,
        testid: "delete-done",
        to: "/console/groups",
      });
    }),
  );

  app.post(
    "/groups/:groupId/redrive",
    adminRoute(async (c, id, form) => {
      const fields: Record<string, string> = {};
      for (const name of ["topic", ...REDRIVE_NUMBERS]) {
        const v = form[name];
        if (typeof v === "string" && v !== "") fields[name] = v.slice(0, 300);
      }
      const numeric = REDRIVE_NUMBERS.every((n) => fields[n] === undefined || /^\d{1,16}$/.test(fields[n]!));
      if (!fields.topic || !numeric) {
        return badRequest(
          c,
          "INVALID_REQUEST",
          "redrive needs a topic, and whole numbers for partition and offsets",
        );
      }
      const partition = fields.partition !== undefined ? `-${fields.partition}` : "";
      const range =
        fields.firstOffset !== undefined
          ? ` offsets ${fields.firstOffset}–${fields.lastOffset ?? "end"}`
          : "";
      const what = `${fields.topic}${partition}${range}`;
      if (form.confirm !== "yes") {
        // Offered only for a share group the token may see, as the group page would offer it.
        const described = await c.get("api").get<{ type: string }>(groupPath(id));
        if (!described.ok) return failPage(c, described.error);
        if (described.value.type !== "share") {
          const message = `${id} is a ${described.value.type} group: only share groups have archived records`;
          return failPage(c, { status: 409, code: "INCONSISTENT_GROUP_PROTOCOL", message });
        }
        return c.html(
          <ConfirmPage
            title={`Redrive ${what}?`}
            action={`${groupUrl(id)}/redrive`}
            fields={fields}
            button="Redrive"
            testid="redrive-confirm"
            cancel={groupUrl(id)}
            viewer={c.get("viewer")}
          >
            <p>
              The archived offsets of <strong>{what}</strong> become available again with delivery count 0,
              and the group's consumers will be handed them again.
            </p>
          </ConfirmPage>,
        );
      }
      const body = Object.fromEntries(
        Object.entries(fields).map(([k, v]) => [k, k === "topic" ? v : Number(v)]),
      );
      const result = await c
        .get("api")
        .call<{ redriven: number }>("POST", groupPath(id, "/share/archived/redrive"), body);
      return afterAction(c, id, result, {
        message: (r) => `${plural(r.redriven, "offset")} of ${what} redriven.`,
        testid: "redrive-done",
        to: groupUrl(id),
      });
    }),
  );
}
