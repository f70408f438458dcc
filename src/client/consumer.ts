/**
 * The cohort consumer: joins a group (KIP-848 consumer protocol by default, classic on request), reads
 * the partitions it is assigned from a user-supplied record source — cohort stores no records — and
 * commits what it processed under the group's fencing. Revocation is cooperative: pending offsets are
 * committed and `onPartitionsRevoked` is awaited before the member reports the partitions released.
 */

import { CohortAdmin } from "./admin.ts";
import { ClassicProtocolMembership } from "./classic-membership.ts";
import { CommitStrategies, type CommitStrategy, commitDue } from "./commit-strategy.ts";
import { ConsumerProtocolMembership } from "./consumer-membership.ts";
import { CohortError } from "./errors.ts";
import { backoffDelay, type ClientOptions, HttpTransport } from "./http.ts";
import { delay, type Membership, type MembershipHost } from "./membership.ts";
import { keyOf, minus, sortPartitions, type TopicPartition } from "./partitions.ts";
import { ProcessingLock } from "./processing-lock.ts";
import type { CommitRequest, CommittedOffset } from "./types.ts";

export interface SourceRecord<V = unknown> {
  offset: number;
  value: V;
  key?: string | null;
  timestamp?: number;
}

/** Where records come from: a Kafka REST proxy, Kinesis, Redis streams, R2 segments, an array… */
export interface RecordSource<V = unknown> {
  /** Up to `maxRecords` records at or after `fromOffset`, and the partition's current end offset. */
  fetch(
    topic: string,
    partition: number,
    fromOffset: number,
    maxRecords: number,
  ): Promise<{ records: SourceRecord<V>[]; logEndOffset: number }>;
}

export interface ConsumedRecord<V = unknown> extends SourceRecord<V> {
  topic: string;
  partition: number;
}

/** Kafka's ConsumerRebalanceListener; every callback is awaited. */
export interface RebalanceListener {
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  /** Called before the partitions are given up, after their pending offsets were committed. */
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  /** The membership was lost (fenced, expired): another member may already own these partitions. */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

export interface ConsumerOptions<V = unknown> extends ClientOptions {
  groupId: string;
  /** Subscribed topics and their partition counts, e.g. { orders: 12 }. */
  topics: Record<string, number>;
  source: RecordSource<V>;
  /** "consumer" (KIP-848, server-side assignment; default) or "classic" (JoinGroup/SyncGroup). */
  protocol?: "consumer" | "classic";
  /** Static membership (KIP-345): a restarted consumer with the same id takes its partitions back. */
  groupInstanceId?: string;
  clientId?: string;
  /** Consumer protocol: the server assignor (default: the coordinator's, uniform). */
  serverAssignor?: string;
  /** Classic protocol: assignors offered, by preference (default ["range"]); the leader runs one. */
  assignors?: string[];
  /** Classic protocol: session timeout (default 10 s) and heartbeat interval (default a third of it). */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** How long the member may take to give up revoked partitions (max.poll.interval.ms; default 60 s). */
  rebalanceTimeoutMs?: number;
  /** Default periodic(5000), as Kafka's auto-commit. */
  commit?: CommitStrategy;
  listener?: RebalanceListener;
  /** Records asked of the source per fetch (default 100). */
  maxRecords?: number;
  /** Where to start on a partition without a committed offset (default "earliest"). */
  autoOffsetReset?: "earliest" | "latest";
  /** Pause when no partition has new records (default 200 ms). */
  idleMs?: number;
  /** Consumer protocol: open the watch WebSocket where possible (default true). */
  watch?: boolean;
}

interface PartitionState extends TopicPartition {
  /** The next offset to process. */
  position: number;
  /** The last offset committed (or read from the coordinator). */
  committed: number;
  logEndOffset: number | null;
  reportedLogEnd: number | null;
}

/** Commits under a stale epoch are retried after a heartbeat this many times in all. */
const STALE_EPOCH_COMMIT_ATTEMPTS = 3;

const REJECTED = new Set([
  "UNKNOWN_MEMBER_ID",
  "FENCED_MEMBER_EPOCH",
  "ILLEGAL_GENERATION",
  "FENCED_INSTANCE_ID",
]);

export class CohortConsumer<V = unknown> {
  readonly admin: CohortAdmin;
  readonly #options: ConsumerOptions<V>;
  readonly #strategy: CommitStrategy;
  readonly #membership: Membership;
  readonly #owned = new Map<string, PartitionState>();
  readonly #lock = new ProcessingLock();
  #handler: ((record: ConsumedRecord<V>) => unknown) | undefined;
  #processedSinceCommit = 0;
  #stopped = false;
  #aborted = false;
  #failure: unknown;
  #loop: Promise<void> | undefined;
  #periodic: ReturnType<typeof setInterval> | undefined;
  #wake: (() => void) | undefined;
  #inBatch = false;
  /** Counts lost memberships: a reconciliation that outlived its membership must not take partitions. */
  #losses = 0;

  constructor(options: ConsumerOptions<V>) {
    this.#options = options;
    this.#strategy = options.commit ?? CommitStrategies.periodic(5_000);
    const http = new HttpTransport(options);
    this.admin = new CohortAdmin(http);
    const host: MembershipHost = {
      reconcile: (target) => this.#reconcile(target),
      lost: (reason) => this.#lose(reason),
      owned: () =>
        sortPartitions([...this.#owned.values()].map(({ topic, partition }) => ({ topic, partition }))),
      fatal: (error) => this.#fail(error),
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

  /** The partitions this consumer owns now. */
  assignment(): TopicPartition[] {
    return sortPartitions([...this.#owned.values()].map(({ topic, partition }) => ({ topic, partition })));
  }

  /** The next offset this consumer will process on a partition it owns. */
  position(topic: string, partition: number): number | undefined {
    return this.#owned.get(keyOf({ topic, partition }))?.position;
  }

  /** The group's committed offsets of the subscribed topics, as the coordinator has them. */
  async committed(): Promise<Map<string, number>> {
    const { offsets } = await this.admin.fetchOffsets(
      this.#options.groupId,
      Object.keys(this.#options.topics),
    );
    return new Map(offsets.map((o) => [`${o.topic}/${o.partition}`, o.offset]));
  }

  /** Joins the group and starts processing records with `handler`; resolves once joined. */
  async start(handler: (record: ConsumedRecord<V>) => unknown): Promise<void> {
    this.#handler = handler;
    await this.#membership.start();
    if (this.#strategy.kind === "periodic") {
      this.#periodic = setInterval(() => {
        this.#lock.run(() => this.#commitPending()).catch(() => {});
      }, this.#strategy.intervalMs);
    }
    this.#loop = this.#run();
  }

  /** Resolves when processing ends (close, abort); rejects with the failure that stopped it. */
  async done(): Promise<void> {
    await this.#loop;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * Commits every processed, uncommitted offset now. Throws CohortError if the coordinator refuses.
   * Called from inside the record handler, it commits the records before the one being handled: that
   * one counts as processed only when the handler returns, so the next commit covers it.
   */
  commit(): Promise<void> {
    // Called from the record handler, the processing loop holds the lock already.
    if (this.#inBatch) return this.#commitPending({ rethrow: true });
    return this.#lock.run(() => this.#commitPending({ rethrow: true }));
  }

  /** Commits what is pending, revokes the partitions (listener) and leaves the group. */
  async close(): Promise<void> {
    if (this.#stopped) return this.done();
    this.#halt();
    await this.#loop;
    await this.#lock.run(async () => {
      await this.#commitPending().catch(() => {});
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
    this.#wake?.();
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    this.abort();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let progressed = false;
      for (const state of [...this.#owned.values()]) {
        if (this.#stopped) break;
        try {
          progressed = (await this.#lock.run(() => this.#processLocked(state))) || progressed;
        } catch (error) {
          this.#fail(error);
        }
      }
      if (!progressed && !this.#stopped) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          setTimeout(resolve, this.#options.idleMs ?? 200);
        });
      }
    }
  }

  async #processLocked(state: PartitionState): Promise<boolean> {
    this.#inBatch = true;
    try {
      return await this.#processBatch(state);
    } finally {
      this.#inBatch = false;
    }
  }

  /** Fetches and processes one batch of a partition; false when there was nothing new. */
  async #processBatch(state: PartitionState): Promise<boolean> {
    const key = keyOf(state);
    if (this.#owned.get(key) !== state) return false;
    const { records, logEndOffset } = await this.#options.source.fetch(
      state.topic,
      state.partition,
      state.position,
      this.#options.maxRecords ?? 100,
    );
    state.logEndOffset = logEndOffset;
    let processed = 0;
    for (const record of records) {
      if (record.offset < state.position) continue;
      // Stop at once when the partition was lost or the consumer stopped; the rest is read again later.
      if (this.#stopped || this.#owned.get(key) !== state) break;
      await this.#handler!({ ...record, topic: state.topic, partition: state.partition });
      state.position = record.offset + 1;
      processed++;
      this.#processedSinceCommit++;
      if (commitDue(this.#strategy, this.#processedSinceCommit)) await this.#commitPending();
    }
    return processed > 0;
  }

  /** Commits the positions that moved (and log ends that changed, for lag). Call with the lock held. */
  async #commitPending(options: { only?: TopicPartition[]; rethrow?: boolean } = {}): Promise<void> {
    if (this.#aborted) return;
    const scope = options.only ? new Set(options.only.map(keyOf)) : null;
    const states = [...this.#owned.values()].filter(
      (s) =>
        (!scope || scope.has(keyOf(s))) && (s.position > s.committed || s.logEndOffset !== s.reportedLogEnd),
    );
    if (states.length === 0) return;
    const offsets = states.map((s) => ({
      topic: s.topic,
      partition: s.partition,
      offset: s.position,
      ...(s.logEndOffset === null ? {} : { logEndOffset: s.logEndOffset }),
    }));
    try {
      const committed = await this.#commitFenced(offsets);
      if (!committed) return; // Not a member right now: nothing may be committed.
    } catch (error) {
      if (error instanceof CohortError && REJECTED.has(error.code)) {
        // Fenced: the commit is refused and another member may own these partitions. Rejoin.
        await this.#lose(error);
        this.#membership.rejoin(error).catch(() => {});
      }
      // STALE_MEMBER_EPOCH, REBALANCE_IN_PROGRESS, 503: the offsets stay pending for the next commit.
      if (options.rethrow) throw error;
      return;
    }
    for (const s of states) {
      s.committed = s.position;
      s.reportedLogEnd = s.logEndOffset;
    }
    if (!scope) this.#processedSinceCommit = 0;
  }

  /**
   * One commit under the membership's fence; false when there is no fence. STALE_MEMBER_EPOCH means
   * the coordinator moved this member to an epoch its heartbeat has not brought yet: as Kafka does,
   * heartbeat now to learn it and commit again under it (a few times at most; then the error stands).
   */
  async #commitFenced(offsets: CommitRequest["offsets"]): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const fence = this.#membership.commitFence();
      if (!fence) return false;
      try {
        await this.admin.commitOffsets(this.#options.groupId, { ...fence, offsets });
        return true;
      } catch (error) {
        // A consumer-protocol code; a classic heartbeat could rejoin, which waits for the lock held here.
        const stale =
          error instanceof CohortError &&
          error.code === "STALE_MEMBER_EPOCH" &&
          this.#membership.protocol === "consumer";
        if (!stale || attempt >= STALE_EPOCH_COMMIT_ATTEMPTS || this.#stopped) throw error;
        await this.#membership.heartbeatNow();
      }
    }
  }

  /** Revokes (commit, listener) what is no longer assigned, then takes on what is new. */
  #reconcile(target: TopicPartition[]): Promise<void> {
    return this.#lock.run(async () => {
      if (this.#aborted) return;
      const revoked = minus(this.assignment(), target);
      const added = minus(target, this.assignment());
      if (revoked.length > 0) {
        await this.#commitPending({ only: revoked });
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
        this.#wake?.();
      }
    });
  }

  /** New partitions start at the committed offset, or per autoOffsetReset. */
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
        const logEnd = known?.logEndOffset ?? null;
        return { ...tp, position, committed: position, logEndOffset: logEnd, reportedLogEnd: logEnd };
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
    this.#owned.clear();
    this.#processedSinceCommit = 0;
    if (partitions.length > 0) await this.#options.listener?.onPartitionsLost?.(partitions);
  }
}
