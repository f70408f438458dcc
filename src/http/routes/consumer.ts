/**
 * Consumer-protocol routes (API.md §5): the heartbeat, and the watch WebSocket whose upgrade is
 * authorized here and then handed to the group's Durable Object (WebSocket Hibernation API). The object
 * gets a fresh request that carries only what it needs: the token's expiry, which binds the socket, and
 * the subprotocol to answer; never the token itself, nor a client's own copy of those headers.
 */

import { createRoute } from "@hono/zod-openapi";
import { HeartbeatBody, HeartbeatResponse, WatchParams } from "../../api/consumer-schemas.ts";
import { GroupParams } from "../../api/schemas.ts";
import { authorize, offeredProtocols, WATCH_PROTOCOL } from "../auth.ts";
import { errorsOf, jsonBody, jsonOk, newApp } from "../openapi.ts";
import { errorOf, errorResponse, send } from "../respond.ts";
import { EXPIRES_HEADER, PROTOCOL_HEADER } from "../socket-messages.ts";
import { groupStub } from "./stubs.ts";

const tags = ["consumer protocol"];

export const consumerRoutes = newApp()
  .openapi(
    createRoute({
      method: "post",
      path: "/groups/{groupId}/heartbeat",
      tags,
      summary: "ConsumerGroupHeartbeat (KIP-848): join, heartbeat, leave; server-side assignment",
      middleware: [authorize("consume")] as const,
      request: { params: GroupParams, ...jsonBody(HeartbeatBody) },
      responses: {
        ...jsonOk(HeartbeatResponse, "The member's epoch and the partitions it may use now"),
        ...errorsOf(400, 409, 413),
      },
    }),
    async (c) => {
      const { groupId } = c.req.valid("param");
      const clientHost = c.req.header("cf-connecting-ip") ?? "";
      return send(
        c,
        await groupStub(c.env, groupId).consumerHeartbeat(groupId, { ...c.req.valid("json"), clientHost }),
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/groups/{groupId}/members/{memberId}/watch",
      tags,
      summary: "WebSocket: assignment pushes for one member, and heartbeats as messages",
      middleware: [authorize("consume")] as const,
      request: { params: WatchParams },
      responses: {
        101: { description: "Switching to the WebSocket protocol (answering cohort.v1 if offered)" },
        ...errorsOf(400, 409),
      },
    }),
    async (c) => {
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
        return errorResponse(
          c,
          errorOf("INVALID_REQUEST", "this route needs a WebSocket upgrade (Upgrade: websocket)"),
        );
      }
      const { groupId, memberId } = c.req.valid("param");
      // The auth middleware refused a malformed offer already.
      const offer = offeredProtocols(c.req.header("sec-websocket-protocol"));
      const headers = new Headers({ upgrade: "websocket" });
      const ip = c.req.header("cf-connecting-ip");
      if (ip) headers.set("cf-connecting-ip", ip);
      const expiresAt = c.get("grant").expiresAt;
      if (expiresAt !== null) headers.set(EXPIRES_HEADER, String(expiresAt));
      if (typeof offer !== "string" && offer.offered) headers.set(PROTOCOL_HEADER, WATCH_PROTOCOL);
      // The ids as validated here, encoded afresh: the object decodes exactly what the Worker checked.
      const path = `/v1/groups/${encodeURIComponent(groupId)}/members/${encodeURIComponent(memberId)}/watch`;
      return groupStub(c.env, groupId).fetch(new Request(new URL(path, c.req.url), { headers }));
    },
  );
