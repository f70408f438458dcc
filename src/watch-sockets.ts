/**
 * The group object's watch sockets (API.md §5) on the WebSocket Hibernation API: the upgrade with its
 * caps, the token's expiry bound to each socket, assignment pushes, and the `fenced` notice with close
 * 4000 for members the core reports removed. The socket rules are in the README's consumer protocol.
 *
 * Expiry costs nothing on the hot path: a message or a push checks the socket's own `expiresAt`, and
 * silent expired sockets are swept when the object next accepts a socket or its alarm runs (the
 * object never wakes, nor arms its one alarm, only for that). The earliest expiry is remembered so a
 * sweep lists the sockets only when one is due (and once after a wake, when memory was lost).
 */

import type { Config } from "./core/config.ts";
import { ConsumerGroup } from "./core/consumer/consumer-group.ts";
import { toList } from "./core/consumer/partitions.ts";
import { type CohortError, ERRORS, errorBody } from "./core/errors.ts";
import type { Group } from "./core/group.ts";
import {
  assignmentPush,
  CLOSE_FENCED,
  CLOSE_REPLACED,
  CLOSE_UNAUTHENTICATED,
  EXPIRES_HEADER,
  expiredReply,
  fencedNotice,
  PROTOCOL_HEADER,
  parseWatchPath,
  type WatchAttachment,
} from "./http/socket-messages.ts";

/** A member's sockets at once: a reconnect may overlap the old socket; a fifth replaces the oldest. */
export const SOCKETS_PER_MEMBER = 4;
/** The runtime's bound on hibernatable sockets per object. */
const RUNTIME_SOCKET_LIMIT = 32_768;

/** Sockets per object: each member's one socket plus room for reconnects, under the runtime's bound. */
export const socketsPerObject = (config: Config): number =>
  Math.min(2 * config.groupMaxSize, RUNTIME_SOCKET_LIMIT);

const refuse = (error: CohortError): Response =>
  Response.json(errorBody(error), { status: ERRORS[error.code].status });

const attachmentOf = (ws: WebSocket) => ws.deserializeAttachment() as WatchAttachment;

export const isExpired = (socket: WatchAttachment, now: number): boolean =>
  socket.expiresAt !== null && now >= socket.expiresAt;

export class WatchSockets {
  /** The earliest `expiresAt` among open sockets; null: none expires; undefined: unknown (after a wake). */
  private earliestExpiry: number | null | undefined = undefined;
  /** Open sockets, counted once after a wake and then kept; null: to be counted. */
  private count: number | null = null;

  private readonly ctx: DurableObjectState;

  constructor(ctx: DurableObjectState) {
    this.ctx = ctx;
  }

  /** The watch upgrade, forwarded by the Worker once it authorized the caller. */
  accept(request: Request, group: Group | null, config: Config | null): Response {
    const target = parseWatchPath(request.url);
    if (!target || request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return refuse({ code: "NOT_FOUND", message: "only the watch WebSocket is served here" });
    }
    if (!config) return refuse({ code: "COORDINATOR_NOT_AVAILABLE", message: "invalid configuration" });
    const now = Date.now();
    const expiresAt = Number(request.headers.get(EXPIRES_HEADER) ?? Number.NaN);
    // The Worker sets the header after verifying the token; without it, fail closed.
    if (config.authMode === "jwt" && !(Number.isFinite(expiresAt) && expiresAt > now)) {
      return refuse({ code: "UNAUTHENTICATED", message: "the watch upgrade carries no valid token" });
    }
    // A share group's offsets are its own protocol's: refused even without members.
    if (group && !(group instanceof ConsumerGroup) && (group.memberCount > 0 || group.type === "share")) {
      return refuse({
        code: "INCONSISTENT_GROUP_PROTOCOL",
        message: `group ${target.groupId} is a ${group.type} group: the watch is for consumer-protocol members`,
      });
    }
    const member = group instanceof ConsumerGroup ? group.members.get(target.memberId) : undefined;
    if (!member) {
      return refuse({
        code: "UNKNOWN_MEMBER_ID",
        message: `member ${target.memberId} is not in consumer group ${target.groupId}: join (memberEpoch 0) before watching`,
      });
    }
    this.closeExpired(now);
    const mine = this.ctx
      .getWebSockets(target.memberId)
      .map((ws) => ({ ws, socket: attachmentOf(ws) }))
      .filter((s) => !s.socket.closed);
    if (mine.length >= SOCKETS_PER_MEMBER) {
      // The newest connection wins, as a reconnecting client expects; the object's count does not grow.
      const oldest = mine.reduce((a, b) => (b.socket.openedAt < a.socket.openedAt ? b : a));
      this.close(oldest.ws, oldest.socket, CLOSE_REPLACED, "replaced by a newer watch of this member");
    } else if (this.open() >= socketsPerObject(config)) {
      return refuse({
        code: "GROUP_MAX_SIZE_REACHED",
        message: `the group holds its maximum of ${socketsPerObject(config)} watch sockets (2 × GROUP_MAX_SIZE); heartbeats over HTTP still work`,
      });
    }

    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    const socket: WatchAttachment = {
      ...target,
      clientHost: request.headers.get("cf-connecting-ip") ?? "",
      expiresAt: config.authMode === "jwt" ? expiresAt : null,
      openedAt: now,
    };
    this.ctx.acceptWebSocket(server, [target.memberId]);
    server.serializeAttachment(socket);
    if (this.count !== null) this.count++;
    if (socket.expiresAt !== null && this.earliestExpiry !== undefined) {
      this.earliestExpiry = Math.min(this.earliestExpiry ?? Number.POSITIVE_INFINITY, socket.expiresAt);
    }
    if (!member.left) server.send(assignmentPush({ ...member, assignment: toList(member.assigned) }));
    const protocol = request.headers.get(PROTOCOL_HEADER);
    const headers = protocol ? { "sec-websocket-protocol": protocol } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /**
   * After an event: closes the sockets of members the core removed (the notice, then 4000), and sends
   * each member whose epoch or assignment changed its new assignment (`except` got its answer).
   */
  notify(group: Group | null, except?: string): void {
    if (!(group instanceof ConsumerGroup)) return;
    const now = Date.now();
    for (const removal of group.takeRemovals()) {
      // Removed and back under the same id in one event (a rejoin): its sockets serve the new member.
      if (group.members.has(removal.memberId)) continue;
      for (const ws of this.ctx.getWebSockets(removal.memberId)) {
        const socket = attachmentOf(ws);
        if (socket.closed) continue;
        if (isExpired(socket, now)) this.closeUnauthenticated(ws, socket);
        else this.close(ws, socket, CLOSE_FENCED, "fenced", fencedNotice(removal));
      }
    }
    // A steady heartbeat changed nobody's assignment: it looks up no socket. Only members whose target
    // moved or who were handed partitions have notices, so each is looked up by its tag.
    if (!group.hasNotices) return;
    for (const notice of group.takeNotices()) {
      if (notice.memberId === except) continue;
      for (const ws of this.ctx.getWebSockets(notice.memberId)) {
        const socket = attachmentOf(ws);
        if (socket.closed) continue;
        if (isExpired(socket, now)) this.closeUnauthenticated(ws, socket);
        else send(ws, assignmentPush(notice));
      }
    }
  }

  /** Closes every socket whose token expired (UNAUTHENTICATED, 4001), listing them only when one is due. */
  closeExpired(now: number): void {
    if (this.earliestExpiry === null || (this.earliestExpiry !== undefined && this.earliestExpiry > now))
      return;
    let earliest: number | null = null;
    for (const ws of this.ctx.getWebSockets()) {
      const socket = attachmentOf(ws);
      if (socket.closed || socket.expiresAt === null) continue;
      if (socket.expiresAt <= now) this.closeUnauthenticated(ws, socket);
      else earliest = Math.min(earliest ?? socket.expiresAt, socket.expiresAt);
    }
    this.earliestExpiry = earliest;
  }

  closeUnauthenticated(ws: WebSocket, socket: WatchAttachment): void {
    this.close(ws, socket, CLOSE_UNAUTHENTICATED, "token expired", expiredReply());
  }

  /** A socket closed by the client or the network: counted again at the next upgrade. */
  forget(): void {
    this.count = null;
  }

  private open(): number {
    this.count ??= this.ctx.getWebSockets().filter((ws) => !attachmentOf(ws).closed).length;
    return this.count;
  }

  /** Sends `last` (if any) and closes; marks the socket so no later event acts on it. */
  private close(ws: WebSocket, socket: WatchAttachment, code: number, reason: string, last?: string): void {
    if (last !== undefined) send(ws, last);
    try {
      ws.serializeAttachment({ ...socket, closed: true });
      ws.close(code, reason);
    } catch {
      // Already closing.
    }
    if (this.count !== null) this.count--;
  }
}

/** A send that a socket closing concurrently cannot turn into an exception. */
export function send(ws: WebSocket, message: string): void {
  try {
    ws.send(message);
  } catch {
    // The member learns from its next heartbeat.
  }
}
