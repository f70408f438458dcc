/**
 * The machinery under GroupObject: one Durable Object per group loads the group from SQLite once, lets
 * the core decide, writes what changed in one transaction, keeps the single alarm at the earliest
 * deadline, answers parked requests (classic joins and syncs, share acquires) once their rows are
 * written, stages the group's summary for its directory shard in the outbox (src/directory/outbox.ts:
 * in the step's transaction, sent off the request path once it committed, retried by the alarm until
 * acknowledged), and undoes a failed step exactly.
 * GroupObject (group-object.ts) is the RPC surface on top: each route's decision, run through here.
 */

import { DurableObject } from "cloudflare:workers";
import * as clock from "./core/clock.ts";
import { type Config, readConfig } from "./core/config.ts";
import { fail, ok, type Result } from "./core/errors.ts";
import type { Group } from "./core/group.ts";
import { expiryHint, planExpiry } from "./core/offsets.ts";
import { restoreGroup } from "./core/restore.ts";
import { shareSettings } from "./core/share/share-types.ts";
import { DirectoryOutbox } from "./directory/outbox.ts";
import { directoryOf } from "./directory/shards.ts";
import { writeHistory } from "./history-shell.ts";
import { logFailure, logGroupStep, markGroup } from "./log.ts";
import * as share from "./share-shell.ts";
import { GroupStore } from "./storage/group-store.ts";
import { WatchSockets } from "./watch-sockets.ts";

export abstract class GroupShell extends DurableObject<Env> {
  protected readonly store: GroupStore;
  protected readonly watch: WatchSockets;
  protected readonly config: Config | null;
  protected group: Group | null = null;
  /** The time the alarm is set for (null: none); it never lies after the earliest deadline. */
  protected armedAt: number | null = null;
  /** The group's summary for its directory shard: staged with each change, sent after it committed. */
  protected readonly outbox: DirectoryOutbox;

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
      settled: () => void (this.group ? undefined : this.arm(this.idleDeadline(), true)),
      disabled: (env as unknown as Record<string, unknown>).COHORT_BENCH_NO_DIRECTORY === "1",
    });
    ctx.blockConcurrencyWhile(async () => {
      this.store.migrate();
      const saved = this.store.loadGroup();
      if (saved) this.group = restoreGroup(saved.record, saved.members, clock.now(), saved.share);
      this.armedAt = await ctx.storage.getAlarm();
      this.outbox.start(this.group, Date.now());
    });
  }

  /** Pushes changed assignments and closes removed members' sockets, for the group an event ran on. */
  protected pushAssignments(except?: string, group: Group | null = this.group): void {
    this.watch.notify(group, except);
  }

  // ---- parked requests: classic joins and syncs, share acquires ----

  /** Resolvers of parked requests, by ticket. A restart loses them and fails their RPC calls (503). */
  private readonly parked = new Map<number, (result: Result<unknown>) => void>();
  private lastTicket = 0;

  /**
   * Runs a decision that may park its request through `mutate()`. A parked request's resolver is
   * registered inside the same synchronous step that parks it, so no completion can arrive before it;
   * completions (of this request or others it woke) are delivered once the step's rows are written.
   * If the step fails, the group is exactly as before it: requests parked earlier stay parked (what
   * they wait for is unchanged) and only this one is answered.
   */
  protected async parkedCall<T>(
    groupId: string,
    decide: (now: number, config: Config, ticket: number) => share.Decision<T>,
    sql: "in-decision" | "after-decision" = "in-decision",
  ): Promise<Result<T>> {
    const ticket = ++this.lastTicket;
    let ranOn: Group | null = null;
    let parked: Promise<Result<T>> | undefined;
    let failed = false;
    const result = await this.mutate(
      groupId,
      (config, now): Result<T | undefined> => {
        const { group, step } = decide(now, config, ticket);
        this.group = ranOn = group;
        if (step.kind === "reply") return step.result;
        parked = new Promise((resolve) => this.parked.set(ticket, resolve as (r: Result<unknown>) => void));
        return ok(undefined);
      },
      sql,
      () => {
        failed = true;
        this.parked.delete(ticket);
      },
    );
    if (failed) return result as Result<T>;
    this.deliver(ranOn);
    return parked ?? (result as Result<T>);
  }

  /** Answers parked requests from the completions a group produced (in requests or the alarm). */
  private deliver(group: Group | null): void {
    if (!hasCompletions(group)) return;
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
    if (!group || !this.config) return this.arm(this.idleDeadline(true), true);
    const now = clock.now();
    const retention = this.config.offsetsRetentionMs;
    let next: number | null = null;
    share.configureShare(group, shareSettings(this.config));
    group.checkpoint();
    const mark = markGroup(group);
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
    logGroupStep(mark, this.group ?? group, "deadline");
    group.markSaved();
    group.keepChanges();
    this.alarmFailures = 0;
    this.alarmRetryAt = 0;
    this.pushAssignments(undefined, group);
    this.deliver(group);
    this.outbox.flush();
    await this.arm(minDeadline(this.group ? next : null, this.idleDeadline()), true);
  }

  // ---- the shell's one mutation path, and its one failure path ----

  /**
   * Runs a core decision at one `now`, then persists what it changed in the same transaction, drops a
   * group left with no members and no offsets, stages the group's summary in the directory outbox (in
   * that transaction) and sends it once committed, and arms the alarm if a deadline (the outbox's
   * retry included) moved earlier. Nothing here is written on a path that changed nothing.
   *
   * `sql: "in-decision"` is for decisions that write offsets themselves: the transaction spans the
   * decision. Protocol decisions only change the in-memory group, so a transaction is opened only when
   * they left rows to write or changed the summary — a steady heartbeat opens none. An "after-decision"
   * step may leave one SQL statement to the shell (`deferWrite`, the offset commit): when that is the
   * step's only write it runs alone (one statement is atomic), else first in the step's transaction.
   *
   * A throw anywhere in the decision or the write is one failure path (`recover`): the transaction
   * rolled back, the group is exactly what it was before (deadlines included), and the caller gets a
   * 503 as data; `onFailure` lets it answer what it parked in the failed step.
   */
  protected async mutate<T>(
    groupId: string,
    decide: (config: Config, now: number) => Result<T>,
    sql: "in-decision" | "after-decision" = "in-decision",
    onFailure?: () => void,
  ): Promise<Result<T>> {
    const config = this.config;
    if (!config) return fail("COORDINATOR_NOT_AVAILABLE", "the coordinator's configuration is invalid");
    const now = clock.now();
    const before = this.group;
    share.configureShare(before, shareSettings(config));
    before?.checkpoint();
    const mark = markGroup(before);
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
        const write = this.deferred;
        this.deferred = null;
        const group = this.group;
        const sole = group && this.soleWrite(group, write);
        if (sole) {
          // One statement and nothing else to write: SQLite applies a statement whole or not at all,
          // so the transaction (a SAVEPOINT and its RELEASE around it) would add nothing but time.
          sole();
          written = group;
        } else {
          const rows = group !== null && (group.dirty || group.memberCount === 0);
          if (write || rows || this.outbox.differs(group)) {
            if (rows || write) written = group;
            this.ctx.storage.transactionSync(() => {
              write?.();
              if (rows) this.persist(group);
              this.outbox.stage(groupId, this.group, Date.now());
            });
          }
        }
      }
    } catch (err) {
      this.deferred = null;
      this.recover(before, err, "request");
      onFailure?.();
      return fail("COORDINATOR_NOT_AVAILABLE", "the group coordinator could not complete the request; retry");
    }
    logGroupStep(mark, this.group ?? before, "request");
    (written as Group | null)?.markSaved();
    before?.keepChanges();
    // Sent, not awaited: the request never waits for the directory (a failure is the alarm's to retry).
    this.outbox.flush();
    const group = this.group;
    let next = this.idleDeadline();
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
   * A write an "after-decision" step leaves to the shell (`deferWrite`): run after the decision, in the
   * step's transaction — or alone when it is the step's only write (see `soleWrite`).
   */
  private deferred: (() => void) | null = null;

  /** From an "after-decision" step: `write` is its one SQL statement, run by `mutate` after it. */
  protected deferWrite(write: () => void): void {
    this.deferred = write;
  }

  /**
   * The step's one statement when it is all the step writes, else null: its deferred write (the offset
   * commit) with the group's rows clean, or a share step's one share-partition row. Either way the
   * group is not one `persist` would delete (it has members, or offsets already stored, which a write
   * cannot remove), and its summary is the one staged.
   */
  private soleWrite(group: Group, deferred: (() => void) | null): (() => void) | null {
    if (this.outbox.differs(group)) return null;
    if (group.memberCount === 0 && !this.store.hasOffsets()) return null;
    if (deferred) return group.dirty ? null : deferred;
    return share.soleShareWrite(group, this.store.share);
  }

  /**
   * After a throw: SQLite rolled the transaction back; the group comes back from those rows, and takes
   * the volatile state (deadlines, parked tickets, notices) of the object it replaces, whose journal
   * undid the failed step. Memory = SQLite = before, and no member's timer restarts.
   */
  private recover(before: Group | null, err: unknown, entry: string): void {
    logFailure(entry, err, { groupId: before?.groupId ?? this.group?.groupId ?? null });
    before?.rollback();
    try {
      // The staged version rolled back with the transaction.
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
    const config = this.config!;
    if (group.memberCount === 0 && !group.isPinned() && !this.store.hasOffsets()) {
      // Gone (Dead); its history stays for OFFSETS_RETENTION_MS (history-shell.ts).
      if (group.history.unsaved || this.store.hasGroupRow()) group.history.stateIs("Dead");
      writeHistory(this.store, group, config, clock.now());
      this.store.deleteAll();
      this.group = null;
      return;
    }
    // The marks stay until the transaction committed (`markSaved`): a failed write loses none.
    const rows = group.dirtyRows();
    if (rows.group || rows.members.size > 0) this.store.saveGroup(group.toRecord(), rows);
    share.persistShare(group, this.store.share);
    writeHistory(this.store, group, config, clock.now());
  }

  /**
   * The alarm's deadline when no group needs it: the outbox's retry, and once the group is gone the
   * purge of its history, a retention after its last event (`purge`: done now if due, in the alarm).
   */
  private idleDeadline(purge = false): number | null {
    const outbox = this.outbox.deadline();
    if (this.group || !this.config) return outbox;
    const { offsetsRetentionMs, groupHistoryMaxEvents } = this.config;
    let at = this.store.history.expiresAt(offsetsRetentionMs, groupHistoryMaxEvents);
    if (purge && at !== null && at <= clock.now()) {
      this.ctx.storage.transactionSync(() => this.store.history.purge());
      at = null;
    }
    return minDeadline(outbox, at);
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
    const group = restoreGroup(saved.record, members, clock.now(), saved.share);
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

/** A group that answers parked requests later (classic joins and syncs, share acquires). */
interface Completes {
  takeCompletions(): { ticket: number; result: Result<unknown> }[];
}
const hasCompletions = (group: Group | null): group is Group & Completes =>
  typeof (group as Partial<Completes> | null)?.takeCompletions === "function";

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
