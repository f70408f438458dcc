/**
 * The watch WebSocket's messages (API.md §5): heartbeats in, heartbeat responses, errors (the API.md §1
 * body) and assignment pushes out. Validated with the same schemas as the HTTP heartbeat.
 */

import { HeartbeatMessage } from "../api/consumer-schemas.ts";
import type { AssignmentNotice } from "../core/consumer/consumer-group.ts";
import type { HeartbeatRequest, HeartbeatResponse } from "../core/consumer/consumer-heartbeat.ts";
import { errorBody, fail, ok, type Result } from "../core/errors.ts";

/** What the Durable Object keeps on each accepted socket (survives hibernation). */
export interface WatchAttachment {
  groupId: string;
  memberId: string;
  clientHost: string;
}

/** The group id and member id of a watch URL, as the Worker forwards the upgrade request. */
export function parseWatchPath(url: string): { groupId: string; memberId: string } | null {
  const match = new URL(url).pathname.match(/^\/v1\/groups\/([^/]+)\/members\/([^/]+)\/watch$/);
  if (!match) return null;
  return { groupId: decodeURIComponent(match[1]!), memberId: decodeURIComponent(match[2]!) };
}

/** A heartbeat message for the socket's member; the member id defaults to the socket's own. */
export function parseHeartbeatMessage(
  raw: string | ArrayBuffer,
  socket: WatchAttachment,
): Result<HeartbeatRequest> {
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === "string" ? raw : new TextDecoder().decode(raw));
  } catch {
    return fail("INVALID_REQUEST", "the message is not JSON");
  }
  const parsed = HeartbeatMessage.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      path: i.path.map(String).join("."),
      message: i.message,
    }));
    return fail(
      "INVALID_REQUEST",
      `invalid message: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`,
      { issues },
    );
  }
  const { type: _type, ...body } = parsed.data;
  if (body.memberId && body.memberId !== socket.memberId) {
    return fail("INVALID_REQUEST", `this socket watches member ${socket.memberId}, not ${body.memberId}`);
  }
  return ok({ ...body, memberId: socket.memberId, clientHost: socket.clientHost });
}

export const heartbeatReply = (result: Result<HeartbeatResponse>): string =>
  JSON.stringify(result.ok ? { type: "heartbeat", ...result.value } : errorBody(result.error));

export const assignmentPush = (n: AssignmentNotice): string =>
  JSON.stringify({
    type: "assignment",
    memberEpoch: n.memberEpoch,
    assignment: { partitions: n.assignment },
    ...(n.reconcile ? { reconcile: true } : {}),
  });
