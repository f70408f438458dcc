/**
 * Share-group routes (API.md §7, KIP-932): heartbeat, acquire (a long poll up to maxWaitMs), acknowledge
 * (scope consume), the archived listing (describe) and its redrive (admin). Validation here; every
 * decision in the group's Durable Object (share-shell.ts).
 */

import { createRoute, type z } from "@hono/zod-openapi";
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
import { actorOf, authorize, type Scope } from "../auth.ts";
import { errorsOf, groupPost, jsonOk, newApp } from "../openapi.ts";
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

/** A share route that POSTs a JSON body under the group, in one scope. */
const shareRoute = <B extends z.ZodType, R extends z.ZodType>(
  path: string,
  scope: Scope,
  summary: string,
  body: B,
  response: R,
  ok: string,
) =>
  groupPost({
    path: `share/${path}`,
    tags,
    scope,
    summary,
    body,
    response,
    ok,
    errors: [400, 404, 409, 413],
  });

export const shareRoutes = newApp()
  .openapi(
    shareRoute(
      "heartbeat",
      "consume",
      "ShareGroupHeartbeat: join (epoch 0), heartbeat, leave (-1); the simple share assignor",
      ShareHeartbeatBody,
      ShareHeartbeatResponse,
      "The member's epoch and the partitions it shares",
    ),
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
    shareRoute(
      "acquire",
      "consume",
      "Acknowledge (piggybacked), then acquire available offsets under time-limited locks",
      AcquireBody,
      AcquireResponse,
      "Offset ranges locked to the member, oldest first (empty when the wait ended)",
    ),
    async (c) => {
      const { groupId } = c.req.valid("param");
      const result = await groupStub(c.env, groupId).shareAcquire(groupId, c.req.valid("json"));
      return send(c, withWireErrors(result as Result<AcquireResult>));
    },
  )
  .openapi(
    shareRoute(
      "acknowledge",
      "consume",
      "Accept, release, reject or renew acquired offsets; each entry all-or-nothing",
      AcknowledgeBody,
      AcknowledgeResponse,
      "Each entry's result: error null, or INVALID_RECORD_STATE",
    ),
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
    shareRoute(
      "archived/redrive",
      "admin",
      "Make archived offsets available again with delivery count 0 (the dead-letter redrive)",
      RedriveBody,
      RedriveResponse,
      "Offsets made available",
    ),
    async (c) => {
      const { groupId } = c.req.valid("param");
      return send(c, await groupStub(c.env, groupId).shareRedrive(groupId, c.req.valid("json"), actorOf(c)));
    },
  );
