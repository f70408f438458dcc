/**
 * How console routes answer: a /v1 refusal as a page with the same status (or a bare status for the
 * refresh script's fragments), the path's group id checked as the API checks it, admin-only form posts,
 * and the post/redirect/get ending of an action.
 */

import type { Context } from "hono";
import { GroupId } from "../api/schemas.ts";
import type { ApiError, ApiResult } from "./api.ts";
import { setFlash } from "./flash.ts";
import { ErrorPage } from "./layout.tsx";
import type { ConsoleEnv } from "./sign-in.tsx";

export type C = Context<ConsoleEnv>;
type Form = Record<string, unknown>;

export const groupUrl = (id: string) => `/console/groups/${encodeURIComponent(id)}`;

/** A /v1 refusal as a page with its status (401: the session ended, so sign in again); only 503 is a 5xx. */
export function failPage(c: C, e: ApiError): Response | Promise<Response> {
  if (e.status === 401) return c.redirect("/console/sign-in?expired=1", 303);
  const status = (e.status >= 400 && e.status < 500 ? e.status : 503) as 400;
  if (new URL(c.req.url).searchParams.get("fragment") !== null) return c.text(e.message, status);
  return c.html(
    <ErrorPage status={status} code={e.code} message={e.message} viewer={c.get("viewer")} />,
    status,
  );
}

export const badRequest = (c: C, code: string, message: string) =>
  failPage(c, { status: 400, code, message });

/** A route on `/groups/:groupId…`: the id checked as API.md §1 says (a 400 page otherwise). */
export const groupRoute =
  (handler: (c: C, id: string) => Response | Promise<Response>) =>
  (c: C): Response | Promise<Response> => {
    const id = c.req.param("groupId") ?? "";
    if (!GroupId.safeParse(id).success) {
      return badRequest(c, "INVALID_GROUP_ID", "a group id is 1-249 characters of [A-Za-z0-9._-]");
    }
    return handler(c, id);
  };

/** An admin page or form post on a group: refused (403) without `admin` before anything is read or sent. */
export const adminRoute = (handler: (c: C, id: string, form: Form) => Promise<Response>) =>
  groupRoute(async (c, id) => {
    if (!c.get("viewer").admin) {
      return failPage(c, {
        status: 403,
        code: "GROUP_AUTHORIZATION_FAILED",
        message: "the token lacks the admin scope",
      });
    }
    return handler(c, id, c.req.method === "POST" ? await c.req.parseBody() : {});
  });

/**
 * The end of an action: done → a flash and a redirect to `done`; a conflict (409: members remain,
 * nothing archived…) → a flash saying why and back to the group; anything else → its error page.
 */
export function afterAction<T>(
  c: C,
  id: string,
  result: ApiResult<T>,
  done: { message: (value: T) => string; testid: string; to: string },
): Response | Promise<Response> {
  if (result.ok) {
    setFlash(c, { ok: true, message: done.message(result.value), testid: done.testid });
    return c.redirect(done.to, 303);
  }
  if (result.error.status !== 409) return failPage(c, result.error);
  setFlash(c, { ok: false, message: `${result.error.message} (${result.error.code})` });
  return c.redirect(groupUrl(id), 303);
}
