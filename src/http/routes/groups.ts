/**
 * Group admin routes (API.md §6): list (the directory's shards, paged, filtered in their SQL and by the
 * token: src/directory/listing.ts), describe, lag, delete.
 */

import { createRoute, z } from "@hono/zod-openapi";
import { GroupList, GroupParams, LagResponse, ListGroupsQuery, MAX_LIST_LIMIT } from "../../api/schemas.ts";
import { DescribeResponse } from "../../api/share-schemas.ts";
import { ok } from "../../core/errors.ts";
import { listGroups } from "../../directory/listing.ts";
import { actorOf, authorize } from "../auth.ts";
import { errorsOf, jsonOk, newApp } from "../openapi.ts";
import { send } from "../respond.ts";
import { groupStub } from "./stubs.ts";

const tags = ["groups"];

export const groupRoutes = newApp()
  .openapi(
    createRoute({
      method: "get",
      path: "/groups",
      tags,
      summary: "List the groups the token may describe",
      middleware: [authorize("describe")] as const,
      request: { query: ListGroupsQuery },
      responses: {
        ...jsonOk(GroupList, "A page of groups, by id; nextCursor continues after it"),
        ...errorsOf(400),
      },
    }),
    async (c) => {
      const { state, type, prefix, limit, cursor } = c.req.valid("query");
      const page = await listGroups(c.env, c.get("grant"), {
        states: state,
        types: type,
        prefix,
        limit: limit ?? MAX_LIST_LIMIT,
        after: cursor ?? null,
      });
      return send(c, ok(page));
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/groups/{groupId}",
      tags,
      summary: "Describe a group: state, protocol, members and their assignments",
      middleware: [authorize("describe")] as const,
      request: { params: GroupParams },
      responses: { ...jsonOk(DescribeResponse, "The group"), ...errorsOf(400, 404) },
    }),
    async (c) => {
      const { groupId } = c.req.valid("param");
      return send(c, await groupStub(c.env, groupId).describe(groupId));
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/groups/{groupId}/lag",
      tags,
      summary: "Lag per partition from the reported log end offsets",
      middleware: [authorize("describe")] as const,
      request: { params: GroupParams },
      responses: { ...jsonOk(LagResponse, "Lag per partition and in total"), ...errorsOf(400, 404) },
    }),
    async (c) => {
      const { groupId } = c.req.valid("param");
      return send(c, await groupStub(c.env, groupId).lag(groupId));
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/groups/{groupId}",
      tags,
      summary: "Delete a group without members, with its offsets",
      middleware: [authorize("admin")] as const,
      request: { params: GroupParams },
      responses: { ...jsonOk(z.object({ deleted: z.literal(true) }), "Deleted"), ...errorsOf(400, 404, 409) },
    }),
    async (c) => {
      const { groupId } = c.req.valid("param");
      return send(c, await groupStub(c.env, groupId).deleteGroup(groupId, actorOf(c)));
    },
  );
