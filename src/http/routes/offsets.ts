/**
 * Offset routes (API.md §3): commit, fetch, fetch one, delete, admin reset. Validation here; every
 * decision in the group's Durable Object.
 */

import { createRoute, z } from "@hono/zod-openapi";
import {
  CommitBody,
  CommitResponse,
  FetchResponse,
  GroupParams,
  OffsetView,
  Partition,
  PartitionParam,
  ResetBody,
  ResetResponse,
  repeated,
  Topic,
} from "../../api/schemas.ts";
import { actorOf, authorize } from "../auth.ts";
import { errorsOf, jsonBody, jsonOk, newApp } from "../openapi.ts";
import { send } from "../respond.ts";
import { groupStub } from "./stubs.ts";

const tags = ["offsets"];

export const offsetRoutes = newApp()
  .openapi(
    createRoute({
      method: "post",
      path: "/groups/{groupId}/offsets",
      tags,
      summary: "OffsetCommit: store offsets atomically",
      middleware: [authorize("consume")] as const,
      request: { params: GroupParams, ...jsonBody(CommitBody) },
      responses: { ...jsonOk(CommitResponse, "Every entry was stored"), ...errorsOf(400, 409, 413) },
    }),
    async (c) => {
      const { groupId } = c.req.valid("param");
      return send(c, await groupStub(c.env, groupId).commitOffsets(groupId, c.req.valid("json")));
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/groups/{groupId}/offsets",
      tags,
      summary: "OffsetFetch: committed offsets, sorted by topic then partition",
      middleware: [authorize("consume", "describe")] as const,
      request: { params: GroupParams, query: z.object({ topic: repeated(Topic) }) },
      responses: {
        ...jsonOk(FetchResponse, "Committed offsets (empty for an unknown group)"),
        ...errorsOf(400),
      },
    }),
    async (c) => {
      const { groupId } = c.req.valid("param");
      return send(
        c,
        await groupStub(c.env, groupId).fetchOffsets(groupId, c.req.valid("query").topic ?? null),
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/groups/{groupId}/offsets/{topic}/{partition}",
      tags,
      summary: "The committed offset of one partition (offset -1 when none)",
      middleware: [authorize("consume", "describe")] as const,
      request: { params: GroupParams.extend({ topic: Topic, partition: PartitionParam }) },
      responses: { ...jsonOk(OffsetView, "The partition's committed offset"), ...errorsOf(400) },
    }),
    async (c) => {
      const { groupId, topic, partition } = c.req.valid("param");
      return send(c, await groupStub(c.env, groupId).fetchOffset(groupId, topic, partition));
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/groups/{groupId}/offsets/{topic}",
      tags,
      summary: "OffsetDelete: remove a topic's offsets (some partitions, or all)",
      middleware: [authorize("admin")] as const,
      request: {
        params: GroupParams.extend({ topic: Topic }),
        query: z.object({
          partition: repeated(
            z
              .string()
              .regex(/^\d{1,10}$/)
              .transform(Number)
              .pipe(Partition),
          ),
        }),
      },
      responses: {
        ...jsonOk(z.object({ deleted: z.number().int() }), "Offsets deleted"),
        ...errorsOf(400, 404, 409),
      },
    }),
    async (c) => {
      const { groupId, topic } = c.req.valid("param");
      const partitions = c.req.valid("query").partition ?? null;
      return send(c, await groupStub(c.env, groupId).deleteOffsets(groupId, topic, partitions, actorOf(c)));
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/groups/{groupId}/offsets/reset",
      tags,
      summary: "Reset offsets of a group without members (kafka-consumer-groups --reset-offsets)",
      middleware: [authorize("admin")] as const,
      request: { params: GroupParams, ...jsonBody(ResetBody) },
      responses: { ...jsonOk(ResetResponse, "The offsets before and after"), ...errorsOf(400, 409, 413) },
    }),
    async (c) => {
      const { groupId } = c.req.valid("param");
      return send(c, await groupStub(c.env, groupId).resetOffsets(groupId, c.req.valid("json"), actorOf(c)));
    },
  );
