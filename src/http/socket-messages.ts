/**
 * The watch WebSocket's messages (API.md §5): heartbeats in; heartbeat responses, errors (the API.md §1
 * body with `"type": "error"`), assignment pushes and the `fenced` notice out. Validated with the same
 * schemas as the HTTP heartbeat: a hostile message gets an error reply, never an exception.
 */

import { HeartbeatMessage } from "../api/consumer-schemas.ts";
import type { AssignmentNotice, MemberRemoval } from "../core/consumer/consumer-group.ts";
import type { HeartbeatRequest, HeartbeatResponse } from "../core/consumer/consumer-heartbeat.ts";
import { type CohortError, errorBody, fail, ok, type Result } from "../core/errors.ts";

/** What the Durable Object keeps on each accepted socket (survives hibernation). */
export interface WatchAttachment {
  groupId: string;
  memberId: string;
  clientHost: string;
  /** The token's expiry (ms since the epoch): the socket may not act from then on. Null: never. */
  expiresAt: number | null;
  /** When the socket was accepted: the oldest of a member's sockets is the one a newer one replaces. */
  openedAt: number;
  /** Set when the object closed the socket, which the runtime may still list for a moment. */
  closed?: true;
}

/** Close codes of the watch socket (API.md §5 fixes 4000 and 4001). */
export const CLOSE_FENCED = 4000;
export const CLOSE_UNAUTHENTICATED = 4001;
export const CLOSE_REPLACED = 4002;

/** The Worker tells the object the token's expiry and the subprotocol to answer in these headers. */
export const EXPIRES_HEADER = "x-cohort-token-expires-at";
export const PROTOCOL_HEADER = "x-cohort-subprotocol";

/** The group id and member id of a watch URL, as the Worker forwards the upgrade request. */
export function parseWatchPath(url: string): { groupId: string; memberId: string } | null {
  const match = new URL(url).pathname.match(/^\/v1\/groups\/([^/]+)\/members\/([^/]+)\/watch$/);
  if (!match) return null;
  try {
    return { groupId: decodeURIComponent(match[1]!), memberId: decodeURIComponent(match[2]!) };
  } catch {
    return null; // Not percent-encoded UTF-8: the Worker forwards only paths it encoded itself.
  }
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

export const errorReply = (error: CohortError): string =>
  JSON.stringify({ type: "error", ...errorBody(error) });

export const heartbeatReply = (result: Result<HeartbeatResponse>): string =>
  result.ok ? JSON.stringify({ type: "heartbeat", ...result.value }) : errorReply(result.error);

export const expiredReply = (): string =>
  errorReply({
    code: "UNAUTHENTICATED",
    message: "the token of this socket has expired: open a new watch with a fresh token",
  });

export const fencedNotice = (r: MemberRemoval): string =>
  JSON.stringify({ type: "fenced", code: r.code, message: r.message });

export const assignmentPush = (n: AssignmentNotice): string =>
  JSON.stringify({
    type: "assignment",
    memberEpoch: n.memberEpoch,
    assignment: { partitions: n.assignment },
    ...(n.reconcile ? { reconcile: true } : {}),
  });
