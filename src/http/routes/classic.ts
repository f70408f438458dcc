/**
 * Classic protocol routes (API.md §4): JoinGroup, SyncGroup, Heartbeat, LeaveGroup. Join and sync are
 * long polls: the group's Durable Object holds the call until the join or sync phase completes.
 */

import type { z } from "@hono/zod-openapi";
import {
  Empty,
  HeartbeatBody,
  JoinBody,
  JoinResponse,
  LeaveBody,
  LeaveResponse,
  SyncBody,
  SyncResponse,
} from "../../api/classic-schemas.ts";
import { groupPost, newApp } from "../openapi.ts";
import { send } from "../respond.ts";
import { groupStub } from "./stubs.ts";

const tags = ["classic"];

/** Every classic route is a POST of a JSON body under the group, in the consume scope. */
const classicRoute = <B extends z.ZodType, R extends z.ZodType>(
  path: string,
  summary: string,
  body: B,
  response: R,
  ok: string,
) =>
  groupPost({
    path: `classic/${path}`,
    tags,
    scope: "consume",
    summary,
    body,
    response,
    ok,
    errors: [400, 409, 413],
  });

export const classicRoutes = newApp()
  .openapi(
    classicRoute(
      "join",
      "JoinGroup: held open until the join phase completes",
      JoinBody,
      JoinResponse,
      "The new generation",
    ),
    async (c) => {
      const { groupId } = c.req.valid("param");
      const body = c.req.valid("json");
      const req = {
        ...body,
        rebalanceTimeoutMs: body.rebalanceTimeoutMs ?? body.sessionTimeoutMs,
        clientHost: c.req.header("cf-connecting-ip") ?? "",
      };
      return send(c, await groupStub(c.env, groupId).classicJoin(groupId, req));
    },
  )
  .openapi(
    classicRoute(
      "sync",
      "SyncGroup: held open until the leader's assignments arrive",
      SyncBody,
      SyncResponse,
      "The member's assignment",
    ),
    async (c) => {
      const { groupId } = c.req.valid("param");
      return send(c, await groupStub(c.env, groupId).classicSync(groupId, c.req.valid("json")));
    },
  )
  .openapi(
    classicRoute(
      "heartbeat",
      "Heartbeat of a classic member",
      HeartbeatBody,
      Empty,
      "Alive; no rebalance in progress",
    ),
    async (c) => {
      const { groupId } = c.req.valid("param");
      return send(c, await groupStub(c.env, groupId).classicHeartbeat(groupId, c.req.valid("json")));
    },
  )
  .openapi(
    classicRoute(
      "leave",
      "LeaveGroup: remove members by member id or instance id",
      LeaveBody,
      LeaveResponse,
      "`{}` when every listed member left; otherwise `members` lists those that could not, with their errors",
    ),
    async (c) => {
      const { groupId } = c.req.valid("param");
      return send(c, await groupStub(c.env, groupId).classicLeave(groupId, c.req.valid("json")));
    },
  );
