/**
 * The history routes (API.md §8): a group's events, paged by seq, and its lag samples. Scope
 * `describe`; 404 GROUP_ID_NOT_FOUND when there is neither a group nor any history (a deleted or
 * expired group's history is readable for OFFSETS_RETENTION_MS, while describe says 404).
 */

import { createRoute } from "@hono/zod-openapi";
import {
  EventsQuery,
  EventsResponse,
  LagHistoryQuery,
  LagHistoryResponse,
} from "../../api/history-schemas.ts";
import { GroupParams } from "../../api/schemas.ts";
import { authorize } from "../auth.ts";
import { errorsOf, jsonOk, newApp } from "../openapi.ts";
import { send } from "../respond.ts";
import { groupStub } from "./stubs.ts";

const tags = ["history"];

export const historyRoutes = newApp()
  .openapi(
    createRoute({
      method: "get",
      path: "/groups/{groupId}/events",
      tags,
      summary:
        "The group's events after a seq (or the newest `last`), oldest first (the last GROUP_HISTORY_MAX_EVENTS kept)",
      middleware: [authorize("describe")] as const,
      request: { params: GroupParams, query: EventsQuery },
      responses: { ...jsonOk(EventsResponse, "A page of events"), ...errorsOf(400, 404) },
    }),
    async (c) => {
      const { groupId } = c.req.valid("param");
      const { after, limit, last } = c.req.valid("query");
      return send(c, await groupStub(c.env, groupId).events(groupId, { after, limit, last }));
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/groups/{groupId}/lag/history",
      tags,
      summary: "The group's total lag, sampled at most once a minute while commits arrive",
      middleware: [authorize("describe")] as const,
      request: { params: GroupParams, query: LagHistoryQuery },
      responses: { ...jsonOk(LagHistoryResponse, "Samples, oldest first"), ...errorsOf(400, 404) },
    }),
    async (c) => {
      const { groupId } = c.req.valid("param");
      const { since } = c.req.valid("query");
      return send(c, await groupStub(c.env, groupId).lagHistory(groupId, since ?? 0));
    },
  );
