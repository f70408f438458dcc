/**
 * GroupObject: one Durable Object per consumer group, a thin shell around the pure core. It loads the
 * group from SQLite once, lets the core decide, writes what changed in one transaction, keeps the
 * single alarm at the earliest deadline, and stages the group's summary for the directory in its outbox
 * (src/directory/outbox.ts): sent off the request path, retried by the alarm until acknowledged.
 * Every method returns errors as data (`Result`): RPC would keep an exception's message only.
 */

import { DurableObject } from "cloudflare:workers";
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
import { type Config, readConfig } from "./core/config.ts";
import {
  consumerHeartbeat,
  type HeartbeatRequest,
  type HeartbeatResponse,
} from "./core/consumer/consumer-heartbeat.ts";
import { fail, ok, type Result } from "./core/errors.ts";
import type { Group, GroupDescription } from "./core/group.ts";
import {
  type CommitRequest,
  checkOffsetDelete,
  expiryHint,
  type LagRow,
  lagReport,
  noOffset,
  type OffsetView,
  planCommit,
  planExpiry,
  planReset,
  type ResetChange,
  type ResetRequest,
  toView,
} from "./core/offsets.ts";
import { restoreGroup } from "./core/restore.ts";
import { DirectoryOutbox } from "./directory/outbox.ts";
import { directoryOf } from "./directory/shards.ts";
import {
  errorReply,
  heartbeatReply,
  parseHeartbeatMessage,
  type WatchAttachment,
} from "./http/socket-messages.ts";
import { GroupStore } from "./storage/group-store.ts";
import { isExpired, send, WatchSockets } from "./watch-sockets.ts";

export class GroupObject extends DurableObject<Env> {
  private readonly store: GroupStore;
  private readonly watch: WatchSockets;
  private readonly config: Config | null;
  private group: Group | null = null;
  /** The time the alarm is set for (null: none); it never lies after the earliest deadline. */
  private armedAt: number | null = null;
  /** The group's summary for its directory shard: staged with each change, sent after it committed. */
  private readonly outbox: DirectoryOutbox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new GroupStore(ctx.storage.sql);
    this.watch = new WatchSockets(ctx);
    const read = readConfig(env as unknown as Record<string, unknown>);
    this.config = read.ok ? read.config : null;
    this.outbox = new DirectoryOutbox({
      sql: ctx.storage.sql,
      send: (groupId, version, summary) => directoryOf(env, groupId).record(groupId, version, summary),
      schedule: (at) => void this.arm(at),
      settled: () => void (this.group ? undefined : this.arm(null, true)),
      disabled: (env as unknown as Record<string, unknown>).COHORT_BENCH_NO_DIRECTORY === "1",
    });
    ctx.blockConcurrencyWhile(async () => {
      this.store.migrate();
      const saved = this.store.loadGroup();
      if (saved) this.group = restoreGroup(saved.record, saved.members, clock.now());
      this.armedAt = await ctx.storage.getAlarm();
      this.outbox.start(this.group, Date.now());
    });
  }

  // ---- offsets (API.md §3) ----

  async commitOffsets(groupId: string, req: CommitRequest): Promise<Result<{ committed: number }>> {
    return this.mutate(groupId, (config, now) => {
      const plan = planCommit(this.group, req, now, config);
      if (!plan.ok) return plan;
      this.group ??= ClassicGroup.simple(groupId, now);
      this.store.writeOffsets(plan.value);
      return ok({ committed: plan.value.length });
    });
  }

  async fetchOffsets(
    groupId: string,
    topics: string[] | null,
  ): Promise<Result<{ groupId: string; offsets: OffsetView[] }>> {
    return ok({ groupId, offsets: this.store.readOffsets(topics ?? undefined).map(toView) });
  }

  async fetchOffset(_groupId: string, topic: string, partition: number): Promise<Result<OffsetView>> {
    const row = this.store.readOffset(topic, partition);
    return ok(row ? toView(row) : noOffset(topic, partition));
  }

  async deleteOffsets(
    groupId: string,
    topic: string,
    partitions: number[] | null,
  ): Promise<Result<{ deleted: number }>> {
    return this.mutate(groupId, () => {
      const refused = checkOffsetDelete(this.group, topic);
      if (refused) return { ok: false, error: refused };
      return ok({ deleted: this.store.deleteOffsets(topic, partitions ?? undefined) });
    });
  }

  async resetOffsets(
    groupId: string,
    req: ResetRequest,
  ): Promise<Result<{ dryRun: boolean; offsets: ResetChange[] }>> {
    return this.mutate(groupId, (_config, now) => {
      const plan = planReset(this.group, this.store.readOffsets([req.topic]), req, now);
      if (!plan.ok) return plan;
      const dryRun = req.dryRun ?? false;
      if (!dryRun && plan.value.rows.length > 0) {
        this.group ??= ClassicGroup.simple(groupId, now);
        this.store.writeOffsets(plan.value.rows);
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
    return ok({ groupId, ...lagReport(this.group, this.store.readOffsets()) });
  }

  async deleteGroup(groupId: string): Promise<Result<{ deleted: true }>> {
    return this.mutate(groupId, () => {
      if (!this.group) return fail("GROUP_ID_NOT_FOUND", "the group does not exist");
      if (this.group.memberCount > 0) return fail("NON_EMPTY_GROUP", "the group has members");
      this.store.deleteAll();
      this.group = null;
      return ok({ deleted: true as const });
    });
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
      console.error("cohort: socket heartbeat failed", socket.groupId, err);
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

  /** Pushes changed assignments and closes removed members' sockets, for the group an event ran on. */
  private pushAssignments(except?: string, group: Group | null = this.group): void {
    this.watch.notify(group, except);
  }

  // ---- classic protocol (API.md §4) ----

  /** Resolvers of parked joins and syncs, by ticket. A restart loses them and fails their RPC calls (503). */
  private readonly parked = new Map<number, (result: Result<unknown>) => void>();
  private lastTicket = 0;

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

  /**
   * Runs a classic handler through `mutate()`. A parked request's resolver is registered inside the
   * same synchronous step that parks it, so no completion can arrive before it; completions are
   * delivered once the step's rows are written. If the step fails, the group is exactly as before it:
   * requests parked earlier stay parked (what they wait for is unchanged) and only this one is answered.
   */
  private async classicCall<T>(
    groupId: string,
    create: boolean,
    handle: (group: ClassicGroup, ctx: ClassicContext) => Step<T>,
  ): Promise<Result<T>> {
    const ticket = ++this.lastTicket;
    const held: { group?: ClassicGroup; parked?: Promise<Result<T>> } = {};
    let failed = false;
    const result = await this.mutate(
      groupId,
      (config, now): Result<T | undefined> => {
        const found = classicGroupOf(this.group, groupId, now, create);
        if (!found.ok) return found;
        this.group = held.group = found.value;
        const step = handle(found.value, { now, config, ticket });
        if (step.kind === "reply") return step.result;
        held.parked = new Promise((resolve) =>
          this.parked.set(ticket, resolve as (r: Result<unknown>) => void),
        );
        return ok(undefined);
      },
      "after-decision",
      () => {
        failed = true;
        this.parked.delete(ticket);
      },
    );
    if (failed) return result as Result<T>;
    if (held.group) this.deliverClassic(held.group);
    return held.parked ?? (result as Result<T>);
  }

  /** Answers parked requests from the completions a classic group produced (requests or the alarm). */
  private deliverClassic(group: Group): void {
    if (!(group instanceof ClassicGroup)) return;
    for (const done of group.takeCompletions()) {
      const resolve = this.parked.get(done.ticket);
      this.parked.delete(done.ticket);
      resolve?.(done.result);
    }
  }

  private releaseParked(): void {
    const retry = fail("COORDINATOR_NOT_AVAILABLE", "the group coordinator restarted its state; retry");
    for (const resolve of this.parked.values()) resolve(retry);
    this.parked.clear();
  }

  // ---- the single alarm: every deadline, offsets expiry included ----

  /** Alarms that failed in a row: each retry waits longer, so a deterministic failure cannot loop hot. */
  private alarmFailures = 0;
  /** While alarms fail, no request re-arms the alarm before this (the overdue deadline would be hot). */
  private alarmRetryAt = 0;

  override async alarm(): Promise<void> {
    this.armedAt = null;
    this.watch.closeExpired(Date.now());
    // A directory update not yet acknowledged is retried here, also once the group itself is gone.
    this.outbox.retry(Date.now());
    const group = this.group;
    if (!group || !this.config) return this.arm(this.outbox.deadline(), true);
    const now = clock.now();
    const retention = this.config.offsetsRetentionMs;
    let next: number | null = null;
    group.checkpoint();
    try {
      this.ctx.storage.transactionSync(() => {
        group.onDeadlines(now);
        let plan = planExpiry(group, this.store, now, retention);
        if (plan.expire) {
          this.store.expireOffsets(plan.expire.committedUpTo, plan.expire.topics);
          plan = planExpiry(group, this.store, now, retention);
        }
        next = minDeadline(group.nextDeadline(), plan.next);
        this.persist(group);
        this.outbox.stage(group.groupId, this.group, Date.now());
      });
    } catch (err) {
      this.recover(group, err, "alarm");
      // Retried by re-arming, not by throwing: the runtime gives up on an alarm after a few retries.
      this.alarmFailures++;
      this.alarmRetryAt = now + alarmRetryDelay(this.alarmFailures);
      await this.arm(this.alarmRetryAt, true);
      return;
    }
    group.markSaved();
    group.keepChanges();
    this.alarmFailures = 0;
    this.alarmRetryAt = 0;
    this.pushAssignments(undefined, group);
    this.deliverClassic(group);
    this.outbox.flush();
    await this.arm(minDeadline(this.group ? next : null, this.outbox.deadline()), true);
  }

  // ---- the shell's one mutation path, and its one failure path ----

  /**
   * Runs a core decision at one `now`, then persists what it changed in the same transaction, drops a
   * group left with no members and no offsets, arms the alarm if a deadline moved earlier, and updates
   * the directory. Nothing here is written on a path that changed nothing.
   *
   * `sql: "in-decision"` is for decisions that write offsets themselves: the transaction spans the
   * decision. Protocol decisions only change the in-memory group, so a transaction is opened only when
   * they left rows to write — a steady heartbeat opens none.
   *
   * A throw anywhere in the decision or the write is one failure path (`recover`): the transaction
   * rolled back, the group is exactly what it was before (deadlines included), and the caller gets a
   * 503 as data; `onFailure` lets it answer what it parked in the failed step.
   */
  private async mutate<T>(
    groupId: string,
    decide: (config: Config, now: number) => Result<T>,
    sql: "in-decision" | "after-decision" = "in-decision",
    onFailure?: () => void,
  ): Promise<Result<T>> {
    const config = this.config;
    if (!config) return fail("COORDINATOR_NOT_AVAILABLE", "the coordinator's configuration is invalid");
    const now = clock.now();
    const before = this.group;
    before?.checkpoint();
    let result: Result<T> = fail("COORDINATOR_NOT_AVAILABLE", "not run");
    let written: Group | null = null;
    try {
      if (sql === "in-decision") {
        this.ctx.storage.transactionSync(() => {
          result = decide(config, now);
          written = this.group;
          if (written) this.persist(written);
          this.outbox.stage(groupId, this.group, Date.now());
        });
      } else {
        result = decide(config, now);
        const group = this.group;
        const rows = group !== null && (group.dirty || group.memberCount === 0);
        if (rows || this.outbox.differs(group)) {
          if (rows) written = group;
          this.ctx.storage.transactionSync(() => {
            if (rows) this.persist(group);
            this.outbox.stage(groupId, this.group, Date.now());
          });
        }
      }
    } catch (err) {
      this.recover(before, err, "request");
      onFailure?.();
      return fail("COORDINATOR_NOT_AVAILABLE", "the group coordinator could not complete the request; retry");
    }
    (written as Group | null)?.markSaved();
    before?.keepChanges();
    // Sent, not awaited: the request never waits for the directory (a failure is the alarm's to retry).
    this.outbox.flush();
    const group = this.group;
    let next = this.outbox.deadline();
    if (group) {
      // A step that wrote rows may have changed subscriptions or commits: KIP-496 plans again then.
      const changed = written !== null;
      const hint = expiryHint(group, result.ok, now, config.offsetsRetentionMs, this.store, changed);
      next = minDeadline(next, minDeadline(group.nextDeadline(), hint));
    }
    await this.arm(next);
    return result;
  }

  /**
   * After a throw: SQLite rolled the transaction back; the group comes back from those rows, and takes
   * the volatile state (deadlines, parked tickets, notices) of the object it replaces, whose journal
   * undid the failed step. Memory = SQLite = before, and no member's timer restarts.
   */
  private recover(before: Group | null, err: unknown, entry: string): void {
    const error = err instanceof Error ? err : new Error(String(err));
    console.error(
      JSON.stringify({
        event: "cohort.failure",
        entry,
        groupId: before?.groupId ?? this.group?.groupId ?? null,
        error: error.message,
        stack: error.stack?.split("\n").slice(0, 4).join(" | "),
      }),
    );
    before?.rollback();
    try {
      this.outbox.load();
      this.reload(before);
    } catch (reloadErr) {
      // The rows cannot even be read: answer everything parked, and restart the object (it reloads
      // from SQLite in its constructor) rather than go on with a half-applied group in memory.
      this.releaseParked();
      this.ctx.abort(`cohort: the group could not be reloaded after a failure: ${String(reloadErr)}`);
      throw reloadErr;
    }
  }

  /** Writes the group's changed rows, or removes a group with no members and no offsets (API.md §3). */
  private persist(group: Group): void {
    if (group.memberCount === 0 && !group.isPinned() && !this.store.hasOffsets()) {
      this.store.deleteAll();
      this.group = null;
      return;
    }
    // The marks stay until the transaction committed (`markSaved`): a failed write loses none.
    this.store.saveGroup(group.toRecord(), group.dirtyRows());
  }

  /** Rebuilds the group from SQLite; with `before`, in its member order and with its volatile state. */
  private reload(before: Group | null = null): void {
    this.store.forget();
    const saved = this.store.loadGroup();
    if (!saved) {
      this.group = null;
      return;
    }
    const members = before ? inOrderOf(saved.members, before.memberIds()) : saved.members;
    const group = restoreGroup(saved.record, members, clock.now());
    if (before) group.adoptVolatile(before);
    this.group = group;
  }

  /** Sets the alarm at `deadline` when it is earlier than the one set (or, `exact`, to precisely it). */
  private async arm(deadline: number | null, exact = false): Promise<void> {
    if (deadline === null) {
      if (exact && this.armedAt !== null) await this.ctx.storage.deleteAlarm();
      if (exact) this.armedAt = null;
      return;
    }
    // While the alarm fails, an overdue deadline waits for the retry instead of firing at once.
    if (this.alarmFailures > 0) deadline = Math.max(deadline, this.alarmRetryAt);
    if (!exact && this.armedAt !== null && this.armedAt <= deadline) return;
    this.armedAt = deadline;
    await this.ctx.storage.setAlarm(deadline);
  }
}

const minDeadline = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.min(a, b);

/** 1 s, 2 s, 4 s, … up to a minute: how long a failed alarm waits before it runs again. */
const alarmRetryDelay = (failures: number): number => Math.min(60_000, 1000 * 2 ** (failures - 1));

/** Restored member rows in the order of `ids` (the live group's), unknown ones last. */
function inOrderOf(rows: unknown[], ids: Iterable<string>): unknown[] {
  const rank = new Map<string, number>();
  for (const id of ids) rank.set(id, rank.size);
  const at = (row: unknown) => rank.get((row as { memberId: string }).memberId) ?? rank.size;
  return [...rows].sort((a, b) => at(a) - at(b));
}
