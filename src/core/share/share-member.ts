/**
 * The share group's persisted shapes (Kafka's ShareGroupMemberMetadata and target assignment records,
 * folded into one row per member), its requests and answers as the shell passes them, and what it
 * hands the shell. Kept apart from the group's logic so both stay readable.
 */

import type { PartitionMap } from "../consumer/partitions.ts";
import type { Result } from "../errors.ts";
import type { GroupRecord, TopicPartitions } from "../group.ts";
import type { SessionMarks } from "../sessions.ts";
import type { AcknowledgeEntry, AcknowledgeResult, AcquiredRecords, InFlightCounts } from "./share-types.ts";

export type ShareGroupState = "Empty" | "Stable" | "Dead";

export interface ShareMember extends SessionMarks {
  memberId: string;
  clientId: string;
  clientHost: string;
  subscribedTopics: string[];
  /** The epoch the member was last told (in its own heartbeat). */
  memberEpoch: number;
  /** The epoch told before that: a retry after a lost response may still send it. */
  previousMemberEpoch: number;
  /** The group epoch at which `assignment` last changed: the member is told it at its next heartbeat. */
  assignmentEpoch: number;
  /** Partitions the simple assignor gives the member now (acquire uses these at once). */
  assignment: PartitionMap;
}

export interface ShareRecord extends GroupRecord {
  type: "share";
  groupEpoch: number;
  /** Partition count per subscribed topic: the largest any member reported. */
  partitionCounts: Record<string, number>;
  /** SHARE_SESSION_TIMEOUT_MS as last seen, so a restored group restarts sessions without settings. */
  sessionTimeoutMs: number;
  /** When the object last loaded the group: sessions are timed from here after a restart. */
  wokeAt?: number | null;
}

export interface ShareHeartbeatRequest {
  memberId?: string | undefined;
  memberEpoch: number;
  clientId?: string | undefined;
  /** Set by the shell from the connection, never by the client. */
  clientHost?: string | undefined;
  subscribedTopics?: { name: string; partitions: number }[] | undefined;
}

export interface ShareHeartbeatResponse {
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { partitions: TopicPartitions[] };
}

export interface AcquirePartition {
  topic: string;
  partition: number;
  logEndOffset?: number | undefined;
  logStartOffset?: number | undefined;
}

export interface AcquireRequest {
  memberId: string;
  maxRecords: number;
  maxWaitMs: number;
  partitions?: AcquirePartition[] | undefined;
  acknowledgements?: AcknowledgeEntry[] | undefined;
}

export interface AcquireResponse {
  acquisitionLockTimeoutMs: number;
  records: AcquiredRecords[];
  acknowledgements: AcknowledgeResult[];
}

/** An acquire's outcome: the answer now, or parked until a completion for its ticket is taken. */
export type AcquireStep = { kind: "reply"; result: Result<AcquireResponse> } | { kind: "parked" };

/** The answer owed to a parked acquire (woken, timed out, superseded, or its member removed). */
export interface AcquireCompletion {
  ticket: number;
  result: Result<AcquireResponse>;
}

/** A parked acquire: what its retry needs, and the acknowledgement results its answer carries. */
export interface ParkedAcquire {
  ticket: number;
  maxRecords: number;
  acknowledgements: AcknowledgeResult[];
}

/** A member removed from the group: its next call gets UNKNOWN_MEMBER_ID. */
export interface ShareRemoval {
  memberId: string;
  reason: "session" | "left";
}

/** One share-partition in describe (API.md §7). */
export interface SharePartitionView extends InFlightCounts {
  topic: string;
  partition: number;
  startOffset: number | null;
  endOffset: number | null;
  logEndOffset: number | null;
  lag: number | null;
}

/** Epoch a leaving member sends (API.md §7). */
export const SHARE_LEAVE_EPOCH = -1;
