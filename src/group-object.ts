/**
 * GroupObject: one Durable Object per consumer group, a thin shell around the pure core: its RPC
 * surface, one method per route, each a core decision run through GroupShell's one mutation path
 * (group-shell.ts: SQLite, the alarm, parked requests, the failure path, the directory outbox). Each
 * protocol's glue lives beside it (share groups: share-shell.ts). Every method returns errors as data
 * (`Result`): RPC would keep an exception's message only.
 */

import { ClassicGroup } from "./core/classic/classic-group.ts";
import { classicGroupOf, joinGroup } from "./core/classic/classic-join.ts";
import type {
  ClassicContext,
  HeartbeatRequest as ClassicHeartbeatRequest,
  JoinRequest,
  JoinResponse,
  LeaveRequest,
  Step,
  SyncRequest,
  SyncResponse,
} from "./core/classic/classic-protocol.ts";
import { heartbeat, type LeaveResponse, leaveGroup, syncGroup } from "./core/classic/classic-sync.ts";
import * as clock from "./core/clock.ts";
import {
  consumerHeartbeat,
  type HeartbeatRequest,
  type HeartbeatResponse,
} from "./core/consumer/consumer-heartbeat.ts";
import { fail, ok, type Result } from "./core/errors.ts";
import type { Group, GroupDescription } from "./core/group.ts";
import type { Actor, StoredEvent } from "./core/history.ts";
import {
  type CommitRequest,
  checkOffsetDelete,
  type LagRow,
  lagReport,
  noOffset,
  type OffsetView,
  planCommit,
  planReset,
  type ResetChange,
  type ResetRequest,
  toView,
} from "./core/offsets.ts";
import type { AcknowledgeResult, ArchivedRange } from "./core/share/share-types.ts";
import { shareSettings } from "./core/share/share-types.ts";
import { GroupShell } from "./group-shell.ts";
import * as history from "./history-shell.ts";
import { type EventsQuery, writeHistory } from "./history-shell.ts";
import {
  errorReply,
  heartbeatReply,
  parseHeartbeatMessage,
  type WatchAttachment,
} from "./http/socket-messages.ts";
import { logFailure } from "./log.ts";
import * as share from "./share-shell.ts";
import type { LagSample } from "./storage/history-store.ts";
import { isExpired, send } from "./watch-sockets.ts";

export interface EventsPage {
  events: StoredEvent[];
  nextAfter: number;
}

export class GroupObject extends GroupShell {
  // ---- offsets (API.md §3) ----

  async commitOffsets(groupId: string, req: CommitRequest): Promise<Result<{ committed: number }>> {
    // The rows are written after the decision: alone when they are all the commit changes (the
    // steady commit of an existing group), else in one transaction with the group row and the outbox.
    return this.mutate(
      groupId,
      (config, now) => {
        const refused = share.refuseShareGroup(this.group, "OffsetCommit");
        if (refused) return refused;
        const plan = planCommit(this.group, req, now, config);
        if (!plan.ok) return plan;
        this.group ??= ClassicGroup.simple(groupId, now);
        const rows = plan.value;
        this.deferWrite(() => this.store.writeOffsets(rows));
        if (rows.some((r) => r.logEndOffset !== null)) this.group.history.lagReported(now);
        return ok({ committed: rows.length });
      },
      "after-decision",
    );
  }

  async fetchOffsets(
    groupId: string,
    topics: string[] | null,
  ): Promise<Result<{ groupId: string; offsets: OffsetView[] }>> {
    if (share.isShareGroup(this.group))
      return ok({ groupId, offsets: share.offsetViews(this.group, topics) });
    return ok({ groupId, offsets: this.store.readOffsets(topics ?? undefined).map(toView) });
  }

  async fetchOffset(_groupId: string, topic: string, partition: number): Promise<Result<OffsetView>> {
    if (share.isShareGroup(this.group)) return ok(share.offsetView(this.group, topic, partition));
    const row = this.store.readOffset(topic, partition);
    return ok(row ? toView(row) : noOffset(topic, partition));
  }

  async deleteOffsets(
    groupId: string,
    topic: string,
    partitions: number[] | null,
    actor: Actor = null,
  ): Promise<Result<{ deleted: number }>> {
    return this.mutate(groupId, () => {
      if (share.isShareGroup(this.group)) return share.deleteOffsets(this.group, topic, partitions, actor);
      const refused = checkOffsetDelete(this.group, topic);
      if (refused) return { ok: false, error: refused };
      const deleted = this.store.deleteOffsets(topic, partitions ?? undefined);
      if (deleted.length > 0) this.group?.history.offsetsDeleted(actor, topic, deleted);
      return ok({ deleted: deleted.length });
    });
  }

  async resetOffsets(
    groupId: string,
    req: ResetRequest,
    actor: Actor = null,
  ): Promise<Result<{ dryRun: boolean; offsets: ResetChange[] }>> {
    return this.mutate(groupId, (_config, now) => {
      if (share.isShareGroup(this.group)) return share.reset(this.group, req, now, actor);
      const plan = planReset(this.group, this.store.readOffsets([req.topic]), req, now);
      if (!plan.ok) return plan;
      const dryRun = req.dryRun ?? false;
      if (!dryRun && plan.value.rows.length > 0) {
        this.group ??= ClassicGroup.simple(groupId, now);
        this.store.writeOffsets(plan.value.rows);
        this.group.history.offsetsReset(actor, req.topic, plan.value.changes);
      }
      return ok({ dryRun, offsets: plan.value.changes });
    });
  }

  // ---- groups (API.md §6) ----

  async describe(_groupId: string): Promise<Result<GroupDescription>> {
    return this.group ? ok(this.group.describe()) : fail("GROUP_ID_NOT_FOUND", "the group does not exist");
  }

  async lag(groupId: string): Promise<Result<{ groupId: string; totalLag: number; partitions: LagRow[] }>> {
    if (!this.group) return fail("GROUP_ID_NOT_FOUND", "the group does not exist");
    if (share.isShareGroup(this.group)) return ok({ groupId, ...share.lag(this.group) });
    return ok({ groupId, ...lagReport(this.group, this.store.readOffsets()) });
  }

  async deleteGroup(groupId: string, actor: Actor = null): Promise<Result<{ deleted: true }>> {
    return this.mutate(groupId, (config, now) => {
      if (!this.group) return fail("GROUP_ID_NOT_FOUND", "the group does not exist");
      if (this.group.memberCount > 0) return fail("NON_EMPTY_GROUP", "the group has members");
      // Its history stays (for OFFSETS_RETENTION_MS) and says who deleted it.
      this.group.history.stateIs("Dead", actor);
      writeHistory(this.store, this.group, config, now);
      this.store.deleteAll();
      this.group = null;
      return ok({ deleted: true as const });
    });
  }

  // ---- history (API.md §8) ----

  async events(_groupId: string, query: EventsQuery): Promise<Result<EventsPage>> {
    if (!this.config) return fail("COORDINATOR_NOT_AVAILABLE", "the coordinator's configuration is invalid");
    return history.events(this.group, this.store, this.config, query);
  }

  async lagHistory(_groupId: string, since: number): Promise<Result<{ samples: LagSample[] }>> {
    if (!this.config) return fail("COORDINATOR_NOT_AVAILABLE", "the coordinator's configuration is invalid");
    return history.lagHistory(this.group, this.store, this.config, since, clock.now());
  }

  /** What this object has written since it started: for tests and benchmarks of storage cost. */
  async stats(): Promise<{ rowsWritten: number; rowsRead: number; alarmAt: number | null }> {
    const rowsWritten = this.store.rowsWritten + this.outbox.rowsWritten;
    return { rowsWritten, rowsRead: this.store.rowsRead, alarmAt: this.armedAt };
  }

  // ---- consumer protocol (API.md §5) ----

  async consumerHeartbeat(groupId: string, req: HeartbeatRequest): Promise<Result<HeartbeatResponse>> {
    const { result, group } = await this.decideHeartbeat(groupId, req);
    // The member that asked gets its answer directly; every other changed member gets a push.
    this.pushAssignments(result.ok ? result.value.memberId : req.memberId, group);
    return result;
  }

  /** A heartbeat's decision, with the group it ran on (gone from `this.group` if its last member left). */
  private async decideHeartbeat(
    groupId: string,
    req: HeartbeatRequest,
  ): Promise<{ result: Result<HeartbeatResponse>; group: Group | null }> {
    let group: Group | null = null;
    const result = await this.mutate(
      groupId,
      (config, now) => {
        const refused = share.refuseShareGroup(this.group, "the consumer-protocol heartbeat");
        if (refused) return refused;
        const out = consumerHeartbeat(this.group, groupId, req, now, config, () => crypto.randomUUID());
        this.group = group = out.group;
        return out.result;
      },
      "after-decision",
    );
    return { result, group: group ?? this.group };
  }

  /** The watch WebSocket's upgrade, forwarded by the Worker once it authorized the caller. */
  override async fetch(request: Request): Promise<Response> {
    return this.watch.accept(request, this.group, this.config);
  }

  /** A heartbeat over the socket: refused once the token expired; answered before any fenced notice. */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const socket = ws.deserializeAttachment() as WatchAttachment;
    if (socket.closed) return;
    if (isExpired(socket, Date.now())) return this.watch.closeUnauthenticated(ws, socket);
    const req = parseHeartbeatMessage(message, socket);
    if (!req.ok) return send(ws, heartbeatReply(req));
    try {
      const { result, group } = await this.decideHeartbeat(socket.groupId, req.value);
      send(ws, heartbeatReply(result));
      this.pushAssignments(socket.memberId, group);
    } catch (err) {
      // A failed step was rolled back; the member retries as after any 503.
      logFailure("socket_heartbeat", err, { groupId: socket.groupId, memberId: socket.memberId });
      send(ws, errorReply({ code: "COORDINATOR_NOT_AVAILABLE", message: "the heartbeat failed; retry" }));
    }
  }

  /** Closing a socket does not drop the member: its session times out as for HTTP heartbeats. */
  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.watch.forget();
    try {
      ws.close(code === 1005 ? 1000 : code, "closed");
    } catch {
      // Already closed.
    }
  }

  override async webSocketError(): Promise<void> {
    this.watch.forget();
  }

  // ---- classic protocol (API.md §4) ----

  async classicJoin(groupId: string, req: JoinRequest): Promise<Result<JoinResponse>> {
    return this.classicCall(groupId, req.memberId === "", (group, ctx) => joinGroup(group, req, ctx));
  }

  async classicSync(groupId: string, req: SyncRequest): Promise<Result<SyncResponse>> {
    return this.classicCall(groupId, false, (group, ctx) => syncGroup(group, req, ctx));
  }

  async classicHeartbeat(
    groupId: string,
    req: ClassicHeartbeatRequest,
  ): Promise<Result<Record<string, never>>> {
    return this.classicCall(groupId, false, (group, ctx) => heartbeat(group, req, ctx));
  }

  async classicLeave(groupId: string, req: LeaveRequest): Promise<Result<LeaveResponse>> {
    return this.classicCall(groupId, false, (group, ctx) => leaveGroup(group, req, ctx));
  }

  /** A classic handler on the classic group the request addresses (a join with no member id may create it). */
  private classicCall<T>(
    groupId: string,
    create: boolean,
    handle: (group: ClassicGroup, ctx: ClassicContext) => Step<T>,
  ): Promise<Result<T>> {
    return this.parkedCall(
      groupId,
      (now, config, ticket) => {
        const refused = share.refuseShareGroup(this.group, "the classic protocol");
        if (refused) return { group: this.group, step: { kind: "reply", result: refused } };
        const found = classicGroupOf(this.group, groupId, now, create);
        if (!found.ok) return { group: this.group, step: { kind: "reply", result: found } };
        this.group = found.value;
        return { group: found.value, step: handle(found.value, { now, config, ticket }) };
      },
      "after-decision",
    );
  }

  // ---- share groups (API.md §7): the decisions are share-shell.ts's ----
  // They change only the in-memory group ("after-decision"): a transaction is opened only when they left
  // rows to write, so a steady heartbeat or an acquire that acknowledges nothing opens none.

  async shareHeartbeat(
    groupId: string,
    req: share.ShareHeartbeatRequest,
  ): Promise<Result<share.ShareHeartbeatResponse>> {
    return this.parkedCall(
      groupId,
      (now, config) => share.heartbeat(this.group, groupId, req, now, shareSettings(config), config),
      "after-decision",
    );
  }

  async shareAcquire(groupId: string, req: share.AcquireRequest): Promise<Result<share.AcquireResponse>> {
    return this.parkedCall(
      groupId,
      (now, _config, ticket) => share.acquire(this.group, groupId, req, now, ticket),
      "after-decision",
    );
  }

  async shareAcknowledge(
    groupId: string,
    req: share.AcknowledgeRequest,
  ): Promise<Result<{ acknowledgements: AcknowledgeResult[] }>> {
    return this.parkedCall(
      groupId,
      (now) => share.acknowledge(this.group, groupId, req, now),
      "after-decision",
    );
  }

  async shareArchived(
    groupId: string,
    query: share.ArchivedQuery,
  ): Promise<Result<{ ranges: ArchivedRange[]; nextCursor: string | null }>> {
    return this.mutate(groupId, (_config, now) => share.archived(this.group, groupId, query, now));
  }

  async shareRedrive(
    groupId: string,
    req: share.RedriveRequest,
    actor: Actor = null,
  ): Promise<Result<{ redriven: number }>> {
    return this.parkedCall(
      groupId,
      (now) => share.redrive(this.group, groupId, req, now, actor),
      "after-decision",
    );
  }
}
