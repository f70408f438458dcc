/**
 * Building blocks for routes: an OpenAPIHono app whose validation failures become API.md §1 errors,
 * and helpers that keep each route's OpenAPI description short.
 */

import { createRoute, OpenAPIHono, type z } from "@hono/zod-openapi";
import { ErrorResponse, GroupParams } from "../api/schemas.ts";
import { type AppEnv, authorize, type Scope } from "./auth.ts";
import { errorOf, errorResponse } from "./respond.ts";

/** A Hono app (or sub-app) whose zod validation failures answer 400 with the problems listed. */
export function newApp(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const issues = result.error.issues.map((i) => ({
        path: i.path.map(String).join("."),
        message: i.message,
      }));
      const badGroup = result.target === "param" && issues.some((i) => i.path === "groupId");
      const summary = issues
        .slice(0, 5)
        .map((i) => `${i.path || "(root)"}: ${i.message}`)
        .join("; ");
      return errorResponse(
        c,
        errorOf(badGroup ? "INVALID_GROUP_ID" : "INVALID_REQUEST", `invalid ${result.target}: ${summary}`, {
          issues,
        }),
      );
    },
  });
}

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});

export const jsonOk = <T extends z.ZodType>(schema: T, description: string) => ({
  200: { content: { "application/json": { schema } }, description },
});

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid request (INVALID_REQUEST, INVALID_GROUP_ID, …)",
  401: "UNAUTHENTICATED",
  403: "GROUP_AUTHORIZATION_FAILED",
  404: "GROUP_ID_NOT_FOUND",
  409: "A Kafka protocol error (see error.code)",
  413: "PAYLOAD_TOO_LARGE",
  503: "COORDINATOR_NOT_AVAILABLE or COORDINATOR_LOAD_IN_PROGRESS (with Retry-After)",
};

/** A POST of a JSON body to `/groups/{groupId}/<path>`, in one scope (the protocol routes). */
export const groupPost = <B extends z.ZodType, R extends z.ZodType>(route: {
  path: string;
  tags: string[];
  scope: Scope;
  summary: string;
  body: B;
  response: R;
  ok: string;
  errors: number[];
}) =>
  createRoute({
    method: "post",
    path: `/groups/{groupId}/${route.path}`,
    tags: route.tags,
    summary: route.summary,
    middleware: [authorize(route.scope)] as const,
    request: { params: GroupParams, ...jsonBody(route.body) },
    responses: { ...jsonOk(route.response, route.ok), ...errorsOf(...route.errors) },
  });

/** The error responses a route documents, by status. */
export const errorsOf = (...statuses: number[]) =>
  Object.fromEntries(
    [401, 403, 503, ...statuses].map((s) => [
      s,
      {
        content: { "application/json": { schema: ErrorResponse } },
        description: ERROR_DESCRIPTIONS[s] ?? "Error",
      },
    ]),
  );
