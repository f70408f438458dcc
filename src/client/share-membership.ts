/**
 * A share group membership (API.md §7): one heartbeat route joins (epoch 0), keeps the session and
 * brings the assignment; -1 leaves. Heartbeats are serialized and coalesced (one in flight, one
 * queued) and run every `heartbeatIntervalMs` the coordinator returns. There is nothing to reconcile:
 * records, not partitions, are exclusive in a share group, so a new assignment is used at once.
 */

import { CohortError } from "./errors.ts";
import { groupPath, type HttpTransport } from "./http.ts";
import { HeartbeatQueue, joinFailure } from "./membership.ts";
import { flatten, type TopicPartition } from "./partitions.ts";
import type { ShareHeartbeatRequest, ShareHeartbeatResult } from "./share-types.ts";

export interface ShareMembershipOptions {
  groupId: string;
  topics: Record<string, number>;
  clientId?: string | undefined;
  memberId?: string | undefined;
}

export interface ShareMembershipHost {
  /** The assignment changed (it may be empty). */
  assigned(partitions: TopicPartition[]): void;
  /** The membership must be joined again: UNKNOWN_MEMBER_ID (its locks are gone with it) or
   *  FENCED_MEMBER_EPOCH (a rejoin under the same id keeps them). */
  lost(reason: CohortError): void;
  /** A failure heartbeats cannot recover from; the consumer stops. */
  fatal(error: unknown): void;
}

const LEAVE_EPOCH = -1;

export class ShareMembership {
  memberId: string;
  epoch = 0;
  assignment: TopicPartition[] = [];
  #intervalMs = 5_000;
  readonly #beats = new HeartbeatQueue(() => this.#beat());
  #lastError: unknown;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  readonly #http: HttpTransport;
  readonly #host: ShareMembershipHost;
  readonly #options: ShareMembershipOptions;

  constructor(http: HttpTransport, host: ShareMembershipHost, options: ShareMembershipOptions) {
    this.#http = http;
    this.#host = host;
    this.#options = options;
    // The client names itself (as KIP-848 members do): a lost join response leaves no ghost behind.
    this.memberId = options.memberId ?? crypto.randomUUID();
  }

  get joined(): boolean {
    return this.epoch > 0 && !this.#stopped;
  }

  /** The first heartbeat; rejects with its failure (then nothing joins later in the background). */
  async start(): Promise<void> {
    this.#lastError = undefined;
    await this.heartbeatNow();
    if (this.#stopped || this.epoch > 0) return;
    this.stop();
    throw joinFailure(this.#lastError);
  }

  /** Queues a heartbeat behind the one in flight (coalesced: see HeartbeatQueue). */
  heartbeatNow(): Promise<void> {
    return this.#beats.now();
  }

  /** Something else (an acquire) learned the member is unknown: rejoin at once. */
  rejoin(reason: CohortError): void {
    if (this.#stopped || this.epoch === 0) return;
    this.#reset(reason);
    this.heartbeatNow().catch(() => {});
  }

  /** Leaves (epoch -1): the coordinator releases this member's locks without counting deliveries. */
  async leave(): Promise<void> {
    await this.#beats.settled();
    const joined = this.epoch > 0;
    this.stop();
    if (!joined) return;
    const body: ShareHeartbeatRequest = { memberId: this.memberId, memberEpoch: LEAVE_EPOCH };
    // Best effort: the session timeout removes the member anyway (its locks then count as deliveries).
    await this.#http.request("POST", this.#path(), { body }).catch(() => {});
    this.epoch = 0;
  }

  /** No further heartbeats, no leave (as a crashed process). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #path(): string {
    return `${groupPath(this.#options.groupId)}/share/heartbeat`;
  }

  async #beat(): Promise<void> {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    const o = this.#options;
    const body: ShareHeartbeatRequest = { memberId: this.memberId, memberEpoch: this.epoch };
    if (o.clientId !== undefined) body.clientId = o.clientId;
    // Sent on every heartbeat, as Kafka's share consumer does: partition counts may grow.
    body.subscribedTopics = Object.entries(o.topics).map(([name, partitions]) => ({ name, partitions }));
    let result: ShareHeartbeatResult;
    try {
      result = await this.#http.request<ShareHeartbeatResult>("POST", this.#path(), { body });
    } catch (error) {
      this.#onError(error);
      return;
    }
    if (this.#stopped) return;
    this.memberId = result.memberId;
    this.epoch = result.memberEpoch;
    this.#intervalMs = result.heartbeatIntervalMs;
    this.#soon(this.#intervalMs);
    const next = flatten(result.assignment.partitions);
    const same =
      next.length === this.assignment.length &&
      next.every(
        (tp, i) => tp.topic === this.assignment[i]!.topic && tp.partition === this.assignment[i]!.partition,
      );
    if (!same) {
      this.assignment = next;
      this.#host.assigned(next);
    }
  }

  #onError(error: unknown): void {
    this.#lastError = error;
    if (!(error instanceof CohortError)) {
      this.#host.fatal(error);
    } else if (error.code === "UNKNOWN_MEMBER_ID" || error.code === "FENCED_MEMBER_EPOCH") {
      if (this.epoch === 0) {
        this.#host.fatal(error); // refused while joining: there is nothing to rejoin
        return;
      }
      this.#reset(error);
      this.#soon(0);
    } else if (error.retriable) {
      this.#soon(this.#intervalMs); // the transport retried already; the next beat tries again
    } else {
      this.#host.fatal(error);
    }
  }

  #reset(reason: CohortError): void {
    this.epoch = 0;
    this.assignment = [];
    this.#host.assigned([]);
    this.#host.lost(reason);
  }

  #soon(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.heartbeatNow().catch(() => {});
    }, ms);
  }
}
