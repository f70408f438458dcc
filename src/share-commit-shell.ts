/**
 * Group commit of the share path (API.md §7; BENCHMARKS.md "Share groups"): share heartbeats,
 * acquires and acknowledges are decided in memory one by one, in arrival order, and the rows of all
 * that arrive together are written in ONE transaction, every one of them answered only after it
 * committed. An unbatched consumer (1 record per acquire, the previous one's accept piggybacked) must
 * commit before each answer; one commit for many requests is what lets it approach the read floor.
 * The failure path stays exact: a batch whose write fails goes back to its checkpoint (Group.checkpoint
 * at its first request; the later ones decide on without one) and all of its requests get 503.
 */

import * as clock from "./core/clock.ts";
import type { Config } from "./core/config.ts";
import { ok, type Result } from "./core/errors.ts";
import type { Group } from "./core/group.ts";
import { shareSettings } from "./core/share/share-types.ts";
import { GroupShell, unavailable } from "./group-shell.ts";
import * as share from "./share-shell.ts";

export abstract class ShareCommitShell extends GroupShell {
  /** The share requests decided since the batch's checkpoint, their rows not yet written (null: none). */
  private batch: Batch | null = null;
  /** The last batch's commit (`storage.sync()`), while unconfirmed: "group" mode batches behind it. */
  private committing: Promise<void> | null = null;
  private readonly commitMode: CommitMode = commitModeOf(this.env);

  /**
   * A share request (heartbeat, acquire, acknowledge) as a member of a group commit: decided in memory
   * at once, in arrival order, on the group the earlier requests of the batch left; its rows are
   * written with theirs in ONE transaction once a pass of the event queue brings no more (at most
   * MAX_HOPS passes, and behind the previous batch's commit), and every member of the batch is
   * answered only once that committed (the output gate holds each answer until it is durable). A
   * request that changed nothing is answered at once when no batch is open; while one is, it joins
   * it, since its answer rests on decisions not yet durable (a failed batch rolls its locks back too).
   * If the write (or a decision) throws, the group goes back to the batch's checkpoint exactly and
   * every request of the batch is answered 503 COORDINATOR_NOT_AVAILABLE; requests parked before the
   * batch stay parked. Every other entry point (mutate, the alarm, reads) first writes the open batch
   * (`commitBatch`), so it runs on written state and in order. Mode "each" (bench only) is the
   * one-transaction-per-request path this replaced.
   */
  protected async batchedCall<T>(
    groupId: string,
    decide: (now: number, config: Config, ticket: number) => share.Decision<T>,
  ): Promise<Result<T>> {
    const config = this.config;
    if (this.commitMode === "each" || !config) return this.parkedCall(groupId, decide, "after-decision");
    const now = clock.now();
    const open = this.batch;
    const before = open ? open.before : this.group;
    share.configureShare(this.group, shareSettings(config));
    if (!open) before?.checkpoint();
    const ticket = ++this.lastTicket;
    let parked: Promise<Result<T>> | undefined;
    let result: Result<T | undefined>;
    try {
      const { group, step } = decide(now, config, ticket);
      this.group = group;
      if (step.kind === "reply") result = step.result;
      else {
        parked = new Promise((resolve) => this.parked.set(ticket, resolve as (r: Result<unknown>) => void));
        result = ok(undefined);
      }
    } catch (err) {
      this.parked.delete(ticket);
      if (open) this.failBatch(open, err);
      else this.recover(before, err, "request");
      return unavailable();
    }
    // An idle object (no commit in flight, and the last batch was one request) writes at once: its
    // latency stays the one-transaction path's. Under load, batches form over passes of the queue.
    const idle = this.committing === null && this.lastBatchSize <= 1;
    const batch = open ?? (this.leftWrites(this.group) ? this.openBatch(groupId, before, !idle) : null);
    if (!batch) {
      // Nothing to write and nothing pending: answered at once, as before.
      before?.keepChanges();
      this.deliver(this.group);
      await this.armAfter(config, now, result.ok, false);
      return parked ?? (result as Result<T>);
    }
    if (parked) batch.parked.push(ticket);
    batch.requests++;
    if (!open && idle) this.commitBatch();
    if (!(await batch.settled)) {
      this.parked.delete(ticket);
      return unavailable();
    }
    return parked ?? (result as Result<T>);
  }

  /** Whether the group left rows to write or a changed summary to stage (as `mutate` decides). */
  private leftWrites(group: Group | null): boolean {
    const rows = group !== null && (group.dirty || group.memberCount === 0);
    return rows || this.outbox.differs(group);
  }

  private openBatch(groupId: string, before: Group | null, scheduled: boolean): Batch {
    let settle: (committed: boolean) => void = () => {};
    const settled = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    const batch: Batch = { groupId, before, parked: [], requests: 0, settled, settle };
    this.batch = batch;
    if (!scheduled) return batch;
    const run = () => {
      if (this.batch !== batch) return;
      try {
        this.commitBatch();
      } catch (err) {
        // The rows could not even be reloaded: recover() answered everything and restarts the object.
        console.error("cohort: a share batch could not be recovered", String(err));
      }
    };
    // Requests whose events run before the timer fires join this batch; while each pass of the event
    // queue brings more (a request takes a few turns from its HTTP arrival to this object), it waits
    // another pass, up to MAX_HOPS; an idle object writes after one.
    // The request that opened the batch counts once batchedCall returns from here.
    let seen = 1;
    let hops = 0;
    const hop = () => {
      hops++;
      if (batch.requests === seen || hops >= MAX_HOPS) return run();
      seen = batch.requests;
      pass(hop);
    };
    const first = () => pass(hop);
    // Behind the previous batch's commit: a failed one breaks the output gate and restarts the object,
    // and this batch's callers get the restart's 503 like every call in flight.
    const waitFor = this.committing;
    if (waitFor) void waitFor.then(first, first);
    else first();
    return batch;
  }

  /**
   * Writes the open batch's rows (every request's changes, accumulated in the dirty marks) in one
   * transaction, synchronously, then answers its requests: all of them after the alarm is armed (the
   * output gate holds each answer until the commit is durable), or all with 503 after an exact
   * rollback to the batch's checkpoint.
   */
  protected override commitBatch(): void {
    const batch = this.batch;
    const config = this.config;
    if (!batch || !config) return;
    this.batch = null;
    const group = this.group;
    const rows = group !== null && (group.dirty || group.memberCount === 0);
    try {
      this.ctx.storage.transactionSync(() => {
        if (rows) this.persist(group);
        this.outbox.stage(batch.groupId, this.group, Date.now());
      });
    } catch (err) {
      this.failBatch(batch, err);
      return;
    }
    this.batchesCommitted++;
    this.lastBatchSize = batch.requests;
    if (rows) group.markSaved();
    batch.before?.keepChanges();
    this.outbox.flush();
    // What the next batch waits behind: this one's commit, until it is confirmed.
    const committing = this.ctx.storage.sync();
    this.committing = committing;
    const done = () => {
      if (this.committing === committing) this.committing = null;
    };
    void committing.then(done, done);
    this.deliver(group);
    void this.armAfter(config, clock.now(), true, rows).then(
      () => batch.settle(true),
      (err) => {
        // The rows are committed: the answers stand; the next step or alarm arms again.
        console.error("cohort: arming the alarm after a share batch failed", String(err));
        batch.settle(true);
      },
    );
  }

  /** Requests in the last batch written: 1 means idle, so the next one writes at once. */
  private lastBatchSize = 1;

  /** Batches written, for tests and benchmarks of the group commit (`stats()`). */
  protected batchesCommitted = 0;

  /** Rolls a batch back to its checkpoint and answers every one of its requests 503. */
  private failBatch(batch: Batch, err: unknown): void {
    if (this.batch === batch) this.batch = null;
    try {
      this.recover(batch.before, err, "request");
    } finally {
      for (const ticket of batch.parked) this.parked.delete(ticket);
      batch.settle(false);
    }
  }
}

/** Share requests decided together, written in one transaction and answered after it (`batchedCall`). */
interface Batch {
  groupId: string;
  /** The group as the batch's first request found it, checkpointed there: a failure goes back to it. */
  before: Group | null;
  /** Tickets the batch's requests parked: a failed batch answers them (503) instead. */
  parked: number[];
  requests: number;
  /** true once the batch committed, false once it failed and was rolled back. */
  settled: Promise<boolean>;
  settle: (committed: boolean) => void;
}

/**
 * How share requests are written (bench knob `COHORT_BENCH_SHARE_COMMIT`, BENCHMARKS.md): "group"
 * (the default) batches what arrives together, behind the previous batch's commit; "each" gives every
 * request its own transaction (the path before the group commit, kept for the ablation).
 */
type CommitMode = "group" | "each";
const commitModeOf = (env: unknown): CommitMode =>
  (env as Record<string, unknown>).COHORT_BENCH_SHARE_COMMIT === "each" ? "each" : "group";

/**
 * Runs `fn` after one pass of the event queue: the runtime's own timer (`scheduler.wait`), not the
 * `setTimeout` of nodejs_compat, which is JavaScript (~30 µs a request of the batch in the profile).
 */
const pass = (fn: () => void): void => void scheduler.wait(0).then(fn);

/** At most this many passes of the event queue between a batch's first request and its write. */
const MAX_HOPS = 4;
