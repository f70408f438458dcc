/**
 * What the consumer needs from a group protocol, so one consumer runs on the KIP-848 consumer protocol
 * or on the classic JoinGroup/SyncGroup protocol: join, keep the membership alive, tell the consumer
 * which partitions to own, fence its commits, and leave.
 */

import { CohortError } from "./errors.ts";
import type { TopicPartition } from "./partitions.ts";

/** The consumer side, called by a membership. */
export interface MembershipHost {
  /** Brings the owned partitions to `target`, revoking (and awaiting the listener) before assigning. */
  reconcile(target: TopicPartition[]): Promise<void>;
  /** The membership is gone (fenced, expired): partitions are lost without a commit. */
  lost(reason: CohortError): Promise<void>;
  /** The partitions the consumer owns now, as it reports them. */
  owned(): TopicPartition[];
  /** A failure the membership cannot recover from; the consumer stops. */
  fatal(error: unknown): void;
  /**
   * False while a handler has gone longer than the poll interval without progress (default true).
   * Then the member leaves at once, as Kafka's consumer does on poll timeout, and rejoins once the
   * handler returns or calls heartbeat().
   */
  live?(): boolean;
}

/** The fields an OffsetCommit needs to pass the coordinator's fencing. */
export interface CommitFence {
  memberId: string;
  generationId?: number;
  memberEpoch?: number;
  groupInstanceId?: string;
}

export interface Membership {
  readonly protocol: "consumer" | "classic";
  readonly memberId: string;
  /** Member epoch (consumer protocol) or generation (classic); 0 or -1 while not joined. */
  readonly epoch: number;
  /** Joins and starts heartbeating; resolves once the first assignment is reconciled. */
  start(): Promise<void>;
  commitFence(): CommitFence | null;
  /** Heartbeats at once (after STALE_MEMBER_EPOCH, to learn the current epoch). */
  heartbeatNow(): Promise<void>;
  /** A handler's poll interval ran out (host.live() is false): leave now, as Kafka's consumer does. */
  pollTimedOut(): void;
  /** A commit found the membership gone: report it lost and rejoin. */
  rejoin(reason: CohortError): Promise<void>;
  /** Leaves the group (a static member leaves temporarily, keeping its partitions reserved). */
  leave(): Promise<void>;
  /** Stops at once: no leave, no further requests (as a crashed process). */
  stop(): void;
}

/** Options every membership shares. */
export interface MembershipOptions {
  groupId: string;
  /** Subscribed topics and their partition counts. */
  topics: Record<string, number>;
  groupInstanceId?: string | undefined;
  clientId?: string | undefined;
  memberId?: string | undefined;
  rebalanceTimeoutMs: number;
}

/** While a member that left on poll timeout waits for its handler, how often it looks again. */
export const STALE_CHECK_MS = 100;

/**
 * The handler outlasted the poll interval; `action` says what the member did about it. Warned as
 * Kafka warns, so the cause of the rebalance is in the logs; the error is the loss's reason.
 */
export function pollTimeoutExpired(groupId: string, memberId: string, action: string): CohortError {
  const message =
    `consumer poll timeout has expired: a handler of member ${memberId} of group ${groupId} ran longer ` +
    "than rebalanceTimeoutMs (max.poll.interval.ms) without returning or calling heartbeat(); " +
    `${action}; its partitions are lost and it rejoins when the handler returns. Raise rebalanceTimeoutMs, ` +
    "fetch smaller batches (maxRecords) or call heartbeat() from long handlers.";
  console.warn(`cohort: ${message}`);
  return new CohortError({ code: "POLL_TIMEOUT_EXPIRED", kafkaCode: null, status: 0, message });
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Heartbeats serialized and coalesced: at most one in flight and one queued; a request while one is
 * queued shares it (it reads the member's state when it starts, so it carries everything the later
 * request would have). Epochs stay ordered because no two heartbeats of a member overlap.
 */
export class HeartbeatQueue {
  #queue: Promise<void> = Promise.resolve();
  #queued: Promise<void> | undefined;
  readonly #beat: () => Promise<void>;

  constructor(beat: () => Promise<void>) {
    this.#beat = beat;
  }

  /** Queues a heartbeat after any in flight and resolves when it is done. */
  now(): Promise<void> {
    if (this.#queued) return this.#queued;
    const next = this.#queue.then(() => {
      this.#queued = undefined;
      return this.#beat();
    });
    this.#queued = next;
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Resolves once every heartbeat queued so far is done (failed ones too). */
  settled(): Promise<void> {
    return this.#queue;
  }
}

/** Why a start() did not join: the last heartbeat's failure, or that it ended without joining. */
export const joinFailure = (lastError: unknown): unknown =>
  lastError ?? new CohortError({ code: "NOT_JOINED", kafkaCode: null, status: 0, message: "join failed" });
