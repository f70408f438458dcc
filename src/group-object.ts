/**
 * GroupObject: one Durable Object per consumer group, a thin shell around the pure core. It loads the
 * group from SQLite once, lets the core decide, writes what changed in one transaction, keeps the
 * single alarm at the earliest deadline, and tells the directory when the group's summary changes.
 * Every method returns errors as data (`Result`): RPC would keep an exception's message only.
 */

import { DurableObject } from "cloudflare:workers";
import { ClassicGroup } from "./core/classic/classic-group";
import { type Config, readConfig } from "./core/config";
import { fail, ok, type Result } from "./core/errors";
import type { Group, GroupDescription } from "./core/group";
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
} from "./core/offsets";
import { restoreGroup } from "./core/restore";
import { directory } from "./directory-object";
import { GroupStore } from "./storage/group-store";

export class GroupObject extends DurableObject<Env> {
  private readonly store: GroupStore;
  private readonly config: Config | null;
  private group: Group | null = null;
  /** The time the alarm is set for (null: none); it never lies after the earliest deadline. */
  private armedAt: number | null = null;
  /** The directory entry last written for this group (JSON), to write it only when it changes. */
  private listed: string | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new GroupStore(ctx.storage.sql);
    const read = readConfig(env as unknown as Record<string, unknown>);
    this.config = read.ok ? read.config : null;
    ctx.blockConcurrencyWhile(async () => {
      this.store.migrate();
      const saved = this.store.loadGroup();
      if (saved) this.group = restoreGroup(saved.record, saved.members, Date.now());
      this.armedAt = await ctx.storage.getAlarm();
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
  async stats(): Promise<{ rowsWritten: number; alarmAt: number | null }> {
    return { rowsWritten: this.store.rowsWritten, alarmAt: this.armedAt };
  }

  // ---- the single alarm: every deadline, offsets expiry included ----

  override async alarm(): Promise<void> {
    this.armedAt = null;
    const group = this.group;
    if (!group || !this.config) return;
    const now = Date.now();
    const retention = this.config.offsetsRetentionMs;
    let next: number | null = null;
    this.ctx.storage.transactionSync(() => {
      group.onDeadlines(now);
      let plan = planExpiry(group, this.store.topicCommitRanges(), now, retention);
      if (plan.expire.length > 0) {
        for (const e of plan.expire) this.store.expireOffsets(e.topic, e.committedUpTo);
        plan = planExpiry(group, this.store.topicCommitRanges(), now, retention);
      }
      next = minDeadline(group.nextDeadline(), plan.next);
      this.persist(group);
    });
    if (this.group) await this.arm(next, true);
    await this.syncDirectory(group.groupId);
  }

  // ---- the shell's one mutation path ----

  /**
   * Runs a core decision at one `now`, then persists what it changed in the same transaction, drops a
   * group left with no members and no offsets, arms the alarm if a deadline moved earlier, and updates
   * the directory. Nothing here is written on a path that changed nothing.
   */
  private async mutate<T>(
    groupId: string,
    decide: (config: Config, now: number) => Result<T>,
  ): Promise<Result<T>> {
    const config = this.config;
    if (!config) return fail("COORDINATOR_NOT_AVAILABLE", "the coordinator's configuration is invalid");
    const now = Date.now();
    let result: Result<T> = fail("COORDINATOR_NOT_AVAILABLE", "not run");
    try {
      this.ctx.storage.transactionSync(() => {
        result = decide(config, now);
        if (this.group) this.persist(this.group);
      });
    } catch (err) {
      // The transaction rolled back: forget in-memory changes and reload the last durable state.
      this.reload();
      throw err;
    }
    const group = this.group;
    if (group)
      await this.arm(
        minDeadline(group.nextDeadline(), expiryHint(group, result.ok, now, config.offsetsRetentionMs)),
      );
    await this.syncDirectory(groupId);
    return result;
  }

  /** Writes the group's changed rows, or removes a group with no members and no offsets (API.md §3). */
  private persist(group: Group): void {
    if (group.memberCount === 0 && !group.isPinned() && !this.store.hasOffsets()) {
      this.store.deleteAll();
      this.group = null;
      return;
    }
    this.store.saveGroup(group.toRecord(), group.takeDirty());
  }

  private reload(): void {
    const saved = this.store.loadGroup();
    this.group = saved ? restoreGroup(saved.record, saved.members, Date.now()) : null;
  }

  /** Sets the alarm at `deadline` when it is earlier than the one set (or, `exact`, to precisely it). */
  private async arm(deadline: number | null, exact = false): Promise<void> {
    if (deadline === null) {
      if (exact && this.armedAt !== null) await this.ctx.storage.deleteAlarm();
      if (exact) this.armedAt = null;
      return;
    }
    if (!exact && this.armedAt !== null && this.armedAt <= deadline) return;
    this.armedAt = deadline;
    await this.ctx.storage.setAlarm(deadline);
  }

  private async syncDirectory(groupId: string): Promise<void> {
    const entry = this.group ? JSON.stringify(this.group.summary()) : "";
    if (entry === this.listed) return;
    try {
      await directory(this.env).record(groupId, this.group ? this.group.summary() : null);
      this.listed = entry;
    } catch (err) {
      // The next mutation retries; the group itself is unaffected.
      console.error("cohort: directory update failed", groupId, err);
    }
  }
}

const minDeadline = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.min(a, b);
