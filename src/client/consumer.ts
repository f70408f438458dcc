/**
 * The cohort consumer: joins a group (KIP-848 consumer protocol by default, classic on request), reads
 * the partitions it is assigned from a user-supplied record source — cohort stores no records — and
 * commits what it processed under the group's fencing. Revocation is cooperative: pending offsets are
 * committed and `onPartitionsRevoked` is awaited before the member reports the partitions released.
 * Records are handed out by the PartitionRunner (consumer-runner.ts): per-partition order, optional
 * concurrency across partitions, an in-flight cap, pause/resume and seek.
 */

import { CohortAdmin } from "./admin.ts";
import { ClassicProtocolMembership } from "./classic-membership.ts";
import { CommitStrategies, type CommitStrategy, commitDue } from "./commit-strategy.ts";
import { ConsumerProtocolMembership } from "./consumer-membership.ts";
import { assertOffset, newPartitionState, PartitionRunner, type PartitionState } from "./consumer-runner.ts";
import type {
  ConsumedRecord,
  ConsumerOptions,
  OffsetToCommit,
  PartitionSelector,
  RunOptions,
} from "./consumer-types.ts";
import { CohortError } from "./errors.ts";
import { backoffDelay, groupPath, HttpTransport } from "./http.ts";
import { delay, type Membership, type MembershipHost } from "./membership.ts";
import { keyOf, minus, sortPartitions, type TopicPartition } from "./partitions.ts";
import { ProcessingLock } from "./processing-lock.ts";
import type { CommitRequest, CommittedOffset } from "./types.ts";

export type * from "./consumer-types.ts";

/** Commits under a stale epoch are retried after a heartbeat this many times in all. */
const STALE_EPOCH_COMMIT_ATTEMPTS = 3;

const REJECTED = new Set([
  "UNKNOWN_MEMBER_ID",
  "FENCED_MEMBER_EPOCH",
  "ILLEGAL_GENERATION",
  "FENCED_INSTANCE_ID",
]);

const notMember = () =>
  new CohortError({
    code: "REBALANCE_IN_PROGRESS",
    kafkaCode: 27,
    status: 0,
    message: "not a member of a generation right now (joining): commit again once assigned",
  });

const aborted = () =>
  new CohortError({
    code: "CONSUMER_STOPPED",
    kafkaCode: null,
    status: 0,
    message: "the consumer was aborted (or a handler failed): it commits nothing more",
  });

export class CohortConsumer<V = unknown> {
  readonly admin: CohortAdmin;
  readonly #options: ConsumerOptions<V>;
  readonly #strategy: CommitStrategy;
  readonly #membership: Membership;
  readonly #owned = new Map<string, PartitionState>();
  readonly #paused = new Set<string>();
  /** Seeks of partitions not owned yet: applied when they are assigned. */
  readonly #pendingSeeks = new Map<string, number>();
  /** Commits take turns, so an older commit never lands after a newer one. */
  readonly #commits = new ProcessingLock();
  /** Reconciliations take turns: one revocation or assignment at a time. */
  readonly #rebalances = new ProcessingLock();
  #runner: PartitionRunner<V> | undefined;
  #processedSinceCommit = 0;
  #stopped = false;
  #aborted = false;
  #failure: unknown;
  #loop: Promise<void> | undefined;
  #periodic: ReturnType<typeof setInterval> | undefined;
  /** Counts lost memberships: a reconciliation that outlived its membership must not take partitions. */
  #losses = 0;

  constructor(options: ConsumerOptions<V>) {
    groupPath(options.groupId); // an id no path can carry is refused now, not at the first request
    const cap = options.maxInFlightRecords;
    if (cap !== undefined && cap !== Number.POSITIVE_INFINITY && (!Number.isInteger(cap) || cap < 1))
      throw new RangeError("maxInFlightRecords must be a positive integer");
    this.#options = options;
    this.#strategy = options.commit ?? CommitStrategies.periodic(5_000);
    const http = new HttpTransport(options);
    this.admin = new CohortAdmin(http);
    const host: MembershipHost = {
      reconcile: (target) => this.#reconcile(target),
      lost: (reason) => this.#lose(reason),
      owned: () => this.assignment(),
      fatal: (error) => this.#fail(error),
      live: () => this.#runner?.live() ?? true,
    };
    const shared = {
      groupId: options.groupId,
      topics: options.topics,
      groupInstanceId: options.groupInstanceId,
      clientId: options.clientId,
      rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 60_000,
    };
    this.#membership =
      options.protocol === "classic"
        ? new ClassicProtocolMembership(http, host, {
            ...shared,
            assignors: options.assignors ?? ["range"],
            sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
            heartbeatIntervalMs: options.heartbeatIntervalMs,
          })
        : new ConsumerProtocolMembership(http, host, {
            ...shared,
            serverAssignor: options.serverAssignor,
            watch: options.watch,
          });
  }

  get memberId(): string {
    return this.#membership.memberId;
  }

  /** Member epoch (consumer protocol) or generation (classic). */
  get epoch(): number {
    return this.#membership.epoch;
  }

  /** Records fetched from the source and not yet handled (bounded by maxInFlightRecords). */
  get inFlight(): number {
    return this.#runner?.inFlight ?? 0;
  }

  /** The partitions this consumer owns now. */
  assignment(): TopicPartition[] {
    return sortPartitions([...this.#owned.values()].map(({ topic, partition }) => ({ topic, partition })));
  }

  /** The next offset this consumer will process on a partition it owns. */
  position(topic: string, partition: number): number | undefined {
    return this.#owned.get(keyOf({ topic, partition }))?.position;
  }

  /** Records of an owned partition not processed yet: the source's last end offset minus the position. */
  lag(topic: string, partition: number): number | undefined {
    const state = this.#owned.get(keyOf({ topic, partition }));
    if (!state || state.logEndOffset === null) return undefined;
    return Math.max(0, state.logEndOffset - state.position);
  }

  /** The group's committed offsets of the subscribed topics ("topic/partition" → offset), or of one partition. */
  committed(): Promise<Map<string, number>>;
  committed(topic: string, partition: number): Promise<number | undefined>;
  async committed(topic?: string, partition?: number): Promise<Map<string, number> | number | undefined> {
    const topics = topic === undefined ? Object.keys(this.#options.topics) : [topic];
    const { offsets } = await this.admin.fetchOffsets(this.#options.groupId, topics);
    const all = new Map(offsets.map((o) => [`${o.topic}/${o.partition}`, o.offset]));
    return topic === undefined ? all : all.get(`${topic}/${partition}`);
  }

  /**
   * Joins the group and starts handing out records; resolves once joined. A function is an
   * eachMessage handler given the record; RunOptions take kafkajs's eachMessage or eachBatch.
   */
  async start(handler: ((record: ConsumedRecord<V>) => unknown) | RunOptions<V>): Promise<void> {
    const run: RunOptions<V> =
      typeof handler === "function" ? { eachMessage: ({ message }) => handler(message) } : handler;
    this.#runner = new PartitionRunner(
      {
        owned: this.#owned,
        paused: this.#paused,
        source: this.#options.source,
        stopped: () => this.#stopped,
        processed: (count) => this.#processed(count),
        commitIfDue: () => this.#commitIfDue(),
        pause: (tp) => this.pause([tp]),
        fail: (error) => this.#fail(error),
        pollTimedOut: () => this.#membership.pollTimedOut(),
      },
      {
        maxRecords: this.#options.maxRecords ?? 100,
        maxInFlightRecords: this.#options.maxInFlightRecords ?? Number.POSITIVE_INFINITY,
        idleMs: this.#options.idleMs ?? 200,
        maxPollIntervalMs: this.#options.rebalanceTimeoutMs ?? 60_000,
      },
      run,
    );
    await this.#membership.start();
    if (this.#strategy.kind === "periodic") {
      this.#periodic = setInterval(() => {
        this.#commits.run(() => this.#commitPending()).catch(() => {});
      }, this.#strategy.intervalMs);
    }
    this.#loop = this.#runner.loop();
  }

  /** Resolves when processing ends (close, abort); rejects with the failure that stopped it. */
  async done(): Promise<void> {
    await this.#loop;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * Without offsets: commits every processed, uncommitted offset now (called from a handler, that
   * record counts as processed only when the handler returns, so the next commit covers it).
   * With offsets: commits exactly those (each the next offset to read). Throws CohortError if the
   * coordinator refuses, REBALANCE_IN_PROGRESS for explicit offsets while the member is joining (or
   * after close), and CONSUMER_STOPPED after abort() or a handler failure.
   */
  async commit(offsets?: OffsetToCommit[]): Promise<void> {
    if (offsets === undefined) return this.#commits.run(() => this.#commitPending({ rethrow: true }));
    for (const o of offsets) assertOffset(o.offset);
    return this.#commits.run(async () => {
      // Stopped without leaving (abort, a failed handler): its member is as good as crashed.
      if (this.#aborted) throw aborted();
      const sent = offsets.map(({ topic, partition, offset, metadata }) => ({
        topic,
        partition,
        offset,
        ...(metadata === undefined ? {} : { metadata }),
      }));
      if (!(await this.#send(sent, true))) throw notMember();
      for (const o of offsets) {
        const state = this.#owned.get(keyOf(o));
        if (state) state.committed = o.offset;
      }
    });
  }

  /**
   * Moves the position of a partition: the next record handed out is at `offset`. Records of the
   * batch in hand after the current one are dropped. For a partition not owned yet, the seek applies
   * when it is assigned (instead of its committed offset). The next commit commits the new position.
   */
  seek(topic: string, partition: number, offset: number): void {
    assertOffset(offset);
    const state = this.#owned.get(keyOf({ topic, partition }));
    if (!state) {
      this.#pendingSeeks.set(keyOf({ topic, partition }), offset);
      return;
    }
    state.position = offset;
    state.seeks++;
    state.idleUntil = 0;
    this.#runner?.wake();
  }

  /** Stops fetching these partitions (no rebalance: they stay assigned) until `resume`. */
  pause(partitions: PartitionSelector[]): void {
    for (const tp of this.#select(partitions)) this.#paused.add(keyOf(tp));
  }

  resume(partitions: PartitionSelector[]): void {
    for (const tp of this.#select(partitions)) {
      this.#paused.delete(keyOf(tp));
      const state = this.#owned.get(keyOf(tp));
      if (state) state.idleUntil = 0;
    }
    this.#runner?.wake();
  }

  /** The paused partitions (owned or not). */
  paused(): TopicPartition[] {
    return sortPartitions(
      [...this.#paused].map((key) => {
        const at = key.lastIndexOf("\u0000");
        return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
      }),
    );
  }

  #select(partitions: PartitionSelector[]): TopicPartition[] {
    return partitions.flatMap((s) => {
      if ("partition" in s) return [{ topic: s.topic, partition: s.partition }];
      const all = Array.from({ length: this.#options.topics[s.topic] ?? 0 }, (_, p) => p);
      return (s.partitions ?? all).map((partition) => ({ topic: s.topic, partition }));
    });
  }

  /** Commits what is pending, revokes the partitions (listener) and leaves the group. */
  async close(): Promise<void> {
    if (this.#stopped) return this.done();
    this.#halt();
    await this.#loop;
    await this.#rebalances.run(async () => {
      await this.#commits.run(() => this.#commitPending()).catch(() => {});
      const partitions = this.assignment();
      this.#owned.clear();
      if (partitions.length > 0) await this.#options.listener?.onPartitionsRevoked?.(partitions);
    });
    await this.#membership.leave();
  }

  /**
   * Stops at once without committing or leaving, as a crashed process would: the coordinator fences
   * the member when its session expires. For a Worker about to run out of time, and for tests.
   */
  abort(): void {
    this.#aborted = true;
    this.#halt();
    this.#membership.stop();
  }

  #halt(): void {
    this.#stopped = true;
    clearInterval(this.#periodic);
    this.#runner?.wake();
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    this.abort();
  }

  async #processed(count: number): Promise<void> {
    this.#processedSinceCommit += count;
    await this.#commitIfDue();
  }

  async #commitIfDue(): Promise<void> {
    if (commitDue(this.#strategy, this.#processedSinceCommit))
      await this.#commits.run(() => this.#commitPending());
  }

  /** Commits the positions that moved (and log ends that changed, for lag). Call under #commits. */
  async #commitPending(options: { only?: TopicPartition[]; rethrow?: boolean } = {}): Promise<void> {
    if (this.#aborted) return;
    const scope = options.only ? new Set(options.only.map(keyOf)) : null;
    const states = [...this.#owned.values()].filter(
      (s) =>
        (!scope || scope.has(keyOf(s))) &&
        (s.position !== s.committed || s.logEndOffset !== s.reportedLogEnd),
    );
    if (states.length === 0) return;
    // Snapshots: handlers go on moving positions while the commit is in flight.
    const offsets = states.map((s) => ({
      topic: s.topic,
      partition: s.partition,
      offset: s.position,
      ...(s.logEndOffset === null ? {} : { logEndOffset: s.logEndOffset }),
    }));
    const processed = this.#processedSinceCommit;
    if (!(await this.#send(offsets, options.rethrow ?? false))) return;
    states.forEach((s, i) => {
      s.committed = offsets[i]!.offset;
      s.reportedLogEnd = offsets[i]!.logEndOffset ?? null;
    });
    if (!scope) this.#processedSinceCommit = Math.max(0, this.#processedSinceCommit - processed);
  }

  /**
   * Sends a commit; false when it was not sent (no membership right now) or refused retriably
   * without `rethrow`. A fenced member (refused as no longer a member) loses its partitions and rejoins.
   */
  async #send(offsets: CommitRequest["offsets"], rethrow: boolean): Promise<boolean> {
    try {
      return await this.#commitFenced(offsets);
    } catch (error) {
      if (error instanceof CohortError && REJECTED.has(error.code)) {
        await this.#lose(error);
        this.#membership.rejoin(error).catch(() => {});
      }
      // STALE_MEMBER_EPOCH, REBALANCE_IN_PROGRESS, 503: the offsets stay pending for the next commit.
      if (rethrow) throw error;
      return false;
    }
  }

  /**
   * One commit under the membership's fence; false when there is no fence. STALE_MEMBER_EPOCH means
   * the coordinator moved this member to an epoch its heartbeat has not brought yet: as Kafka does,
   * heartbeat now to learn it and commit again under it (a few times at most; then the error stands).
   */
  async #commitFenced(offsets: CommitRequest["offsets"]): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      // Past the poll interval the member counts as gone (Kafka leaves the group): nothing is committed.
      if (this.#runner?.live() === false) return false;
      const fence = this.#membership.commitFence();
      if (!fence) return false;
      try {
        await this.admin.commitOffsets(this.#options.groupId, { ...fence, offsets });
        return true;
      } catch (error) {
        // A consumer-protocol code; a classic heartbeat could rejoin, which waits for the commit held here.
        const stale =
          error instanceof CohortError &&
          error.code === "STALE_MEMBER_EPOCH" &&
          this.#membership.protocol === "consumer";
        if (!stale || attempt >= STALE_EPOCH_COMMIT_ATTEMPTS || this.#stopped) throw error;
        await this.#membership.heartbeatNow();
      }
    }
  }

  /**
   * Revokes what is no longer assigned — the record in hand finishes, pending offsets are committed,
   * then the listener runs — and takes on what is new.
   */
  #reconcile(target: TopicPartition[]): Promise<void> {
    return this.#rebalances.run(async () => {
      if (this.#aborted) return;
      const revoked = minus(this.assignment(), target);
      const added = minus(target, this.assignment());
      if (revoked.length > 0) {
        const states = revoked.map((tp) => this.#owned.get(keyOf(tp))!);
        for (const state of states) state.released = true;
        await Promise.all(states.map((s) => s.worker));
        await this.#commits.run(() => this.#commitPending({ only: revoked }));
        // A refused commit may have reported them lost already: those are not revoked too.
        const held = revoked.filter((tp) => this.#owned.has(keyOf(tp)));
        if (held.length > 0) await this.#options.listener?.onPartitionsRevoked?.(held);
        for (const tp of revoked) this.#owned.delete(keyOf(tp));
      }
      if (added.length > 0) {
        const losses = this.#losses;
        const states = await this.#startingPositions(added, losses);
        if (losses !== this.#losses) return; // Fenced meanwhile: these belong to no membership now.
        for (const state of states) this.#owned.set(keyOf(state), state);
        await this.#options.listener?.onPartitionsAssigned?.(added);
        this.#runner?.wake();
      }
    });
  }

  /** New partitions start at a pending seek, the committed offset, or per autoOffsetReset. */
  async #startingPositions(partitions: TopicPartition[], losses: number): Promise<PartitionState[]> {
    const topics = [...new Set(partitions.map((tp) => tp.topic))];
    const { offsets } = await this.#fetchCommitted(topics, losses);
    const committed = new Map(offsets.map((o) => [keyOf(o), o]));
    return Promise.all(
      partitions.map(async (tp) => {
        const known = committed.get(keyOf(tp));
        let position = known && known.offset >= 0 ? known.offset : 0;
        if ((!known || known.offset < 0) && this.#options.autoOffsetReset === "latest") {
          position = (await this.#options.source.fetch(tp.topic, tp.partition, 0, 0)).logEndOffset;
        }
        const state = newPartitionState(tp, position, known?.logEndOffset ?? null);
        const sought = this.#pendingSeeks.get(keyOf(tp));
        if (sought !== undefined) {
          this.#pendingSeeks.delete(keyOf(tp));
          state.position = sought;
        }
        return state;
      }),
    );
  }

  /**
   * The committed offsets of newly assigned partitions. A retriable failure (503, no response) is
   * retried with backoff, as Kafka refreshes committed offsets until it can: it must not stop the
   * consumer, and the partitions are not processed before their position is known. Once the
   * membership is lost the answer is moot: retrying stops.
   */
  async #fetchCommitted(topics: string[], losses: number): Promise<{ offsets: CommittedOffset[] }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.admin.fetchOffsets(this.#options.groupId, topics);
      } catch (error) {
        if (!(error instanceof CohortError) || !error.retriable || this.#stopped) throw error;
        if (losses !== this.#losses) return { offsets: [] };
        await delay(backoffDelay(this.admin.http.retry, Math.min(attempt, 6)));
      }
    }
  }

  /** Membership lost: drop everything without committing (the commits would be refused). */
  async #lose(_reason: CohortError): Promise<void> {
    this.#losses++;
    const partitions = this.assignment();
    for (const state of this.#owned.values()) state.released = true;
    this.#owned.clear();
    this.#processedSinceCommit = 0;
    if (partitions.length > 0) await this.#options.listener?.onPartitionsLost?.(partitions);
  }
}
