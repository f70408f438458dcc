/**
 * Group admin routes (API.md §6): list (through the directory, filtered by the token), describe, lag,
 * delete.
 */

import { createRoute, z } from "@hono/zod-openapi";
import { GroupParams, GroupSummary, GroupType, LagResponse, repeated } from "../../api/schemas.ts";
import { DescribeResponse } from "../../api/share-schemas.ts";
import { ok } from "../../core/errors.ts";
import { directory } from "../../directory-object.ts";
import { authorize, mayAccess } from "../auth.ts";
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
      request: { query: z.object({ state: repeated(z.string().max(64)), type: repeated(GroupType) }) },
      responses: {
        ...jsonOk(z.object({ groups: z.array(GroupSummary) }), "Groups, by id"),
        ...errorsOf(400),
      },
    }),
    async (c) => {
      const grant = c.get("grant");
      const { state, type } = c.req.valid("query");
      const groups = await directory(c.env).list({ states: state, types: type });
      return send(c, ok({ groups: groups.filter((g) => mayAccess(grant, g.groupId)) }));
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
      return send(c, await groupStub(c.env, groupId).deleteGroup(groupId));
    },
  );
