/**
 * The consumer's fetch-and-handle loop: up to `partitionsConsumedConcurrently` partitions are handled
 * at once, each by one worker that fetches a batch and hands its records out in order, so order holds
 * within a partition. Fetches ask for no more than the in-flight budget leaves (records fetched and not
 * yet handled, over all partitions), which is the consumer's backpressure. Paused, released (revoked or
 * lost) and seeked partitions stop being handed out after the record in hand.
 */

import type {
  ConsumedRecord,
  EachBatchPayload,
  EachMessagePayload,
  RecordSource,
  RunOptions,
  SourceRecord,
} from "./consumer-types.ts";
import { keyOf, type TopicPartition } from "./partitions.ts";

export interface PartitionState extends TopicPartition {
  /** The next offset to process. */
  position: number;
  /** The last offset committed (or read from the coordinator). */
  committed: number;
  logEndOffset: number | null;
  reportedLogEnd: number | null;
  /** Bumped by every seek: records fetched before it are stale. */
  seeks: number;
  /** Revoked or lost: no further record is handed out. */
  released: boolean;
  /** No new records at the last fetch: not fetched again before this time. */
  idleUntil: number;
  worker: Promise<void> | undefined;
}

/** An offset as the SDK accepts it (seek, commit, resolveOffset): a safe non-negative integer. */
export function assertOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`bad offset ${offset}`);
}

export function newPartitionState(tp: TopicPartition, position: number, logEnd: number | null) {
  const state: PartitionState = {
    topic: tp.topic,
    partition: tp.partition,
    position,
    committed: position,
    logEndOffset: logEnd,
    reportedLogEnd: logEnd,
    seeks: 0,
    released: false,
    idleUntil: 0,
    worker: undefined,
  };
  return state;
}

/** What the runner needs of its consumer. */
export interface RunnerHost<V> {
  readonly owned: ReadonlyMap<string, PartitionState>;
  readonly paused: ReadonlySet<string>;
  readonly source: RecordSource<V>;
  stopped(): boolean;
  /** Records were marked processed: the commit strategy may commit now. */
  processed(count: number): Promise<void>;
  /** The commit strategy says a commit is due: commit. */
  commitIfDue(): Promise<void>;
  pause(tp: TopicPartition): void;
  fail(error: unknown): void;
  /** A handler's poll interval ran out (Kafka's poll timeout): the member leaves the group. */
  pollTimedOut?(): void;
}

export interface RunnerLimits {
  maxRecords: number;
  maxInFlightRecords: number;
  idleMs: number;
  /** How long a handler may go without returning or heartbeat() before the member leaves the group. */
  maxPollIntervalMs: number;
}

export class PartitionRunner<V> {
  readonly #host: RunnerHost<V>;
  readonly #limits: RunnerLimits;
  readonly #run: RunOptions<V>;
  readonly #concurrency: number;
  readonly #active = new Set<PartitionState>();
  /**
   * Partitions with a worker running, by key: a partition lost and regained gets a new state while
   * the worker of the old one may still be in its handler; no second worker starts until it ends.
   */
  readonly #busy = new Set<string>();
  /** Per partition being handled: when its handler last showed progress. */
  readonly #progress = new Map<PartitionState, number>();
  /** Fires when the oldest handler's poll interval runs out; armed only while a handler runs. */
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #inFlight = 0;
  #cursor = 0;
  #wake: (() => void) | undefined;

  constructor(host: RunnerHost<V>, limits: RunnerLimits, run: RunOptions<V>) {
    if (!run.eachMessage === !run.eachBatch)
      throw new TypeError("give exactly one of eachMessage, eachBatch");
    const concurrency = run.partitionsConsumedConcurrently ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError("partitionsConsumedConcurrently must be a positive integer");
    this.#host = host;
    this.#limits = limits;
    this.#run = run;
    this.#concurrency = concurrency;
  }

  /** Records fetched and not yet handled or dropped. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** False once a handler went longer than the poll interval without progress (Kafka's poll timeout). */
  live(): boolean {
    const now = Date.now();
    for (const at of this.#progress.values()) if (now - at > this.#limits.maxPollIntervalMs) return false;
    return true;
  }

  /** When the oldest running handler's poll interval runs out (ms since the epoch; Infinity if none runs). */
  pollDeadline(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const at of this.#progress.values()) oldest = Math.min(oldest, at);
    return oldest + this.#limits.maxPollIntervalMs;
  }

  wake(): void {
    this.#wake?.();
  }

  /** A handler shows progress (it starts, or calls heartbeat()): its poll interval starts again. */
  #alive(state: PartitionState): void {
    this.#progress.set(state, Date.now());
    this.#armPollTimer();
  }

  /**
   * One timer for all handlers, armed at the oldest one's deadline: re-armed when progress moved it,
   * left unarmed once it has fired (until a handler shows progress again) or when no handler runs.
   */
  #armPollTimer(): void {
    if (this.#pollTimer !== undefined || this.#host.stopped()) return;
    const wait = this.pollDeadline() - Date.now() + 1;
    if (wait === Number.POSITIVE_INFINITY) return;
    this.#pollTimer = setTimeout(
      () => {
        this.#pollTimer = undefined;
        if (this.live()) this.#armPollTimer();
        else if (!this.#host.stopped()) this.#host.pollTimedOut?.();
      },
      Math.max(0, wait),
    );
  }

  /** Runs until the host stops; resolves once every worker has finished. */
  async loop(): Promise<void> {
    while (!this.#host.stopped()) {
      this.#startWorkers();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, this.#limits.idleMs);
      });
    }
    await Promise.all([...this.#active].map((s) => s.worker));
    clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
  }

  /** Starts workers on runnable partitions, round-robin so every partition gets its turn. */
  #startWorkers(): void {
    const states = [...this.#host.owned.values()];
    const now = Date.now();
    const first = this.#cursor;
    for (let i = 0; i < states.length && this.#active.size < this.#concurrency; i++) {
      const state = states[(first + i) % states.length]!;
      const key = keyOf(state);
      if (state.worker || state.released || state.idleUntil > now || this.#host.paused.has(key)) continue;
      if (this.#busy.has(key)) continue;
      const budget = Math.min(this.#limits.maxRecords, this.#limits.maxInFlightRecords - this.#inFlight);
      if (budget <= 0) break;
      this.#cursor = (first + i + 1) % states.length; // the next round starts after this one
      this.#inFlight += budget; // reserved now, so concurrent fetches together stay within the cap
      this.#active.add(state);
      this.#busy.add(key);
      state.worker = this.#work(state, budget)
        .catch((error) => this.#host.fail(error))
        .finally(() => {
          state.worker = undefined;
          this.#active.delete(state);
          this.#busy.delete(key);
          this.#progress.delete(state);
          this.wake();
        });
    }
  }

  /** Whether the partition's records of the batch fetched at `seeks` may still be handed out. */
  #holds(state: PartitionState, seeks: number): boolean {
    return (
      !this.#host.stopped() &&
      !state.released &&
      state.seeks === seeks &&
      this.#host.owned.get(keyOf(state)) === state &&
      !this.#host.paused.has(keyOf(state))
    );
  }

  async #work(state: PartitionState, reserved: number): Promise<void> {
    const seeks = state.seeks;
    const from = state.position;
    let held = reserved;
    try {
      const { records, logEndOffset } = await this.#host.source.fetch(
        state.topic,
        state.partition,
        from,
        reserved,
      );
      state.logEndOffset = logEndOffset;
      const batch = records.filter((r) => r.offset >= from).slice(0, reserved);
      this.#inFlight -= held - batch.length;
      held = batch.length;
      if (batch.length === 0) {
        state.idleUntil = Date.now() + this.#limits.idleMs;
        return;
      }
      const release = (n: number) => {
        this.#inFlight -= n;
        held -= n;
      };
      if (this.#run.eachBatch) await this.#handleBatch(state, seeks, batch, logEndOffset, release);
      else await this.#handleMessages(state, seeks, batch, release);
    } finally {
      this.#inFlight -= held; // what was fetched and not handed out is dropped: it is fetched again
    }
  }

  #heartbeat(state: PartitionState) {
    return async () => {
      this.#alive(state);
    };
  }

  async #handleMessages(
    state: PartitionState,
    seeks: number,
    batch: SourceRecord<V>[],
    release: (n: number) => void,
  ): Promise<void> {
    const { topic, partition } = state;
    for (const record of batch) {
      if (!this.#holds(state, seeks)) return;
      this.#alive(state);
      const payload: EachMessagePayload<V> = {
        topic,
        partition,
        message: { ...record, topic, partition },
        heartbeat: this.#heartbeat(state),
        pause: () => this.#host.pause(state),
      };
      await this.#run.eachMessage!(payload);
      this.#progress.delete(state);
      release(1);
      // A seek from inside the handler sets the position itself.
      if (state.seeks !== seeks) return;
      state.position = record.offset + 1;
      await this.#host.processed(1);
    }
  }

  async #handleBatch(
    state: PartitionState,
    seeks: number,
    records: SourceRecord<V>[],
    highWatermark: number,
    release: (n: number) => void,
  ): Promise<void> {
    const { topic, partition } = state;
    const messages: ConsumedRecord<V>[] = records.map((r) => ({ ...r, topic, partition }));
    let resolved = 0; // records of the batch resolved so far
    const stale = () => state.released || state.seeks !== seeks || this.#host.stopped();
    // Resolving is not a sign of life (Kafka's poll is): heartbeat() and returning are.
    // As kafkajs: resolving marks that offset and the batch's records before it processed, never
    // past the batch's last record (records beyond it were not handed to this handler).
    const resolveOffset = (offset: number) => {
      assertOffset(offset);
      if (stale() || offset < state.position) return;
      let upTo = resolved;
      while (upTo < messages.length && messages[upTo]!.offset <= offset) upTo++;
      if (upTo === resolved) return;
      const count = upTo - resolved;
      resolved = upTo;
      state.position = Math.min(offset, messages[messages.length - 1]!.offset) + 1;
      release(count);
      this.#host.processed(count).catch((error) => this.#host.fail(error));
    };
    const payload: EachBatchPayload<V> = {
      batch: {
        topic,
        partition,
        messages,
        highWatermark,
        firstOffset: () => messages[0]!.offset,
        lastOffset: () => messages[messages.length - 1]!.offset,
      },
      resolveOffset,
      heartbeat: this.#heartbeat(state),
      commitOffsetsIfNecessary: () => this.#host.commitIfDue(),
      isRunning: () => this.#holds(state, seeks),
      isStale: stale,
      pause: () => this.#host.pause(state),
    };
    this.#alive(state);
    await this.#run.eachBatch!(payload);
    this.#progress.delete(state);
    if (this.#run.eachBatchAutoResolve !== false) resolveOffset(messages[messages.length - 1]!.offset);
  }
}
