/**
 * Schemas of share groups (API.md §7, KIP-932): the heartbeat, acquire, acknowledge, the archived
 * listing and its redrive, and the share-partition view describe adds. One source for validation,
 * types and /openapi.json. Every list and number is bounded here, before a request reaches a group
 * (README, Size limits).
 */

import { z } from "@hono/zod-openapi";
import { HeartbeatResponse, MAX_SUBSCRIBED_TOPICS, SubscribedTopic } from "./consumer-schemas.ts";
import { GroupDescription, MemberId, Offset, Partition, Topic } from "./schemas.ts";

/** Offsets one acquire may hand out (API.md §7). */
export const MAX_ACQUIRE_RECORDS = 10_000;
/** How long an acquire may be held open (API.md §7). */
export const MAX_ACQUIRE_WAIT_MS = 30_000;
/** Log ends one acquire may report, and entries one request may acknowledge: as many as one commit carries. */
export const MAX_SHARE_REQUEST_ENTRIES = 10_000;
/** Archived ranges one page may list: the most a group keeps (API.md §7). */
export const MAX_ARCHIVED_PAGE = 10_000;
export const DEFAULT_ARCHIVED_PAGE = 1000;
/** A cursor is the coordinator's own short string; anything longer is not one. */
export const MAX_CURSOR_CHARS = 1024;

const Count = z.number().int().min(0);
/** An offset range of one partition, as every share request and answer names it. */
const OffsetRange = { topic: Topic, partition: Partition, firstOffset: Offset, lastOffset: Offset };

export const ShareHeartbeatBody = z
  .object({
    memberId: MemberId.optional().openapi({ description: "Generated and returned when absent on join" }),
    memberEpoch: z
      .number()
      .int()
      .min(-1)
      .max(2 ** 31 - 1)
      .openapi({ description: "0 joins, -1 leaves, otherwise the member's current epoch" }),
    clientId: z.string().max(1024).optional(),
    subscribedTopics: z.array(SubscribedTopic).max(MAX_SUBSCRIBED_TOPICS).optional(),
  })
  .openapi("ShareHeartbeatRequest");

/** The consumer heartbeat's answer (API.md §7 repeats §5's). */
export const ShareHeartbeatResponse = HeartbeatResponse.openapi("ShareHeartbeatResponse");

export const AcknowledgeType = z.enum(["accept", "release", "reject", "renew"]);

const inOrder = {
  check: (r: { firstOffset?: number | undefined; lastOffset?: number | undefined }) =>
    r.firstOffset === undefined || r.lastOffset === undefined || r.firstOffset <= r.lastOffset,
  message: { message: "firstOffset must not be past lastOffset", path: ["lastOffset"] },
};

export const AcknowledgeEntry = z
  .object({ ...OffsetRange, type: AcknowledgeType })
  .refine(inOrder.check, inOrder.message)
  .openapi("AcknowledgeEntry");

const Acknowledgements = z.array(AcknowledgeEntry).max(MAX_SHARE_REQUEST_ENTRIES);

/** An error of one acknowledgement entry, in API.md §1's shape (INVALID_RECORD_STATE). */
const EntryError = z.object({
  code: z.string(),
  kafkaCode: z.number().int().nullable(),
  message: z.string(),
});

export const AcknowledgeResult = z
  .object({ ...OffsetRange, error: EntryError.nullable() })
  .openapi("AcknowledgeResult");

export const AcquirePartition = z
  .object({
    topic: Topic,
    partition: Partition,
    logEndOffset: Offset.optional().openapi({ description: "The log's end as the member last saw it" }),
    logStartOffset: Offset.optional().openapi({ description: "The log's first offset still readable" }),
  })
  .refine((p) => p.logEndOffset === undefined || (p.logStartOffset ?? 0) <= p.logEndOffset, {
    message: "logStartOffset must not be past logEndOffset",
    path: ["logStartOffset"],
  })
  .openapi("AcquirePartition");

export const AcquireBody = z
  .object({
    memberId: MemberId.min(1),
    maxRecords: z.number().int().min(1).max(MAX_ACQUIRE_RECORDS).default(500),
    maxWaitMs: z
      .number()
      .int()
      .min(0)
      .max(MAX_ACQUIRE_WAIT_MS)
      .default(0)
      .openapi({ description: "Hold the request until something can be acquired, at most this long" }),
    partitions: z.array(AcquirePartition).max(MAX_SHARE_REQUEST_ENTRIES).optional(),
    acknowledgements: Acknowledgements.optional().openapi({ description: "Applied before acquiring" }),
  })
  .openapi("ShareAcquireRequest");

export const AcquiredRecords = z.object({ ...OffsetRange, deliveryCount: Count }).openapi("AcquiredRecords");

export const AcquireResponse = z
  .object({
    acquisitionLockTimeoutMs: z.number().int(),
    records: z.array(AcquiredRecords),
    acknowledgements: z.array(AcknowledgeResult),
  })
  .openapi("ShareAcquireResponse");

export const AcknowledgeBody = z
  .object({ memberId: MemberId.min(1), acknowledgements: Acknowledgements.min(1) })
  .openapi("ShareAcknowledgeRequest");

export const AcknowledgeResponse = z
  .object({ acknowledgements: z.array(AcknowledgeResult) })
  .openapi("ShareAcknowledgeResponse");

export const ArchivedQuery = z.object({
  topic: Topic.optional(),
  limit: z
    .string()
    .regex(/^\d{1,5}$/, "a number of ranges")
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_ARCHIVED_PAGE))
    .optional()
    .openapi({ description: `1 … ${MAX_ARCHIVED_PAGE}, default ${DEFAULT_ARCHIVED_PAGE}` }),
  cursor: z.string().min(1).max(MAX_CURSOR_CHARS).optional(),
});

export const ArchivedRange = z
  .object({
    ...OffsetRange,
    deliveryCount: Count,
    reason: z.enum(["rejected", "delivery_limit", "log_start"]),
    archivedAt: z.number().int(),
  })
  .openapi("ArchivedRange");

export const ArchivedResponse = z
  .object({ ranges: z.array(ArchivedRange), nextCursor: z.string().nullable() })
  .openapi("ShareArchivedResponse");

export const RedriveBody = z
  .object({
    topic: Topic,
    partition: Partition.optional(),
    firstOffset: Offset.optional(),
    lastOffset: Offset.optional(),
  })
  .refine(inOrder.check, inOrder.message)
  .openapi("ShareRedriveRequest");

export const RedriveResponse = z.object({ redriven: Count }).openapi("ShareRedriveResponse");

/** One share-partition as describe shows it: SPSO, SPEO and the offsets in flight by state. */
export const SharePartitionView = z
  .object({
    topic: Topic,
    partition: Partition,
    startOffset: z.number().int().nullable(),
    endOffset: z.number().int().nullable(),
    logEndOffset: z.number().int().nullable(),
    acquired: Count,
    available: Count,
    acknowledged: Count,
    archived: Count,
    lag: z.number().int().nullable(),
  })
  .openapi("SharePartitionView");

/** Describe's answer: share groups add their share-partitions. */
export const DescribeResponse = GroupDescription.extend({
  partitions: z
    .array(SharePartitionView)
    .optional()
    .openapi({ description: "Share groups only: each share-partition's state" }),
}).openapi("GroupDescriptionResponse");
