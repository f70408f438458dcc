/**
 * The share-group routes of API.md §7 as the SDK sends and reads them, inferred from the coordinator's
 * zod schemas so the client and the contract cannot drift (type-only imports: no schema code reaches
 * a client bundle). The vocabulary (acknowledgement types, archive reasons) is the core's.
 */

import type { z } from "@hono/zod-openapi";
import type {
  AcknowledgeBody,
  AcknowledgeEntry as AcknowledgeEntrySchema,
  AcknowledgeResponse,
  AcknowledgeResult as AcknowledgeResultSchema,
  AcquireBody,
  AcquiredRecords as AcquiredRecordsSchema,
  AcquirePartition,
  AcquireResponse,
  ArchivedRange as ArchivedRangeSchema,
  ArchivedResponse,
  DescribeResponse,
  RedriveBody,
  ShareHeartbeatBody,
  ShareHeartbeatResponse,
  SharePartitionView,
} from "../api/share-schemas.ts";
import type { AcknowledgeType, ArchiveReason } from "../core/share/share-types.ts";
import type { MemberInfo, TopicPartitionList } from "./types.ts";

export type { AcknowledgeType, ArchiveReason };

/** Requests are what a caller may send (`z.input`). */
export type ShareHeartbeatRequest = z.input<typeof ShareHeartbeatBody>;
export type ReportedPartition = z.input<typeof AcquirePartition>;
export type AcquireRequest = z.input<typeof AcquireBody>;
export type AcknowledgeEntry = z.input<typeof AcknowledgeEntrySchema>;
export type AcknowledgeRequest = z.input<typeof AcknowledgeBody>;
export type RedriveRequest = z.input<typeof RedriveBody>;

/** Responses are what the coordinator produces (`z.output`). */
export type ShareHeartbeatResult = z.output<typeof ShareHeartbeatResponse>;
export type AcquiredRecords = z.output<typeof AcquiredRecordsSchema>;
export type AcquireResult = z.output<typeof AcquireResponse>;
/** One acknowledgement entry's outcome: all of it applied (error null), or none of it. */
export type AcknowledgeOutcome = z.output<typeof AcknowledgeResultSchema>;
export type WireError = NonNullable<AcknowledgeOutcome["error"]>;
export type AcknowledgeResult = z.output<typeof AcknowledgeResponse>;
export type ArchivedRange = z.output<typeof ArchivedRangeSchema>;
export type ArchivedPage = z.output<typeof ArchivedResponse>;
export type SharePartitionInfo = z.output<typeof SharePartitionView>;

export interface ArchivedQuery {
  topic?: string | undefined;
  /** Ranges per page (the coordinator's default when absent). */
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** A share group's member: its assignment is always a partition list. */
export type ShareMemberInfo = MemberInfo & { assignment: TopicPartitionList[] };

/** GET /v1/groups/{groupId} of a share group, as `CohortAdmin.describeShareGroup` returns it. */
export type ShareGroupInfo = Omit<z.output<typeof DescribeResponse>, "type" | "members" | "partitions"> & {
  type: "share";
  members: ShareMemberInfo[];
  partitions: SharePartitionInfo[];
};
