/**
 * The share-group routes of API.md §7 as the SDK sends and reads them. The vocabulary (ranges,
 * acknowledgement types, archive reasons) is the core's, imported as types only; what differs on the
 * wire (an error is `{code, kafkaCode, message}`, not an object) is spelled out here.
 */

import type {
  AcknowledgeEntry,
  AcknowledgeType,
  AcquiredRecords,
  ArchivedRange,
  ArchiveReason,
} from "../core/share/share-types.ts";
import type { TopicPartitionList } from "./types.ts";

export type { AcknowledgeEntry, AcknowledgeType, AcquiredRecords, ArchivedRange, ArchiveReason };

export interface ShareHeartbeatRequest {
  memberId?: string;
  /** 0 joins, -1 leaves, else the member's current epoch. */
  memberEpoch: number;
  clientId?: string;
  subscribedTopics?: { name: string; partitions: number }[];
}

export interface ShareHeartbeatResult {
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { partitions: TopicPartitionList[] };
}

/** A partition's log as the member sees it: the largest end any member reports wins. */
export interface ReportedPartition {
  topic: string;
  partition: number;
  logEndOffset?: number;
  logStartOffset?: number;
}

export interface AcquireRequest {
  memberId: string;
  /** 1 … 10000. */
  maxRecords: number;
  /** 0 … 30000: how long the coordinator may hold the request while nothing can be acquired. */
  maxWaitMs: number;
  partitions?: ReportedPartition[];
  acknowledgements?: AcknowledgeEntry[];
}

export interface WireError {
  code: string;
  kafkaCode: number | null;
  message: string;
}

/** One acknowledgement entry's outcome: all of it applied (error null), or none of it. */
export interface AcknowledgeOutcome {
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
  error: WireError | null;
}

export interface AcquireResult {
  acquisitionLockTimeoutMs: number;
  records: AcquiredRecords[];
  acknowledgements: AcknowledgeOutcome[];
}

export interface AcknowledgeResult {
  acknowledgements: AcknowledgeOutcome[];
}

export interface ArchivedPage {
  ranges: ArchivedRange[];
  nextCursor: string | null;
}

export interface ArchivedQuery {
  topic?: string | undefined;
  /** Ranges per page (the coordinator's default when absent). */
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface RedriveRequest {
  topic: string;
  partition?: number;
  firstOffset?: number;
  lastOffset?: number;
}

/** One share-partition in a share group's describe (API.md §7). */
export interface SharePartitionInfo {
  topic: string;
  partition: number;
  /** SPSO: every offset below it is done; null until first acquired from. */
  startOffset: number | null;
  endOffset?: number | null;
  logEndOffset: number | null;
  acquired: number;
  available: number;
  acknowledged: number;
  archived: number;
  lag: number | null;
}

export interface ShareMemberInfo {
  memberId: string;
  clientId: string;
  clientHost: string;
  memberEpoch?: number;
  assignment: TopicPartitionList[];
}

/** GET /v1/groups/{groupId} of a share group. */
export interface ShareGroupInfo {
  groupId: string;
  type: "share";
  state: string;
  groupEpoch?: number;
  members: ShareMemberInfo[];
  partitions: SharePartitionInfo[];
}
