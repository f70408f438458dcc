/**
 * What the consumer needs from a group protocol, so one consumer runs on the KIP-848 consumer protocol
 * or on the classic JoinGroup/SyncGroup protocol: join, keep the membership alive, tell the consumer
 * which partitions to own, fence its commits, and leave.
 */

import type { CohortError } from "./errors.ts";
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

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
