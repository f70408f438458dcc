/**
 * The share consumer (API.md §7, KIP-932): members of a share group take records, not partitions, so
 * any number of consumers share a topic's partitions. Each acquire carries the acknowledgements of
 * what was handled since the previous one (piggybacked), reports the assigned partitions' log ends and
 * gets offset ranges under time-limited locks; the records are read from the user's source. Locks of
 * records still waiting or in a slow handler are renewed before they end; `close()` sends what is
 * settled and leaves, so the coordinator releases the rest without counting it as a delivery.
 *
 * Modes (Kafka's share.acknowledgement.mode): `implicit` accepts every record whose handler returned;
 * `explicit` releases a record its handler left unacknowledged. In both, a throwing handler releases
 * its records (redelivered, and archived once their delivery count reaches the limit) and a record
 * may be acknowledged explicitly with accept/release/reject.
 */

import { CohortAdmin } from "./admin.ts";
import { CohortError } from "./errors.ts";
import { backoffDelay, type ClientOptions, groupPath, HttpTransport } from "./http.ts";
import type { TopicPartition } from "./partitions.ts";
import { ProcessingLock } from "./processing-lock.ts";
import { type Settlement, ShareHoldings } from "./share-holdings.ts";
import { ShareMembership } from "./share-membership.ts";
import {
  HeldShareRecord,
  lockGone,
  type RecordOwner,
  readRange,
  reportLogEnds,
  type ShareRecord,
  type ShareRecordSource,
} from "./share-records.ts";
import type {
  AcknowledgeEntry,
  AcknowledgeOutcome,
  AcknowledgeResult,
  AcknowledgeType,
  AcquireRequest,
  AcquireResult,
  ReportedPartition,
  WireError,
} from "./share-types.ts";

export type AcknowledgementMode = "implicit" | "explicit";

export interface ShareConsumerOptions<V = unknown> extends ClientOptions {
  groupId: string;
  /** Subscribed topics and their partition counts, e.g. { jobs: 12 }. */
  topics: Record<string, number>;
  source: ShareRecordSource<V>;
  clientId?: string;
  /** Default "implicit". */
  mode?: AcknowledgementMode;
  /** Offsets asked for per acquire, 1 … 10000 (default 100). */
  maxRecords?: number;
  /** How long an acquire may wait for records, 0 … 30000 (default 1000). Waiting ends early when a
   *  lock expires, a record is released or a member reports a larger log end. */
  maxWaitMs?: number;
  /** Renew the locks of records not yet acknowledged before they end (default true). */
  renewLocks?: boolean;
  /** Pause while there is nothing to do and no long poll waits (default 200 ms). */
  idleMs?: number;
  /** An acknowledgement the coordinator refused (its lock had ended: the record may be redelivered). */
  onAcknowledgementFailed?: (failure: AcknowledgementFailure) => void;
}

export interface AcknowledgementFailure {
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
  type: AcknowledgeType;
  error: WireError;
}

export interface ShareRunOptions<V = unknown> {
  /** Called per record, in offset order within a partition. */
  eachRecord?: (record: ShareRecord<V>) => unknown;
  /** Called once per acquired batch instead. */
  eachBatch?: (records: ShareRecord<V>[]) => unknown;
  mode?: AcknowledgementMode;
}

/** Entries one request may carry (API.md §7's lists are bounded; the coordinator's bound is 10,000). */
const MAX_ENTRIES = 10_000;
/** Renewal batches groups due within this fraction of the lock. */
const RENEW_SLACK = 0.1;
/** After a failed acknowledge request, the timer waits at least this long. */
const RETRY_FLOOR_MS = 250;

const LIMITS = { maxRecords: [1, 10_000], maxWaitMs: [0, 30_000] } as const;

function bounded(name: keyof typeof LIMITS, value: number | undefined, fallback: number): number {
  const [min, max] = LIMITS[name];
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`${name} must be an integer in ${min} … ${max}`);
  return v;
}

export class ShareConsumer<V = unknown> {
  readonly admin: CohortAdmin;
  readonly #options: ShareConsumerOptions<V>;
  readonly #http: HttpTransport;
  readonly #membership: ShareMembership;
  readonly #holdings = new ShareHoldings();
  /** Acquire and acknowledge requests take turns, so a settlement is never in two requests at once. */
  readonly #serial = new ProcessingLock();
  readonly #owner: RecordOwner;
  readonly #maxRecords: number;
  readonly #maxWaitMs: number;
  readonly #logEnds = new Map<string, number>();
  #mode: AcknowledgementMode;
  #lockMs = 30_000;
  #started: Promise<void> | undefined;
  #loop: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #polling = false;
  #polled: HeldShareRecord<V>[] = [];
  #stopped = false;
  #aborted = false;
  #failure: unknown;
  #wake: (() => void) | undefined;
  #parked: AbortController | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt: number | null = null;
  #notBefore = 0;
  /** Shut down: no timer may be armed again. */
  #closed = false;
  #onAbort!: () => void;
  readonly #aborting = new Promise<void>((resolve) => {
    this.#onAbort = resolve;
  });

  constructor(options: ShareConsumerOptions<V>) {
    groupPath(options.groupId); // an id no path can carry is refused now, not at the first request
    this.#options = options;
    this.#maxRecords = bounded("maxRecords", options.maxRecords, 100);
    this.#maxWaitMs = bounded("maxWaitMs", options.maxWaitMs, 1000);
    this.#mode = options.mode ?? "implicit";
    this.#http = new HttpTransport(options);
    this.admin = new CohortAdmin(this.#http);
    this.#membership = new ShareMembership(
      this.#http,
      {
        assigned: () => this.#wake?.(),
        // An unknown member's locks went with it; a fenced epoch only means rejoin: the locks stand.
        lost: (reason) => {
          if (reason.code === "UNKNOWN_MEMBER_ID") this.#holdings.clear();
        },
        fatal: (error) => this.#fail(error),
      },
      { groupId: options.groupId, topics: options.topics, clientId: options.clientId },
    );
    this.#owner = {
      settle: (record, type) => this.#settle(record, type),
      renew: (record) => this.#renewRecord(record),
    };
  }

  get memberId(): string {
    return this.#membership.memberId;
  }

  get epoch(): number {
    return this.#membership.epoch;
  }

  /** The partitions this member may acquire from now (shared with other members). */
  assignment(): TopicPartition[] {
    return [...this.#membership.assignment];
  }

  /** Offsets held under a lock and not yet acknowledged. */
  get held(): number {
    return this.#holdings.held;
  }

  /** Joins the group; resolves once joined, rejects with the failure (and stops) if it cannot. */
  start(): Promise<void> {
    this.#started ??= this.#membership.start().catch((error) => {
      this.#halt();
      throw error;
    });
    return this.#started;
  }

  /** Joins and processes records in the background until close(); resolves once joined. */
  async run(options: ShareRunOptions<V>): Promise<void> {
    if (!options.eachRecord === !options.eachBatch) throw new TypeError("give one of eachRecord, eachBatch");
    if (this.#loop || this.#polling) throw new Error("the consumer is running already");
    if (options.mode) this.#mode = options.mode;
    await this.start();
    this.#loop = this.#runLoop(options).catch((error) => this.#fail(error));
  }

  /**
   * One acquire (waiting up to maxWaitMs): the records, possibly none. The previous poll's records
   * left unacknowledged are settled first by the mode, and their acknowledgements ride on this acquire.
   */
  async poll(): Promise<ShareRecord<V>[]> {
    if (this.#loop) throw new Error("poll() and run() exclude each other");
    if (this.#polling) throw new Error("one poll() at a time");
    this.#polling = true;
    try {
      await this.start();
      this.#finish(this.#polled);
      this.#polled = [];
      if (this.#stopped) return [];
      this.#polled = (await this.#next()) ?? [];
      return this.#polled;
    } finally {
      this.#polling = false;
    }
  }

  /** Sends every acknowledgement made so far now; resolves with those the coordinator refused. */
  commit(): Promise<AcknowledgementFailure[]> {
    return this.#acknowledge({ renew: "none" });
  }

  /**
   * Resolves when processing ends (close; after abort, once the handler in flight returns); rejects
   * with the failure that stopped it.
   */
  async done(): Promise<void> {
    await this.#loop;
    await this.#closing;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * Waits for the handler in flight, sends what is acknowledged (and, in implicit mode, accepts the
   * last poll's records) and leaves the group: the coordinator releases what is still held without
   * counting it as a delivery.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** Stops at once, sending nothing (as a crashed process): its locks end after the lock duration. */
  abort(): void {
    this.#aborted = true;
    this.#onAbort();
    this.#halt();
    this.#membership.stop();
    this.#disarm();
  }

  async #shutdown(): Promise<void> {
    this.#halt();
    // An aborted consumer has nothing to send: its handler may never return (a crash), so no waiting.
    await Promise.race([this.#loop, this.#aborting]);
    if (this.#aborted) return;
    this.#finish(this.#polled);
    this.#polled = [];
    this.#holdings.forgetHeld();
    await this.#acknowledge({ renew: "none" }).catch(() => {});
    this.#closed = true;
    this.#disarm();
    await this.#membership.leave();
  }

  #halt(): void {
    this.#stopped = true;
    this.#parked?.abort();
    this.#wake?.();
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    this.#halt();
    // Leaving hands the held records back at once (without counting them) instead of at lock expiry.
    this.close().catch(() => {});
  }

  async #runLoop(run: ShareRunOptions<V>): Promise<void> {
    while (!this.#stopped) {
      const batch = await this.#next();
      if (!batch || batch.length === 0) continue;
      if (run.eachBatch) {
        try {
          await run.eachBatch(batch);
          this.#finish(batch);
        } catch {
          this.#finish(batch, "release");
        }
        continue;
      }
      for (const record of batch) {
        // Stopping: the rest stays unhandled, and the leave gives it back uncounted.
        if (this.#stopped) break;
        try {
          await run.eachRecord!(record);
          this.#finish([record]);
        } catch {
          this.#finish([record], "release");
        }
      }
    }
  }

  /** Settles what its handler left unacknowledged: by the mode, or as `type`. */
  #finish(records: readonly HeldShareRecord<V>[], type?: Settlement): void {
    if (this.#aborted) return;
    const settlement = type ?? (this.#mode === "implicit" ? "accept" : "release");
    for (const r of records) if (r.acknowledgement === undefined) r[settlement]();
  }

  /** One acquire and the records it brought, read from the source; null when nothing came. */
  async #next(): Promise<HeldShareRecord<V>[] | null> {
    const assigned = this.#membership.joined ? this.#membership.assignment : [];
    if (assigned.length === 0) {
      await this.#idle(this.#options.idleMs ?? 200);
      return null;
    }
    const reports = await reportLogEnds(this.#options.source, assigned, this.#logEnds);
    const acquired = await this.#acquire(reports);
    if (!acquired) return null;
    const { result, sentAt, maxWaitMs, carried } = acquired;
    if (result.records.length === 0) {
      // An acquire that only delivered acknowledgements is followed by a waiting one at once; one
      // empty before its wait was up (no wait, or woken for records another member took) pauses.
      const early = Date.now() - sentAt < Math.max(maxWaitMs, 1);
      if (early && !(carried && maxWaitMs === 0 && this.#maxWaitMs > 0))
        await this.#idle(this.#options.idleMs ?? 200);
      return null;
    }
    this.#lockMs = result.acquisitionLockTimeoutMs;
    this.#holdings.add(result.records, sentAt, this.#lockMs);
    this.#arm();
    const reads = await Promise.all(result.records.map((range) => readRange(this.#options.source, range)));
    const records: HeldShareRecord<V>[] = [];
    for (const read of reads) {
      const { topic, partition } = read.range;
      for (const o of read.gaps) this.#holdings.settle(topic, partition, o, "accept");
      for (const o of read.missing) this.#holdings.settle(topic, partition, o, "release");
      for (const r of read.records) records.push(new HeldShareRecord(this.#owner, read.range, r));
    }
    this.#arm();
    return records;
  }

  /** The acquire request, with the settled acknowledgements; null after a failure it recovers from. */
  async #acquire(
    partitions: ReportedPartition[],
  ): Promise<{ result: AcquireResult; sentAt: number; maxWaitMs: number; carried: boolean } | null> {
    try {
      return await this.#serial.run(async () => {
        if (this.#stopped) return null;
        const acknowledgements = this.#holdings.takeAcknowledgements(MAX_ENTRIES);
        // Wait only with nothing held (a parked request would hold up renewals) and nothing to
        // acknowledge: acknowledgements are answered at once, so close() never cuts them off unanswered.
        const idle = this.#holdings.held === 0 && acknowledgements.length === 0;
        const maxWaitMs = idle ? this.#maxWaitMs : 0;
        const body: AcquireRequest = {
          memberId: this.memberId,
          maxRecords: this.#maxRecords,
          maxWaitMs,
          partitions,
        };
        if (acknowledgements.length > 0) body.acknowledgements = acknowledgements;
        const parked = maxWaitMs > 0 ? new AbortController() : undefined;
        this.#parked = parked;
        const sentAt = Date.now();
        try {
          const result = await this.#http.request<AcquireResult>("POST", this.#path("acquire"), {
            body,
            signal: parked?.signal,
          });
          this.#outcomes(acknowledgements, [], result.acknowledgements);
          return { result, sentAt, maxWaitMs, carried: acknowledgements.length > 0 };
        } catch (error) {
          this.#holdings.unsent(acknowledgements);
          throw error;
        } finally {
          this.#parked = undefined;
          this.#arm();
        }
      });
    } catch (error) {
      if (this.#stopped) return null; // close() cut the long poll: its leave settles the rest
      await this.#recover(error);
      return null;
    }
  }

  /** UNKNOWN_MEMBER_ID: the locks went with the membership; rejoin. Retriable: back off. Else: fatal. */
  async #recover(error: unknown): Promise<void> {
    if (error instanceof CohortError && error.code === "UNKNOWN_MEMBER_ID") {
      this.#holdings.clear();
      this.#membership.rejoin(error);
      return;
    }
    if (error instanceof CohortError && error.retriable) {
      await this.#idle(backoffDelay(this.#http.retry, 3));
      return;
    }
    throw error;
  }

  /**
   * An acknowledge request: every settled offset, plus renewals — of the groups due (`due`), of one
   * group (a record's explicit renew), or none.
   */
  #acknowledge(what: { renew: "due" | "none" } | { group: number }): Promise<AcknowledgementFailure[]> {
    return this.#serial.run(async () => {
      try {
        return await this.#sendAcknowledgements(what);
      } finally {
        this.#arm();
      }
    });
  }

  async #sendAcknowledgements(
    what: { renew: "due" | "none" } | { group: number },
  ): Promise<AcknowledgementFailure[]> {
    if (this.#aborted) return [];
    if (!this.#membership.joined) {
      this.#notBefore = Date.now() + RETRY_FLOOR_MS; // rejoining: try again shortly, not at once
      return [];
    }
    const sentAt = Date.now();
    // Groups due within a tenth of the lock are renewed now too: fewer requests, and a timer that
    // fires a little early still finds its group due.
    const renew =
      "group" in what
        ? this.#holdings.renewals(sentAt, new Set([what.group]))
        : what.renew === "due" && this.#options.renewLocks !== false
          ? this.#holdings.renewals(sentAt + this.#lockMs * RENEW_SLACK)
          : { entries: [], groups: [] };
    // Renewals go whole (a group's deadline moves only if all of it was renewed); settlements fill up.
    const acks = this.#holdings.takeAcknowledgements(Math.max(0, MAX_ENTRIES - renew.entries.length));
    if (acks.length + renew.entries.length === 0) return [];
    try {
      const result = await this.#http.request<AcknowledgeResult>("POST", this.#path("acknowledge"), {
        body: { memberId: this.memberId, acknowledgements: [...acks, ...renew.entries] },
      });
      this.#holdings.renewed(renew.groups, sentAt, this.#lockMs);
      return this.#outcomes(acks, renew.entries, result.acknowledgements);
    } catch (error) {
      this.#holdings.unsent(acks);
      this.#notBefore = Date.now() + RETRY_FLOOR_MS; // no hot retry of a failing renewal
      if (error instanceof CohortError && error.code === "UNKNOWN_MEMBER_ID") {
        this.#holdings.clear();
        this.#membership.rejoin(error);
      }
      throw error;
    }
  }

  /** Applies a response's per-entry outcomes; returns (and reports) the refused settlements. */
  #outcomes(
    acks: AcknowledgeEntry[],
    renewals: AcknowledgeEntry[],
    outcomes: readonly AcknowledgeOutcome[],
  ): AcknowledgementFailure[] {
    this.#holdings.sent(acks);
    const rangeKey = (e: Omit<AcknowledgeOutcome, "error">) =>
      `${e.topic}\u0000${e.partition}\u0000${e.firstOffset}\u0000${e.lastOffset}`;
    const sent = new Map([...acks, ...renewals].map((e) => [rangeKey(e), e]));
    const failures: AcknowledgementFailure[] = [];
    for (const outcome of outcomes) {
      const entry = sent.get(rangeKey(outcome));
      if (!outcome.error || !entry) continue;
      if (entry.type === "renew") this.#holdings.drop(entry);
      const failure = { ...entry, error: outcome.error };
      failures.push(failure);
      this.#options.onAcknowledgementFailed?.(failure);
    }
    return failures;
  }

  #settle(record: HeldShareRecord<unknown>, type: Settlement): void {
    this.#holdings.settle(record.topic, record.partition, record.offset, type);
    this.#arm();
  }

  async #renewRecord(record: HeldShareRecord<unknown>): Promise<void> {
    const group = this.#holdings.groupOf(record.topic, record.partition, record.offset);
    if (group === undefined) throw lockGone(record);
    await this.#acknowledge({ group });
    if (this.#holdings.groupOf(record.topic, record.partition, record.offset) === undefined)
      throw lockGone(record);
  }

  /** Keeps one timer at the next renewal or flush the holdings need. */
  #arm(): void {
    const due = this.#holdings.nextDue(this.#options.renewLocks !== false);
    const at = due === null ? null : Math.max(due, this.#notBefore);
    if (at === this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    if (at === null || this.#aborted || this.#closed) return;
    this.#timer = setTimeout(
      () => {
        this.#timerAt = null;
        this.#acknowledge({ renew: "due" }).catch(() => {});
      },
      Math.max(0, at - Date.now()),
    );
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timerAt = null;
  }

  #idle(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #path(route: string): string {
    return `${groupPath(this.#options.groupId)}/share/${route}`;
  }
}
