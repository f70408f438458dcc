/**
 * The vocabulary of share groups (API.md §7, KIP-932), shared by the share-partition state machine,
 * the share group and the Durable Object shell. A share-partition is one topic-partition as one share
 * group sees it: its start offset (SPSO), its end offset (SPEO) and, between them, offset ranges in one
 * of four states. cohort hands out offset ranges; the consumer reads the records from its own log.
 */

import type { Config } from "../config.ts";
import type { CohortError } from "../errors.ts";

export type RecordState = "available" | "acquired" | "acknowledged" | "archived";
export type AcknowledgeType = "accept" | "release" | "reject" | "renew";
export type ArchiveReason = "rejected" | "delivery_limit" | "log_start";

/** The share settings of API.md §2, as the core uses them. */
export interface ShareSettings {
  lockDurationMs: number;
  deliveryCountLimit: number;
  /** SHARE_PARTITION_MAX_RECORD_LOCKS: offsets in flight between SPSO and SPEO, whatever their state. */
  maxInFlight: number;
  autoOffsetReset: "earliest" | "latest";
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** OFFSETS_RETENTION_MS: how long archived ranges stay listed, and an Empty share group's state is kept. */
  retentionMs: number;
}

export const shareSettings = (config: Config): ShareSettings => ({
  lockDurationMs: config.shareRecordLockDurationMs,
  deliveryCountLimit: config.shareDeliveryCountLimit,
  maxInFlight: config.sharePartitionMaxRecordLocks,
  autoOffsetReset: config.shareAutoOffsetReset,
  sessionTimeoutMs: config.shareSessionTimeoutMs,
  heartbeatIntervalMs: config.shareHeartbeatIntervalMs,
  retentionMs: config.offsetsRetentionMs,
});

/** A contiguous run of offsets handed to a member under one lock, with one delivery count. */
export interface AcquiredRecords {
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
  deliveryCount: number;
}

/** A range that was archived (dead-lettered), as the archived listing shows it. */
export interface ArchivedRange {
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
  deliveryCount: number;
  reason: ArchiveReason;
  archivedAt: number;
}

export interface AcknowledgeEntry {
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
  type: AcknowledgeType;
}

export interface AcknowledgeResult {
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
  error: CohortError | null;
}

/** Offsets in flight (between SPSO and SPEO) in each state. */
export interface InFlightCounts {
  acquired: number;
  available: number;
  acknowledged: number;
  archived: number;
}

/** A persisted range: [firstOffset, lastOffset, state, deliveryCount]. Acquired ranges are never persisted. */
export type RangeRecord = [
  first: number,
  last: number,
  state: "available" | "acknowledged" | "archived",
  count: number,
];

/**
 * The persisted row of one share-partition: what must survive a restart (API.md §7: acknowledged and
 * archived state and SPSO). An acquired range is written as `available` with the delivery count it
 * had before it was acquired, so a restart makes it available again, exactly as if never handed out.
 */
export interface SharePartitionRecord {
  topic: string;
  partition: number;
  /** SPSO; null until the partition is first acquired from (then set by SHARE_AUTO_OFFSET_RESET). */
  startOffset: number | null;
  /** SPEO: one past the highest offset ever acquired (= startOffset when nothing is in flight). */
  endOffset: number | null;
  /** The largest log end any member reported (null: none yet). */
  logEndOffset: number | null;
  /** The largest log start any member reported (null: none yet); `earliest` resets go there. */
  logStartOffset: number | null;
  /** Non-acquired state of [startOffset, endOffset): ranges, ascending, disjoint; offsets not covered are `available`. */
  ranges: RangeRecord[];
}
