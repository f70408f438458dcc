/**
 * Share-group routes (API.md §7, KIP-932): heartbeat, acquire (a long poll up to maxWaitMs), acknowledge
 * (scope consume), the archived listing (describe) and its redrive (admin). Validation here; every
 * decision in the group's Durable Object (share-shell.ts).
 */

import { createRoute } from "@hono/zod-openapi";
import { GroupParams } from "../../api/schemas.ts";
import {
  AcknowledgeBody,
  AcknowledgeResponse,
  AcquireBody,
  AcquireResponse,
  ArchivedQuery,
  ArchivedResponse,
  RedriveBody,
  RedriveResponse,
  ShareHeartbeatBody,
  ShareHeartbeatResponse,
} from "../../api/share-schemas.ts";
import { type CohortError, errorBody, ok, type Result } from "../../core/errors.ts";
import type { AcknowledgeResult } from "../../core/share/share-types.ts";
import type { AcquireResponse as AcquireResult } from "../../share-shell.ts";
import { authorize } from "../auth.ts";
import { errorsOf, jsonBody, jsonOk, newApp } from "../openapi.ts";
import { send } from "../respond.ts";
import { groupStub } from "./stubs.ts";

const tags = ["share groups"];

type Acknowledged = { acknowledgements: { error: CohortError | null }[] };
type WireError = { code: string; kafkaCode: number | null; message: string };
type Wire<T extends Acknowledged> = Omit<T, "acknowledgements"> & {
  acknowledgements: (Omit<T["acknowledgements"][number], "error"> & { error: WireError | null })[];
};

/** Acknowledgement results with each entry's error in API.md §1's shape (code, kafkaCode, message). */
function withWireErrors<T extends Acknowledged>(result: Result<T>): Result<Wire<T>> {
  if (!result.ok) return result;
  const acknowledgements = result.value.acknowledgements.map((a) => ({
    ...a,
    error: a.error && (errorBody(a.error).error as WireError),
  }));
  return ok({ ...result.value, acknowledgements } as Wire<T>);
}

export const shareRoutes = newApp()
  .openapi(
    createRoute({
      method: "post",
      path: "/groups/{groupId}/share/heartbeat",
      tags,
      summary: "ShareGroupHeartbeat: join (epoch 0), heartbeat, leave (-1); the simple share assignor",
      middleware: [authorize("consume")] as const,
      request: { params: GroupParams, ...jsonBody(ShareHeartbeatBody) },
      responses: {
        ...jsonOk(ShareHeartbeatResponse, "The member's epoch and the partitions it shares"),
        ...errorsOf(400, 409, 413),
      },
    }),
    async (c) => {
      const { groupId } = c.req.valid("param");
      const clientHost = c.req.header("cf-connecting-ip") ?? "";
      return send(
        c,
        await groupStub(c.env, groupId).shareHeartbeat(groupId, { ...c.req.valid("json"), clientHost }),
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/groups/{groupId}/share/acquire",
      tags,
      summary: "Acknowledge (piggybacked), then acquire available offsets under time-limited locks",
      middleware: [authorize("consume")] as const,
      request: { params: GroupParams, ...jsonBody(AcquireBody) },
      responses: {
        ...jsonOk(
          AcquireResponse,
          "Offset ranges locked to the member, oldest first (empty when the wait ended)",
        ),
        ...errorsOf(400, 409, 413),
      },
    }),
    async (c) => {
      const { groupId } = c.req.valid("param");
      const result = await groupStub(c.env, groupId).shareAcquire(groupId, c.req.valid("json"));
      return send(c, withWireErrors(result as Result<AcquireResult>));
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/groups/{groupId}/share/acknowledge",
      tags,
      summary: "Accept, release, reject or renew acquired offsets; each entry all-or-nothing",
      middleware: [authorize("consume")] as const,
      request: { params: GroupParams, ...jsonBody(AcknowledgeBody) },
      responses: {
        ...jsonOk(AcknowledgeResponse, "Each entry's result: error null, or INVALID_RECORD_STATE"),
        ...errorsOf(400, 409, 413),
      },
    }),
    async (c) => {
      const { groupId } = c.req.valid("param");
      const result = await groupStub(c.env, groupId).shareAcknowledge(groupId, c.req.valid("json"));
      return send(c, withWireErrors(result as Result<{ acknowledgements: AcknowledgeResult[] }>));
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/groups/{groupId}/share/archived",
      tags,
      summary:
        "Archived (dead-lettered) ranges with their reasons, archived in the last OFFSETS_RETENTION_MS",
      middleware: [authorize("describe")] as const,
      request: { params: GroupParams, query: ArchivedQuery },
      responses: { ...jsonOk(ArchivedResponse, "One page of archived ranges"), ...errorsOf(400, 404, 409) },
    }),
    async (c) => {
      const { groupId } = c.req.valid("param");
      return send(c, await groupStub(c.env, groupId).shareArchived(groupId, c.req.valid("query")));
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/groups/{groupId}/share/archived/redrive",
      tags,
      summary: "Make archived offsets available again with delivery count 0 (the dead-letter redrive)",
      middleware: [authorize("admin")] as const,
      request: { params: GroupParams, ...jsonBody(RedriveBody) },
      responses: { ...jsonOk(RedriveResponse, "Offsets made available"), ...errorsOf(400, 404, 409, 413) },
    }),
    async (c) => {
      const { groupId } = c.req.valid("param");
      return send(c, await groupStub(c.env, groupId).shareRedrive(groupId, c.req.valid("json")));
    },
  );
