/**
 * The zod schemas of API.md: one source for request validation, TypeScript types and /openapi.json.
 * Protocol-specific schemas (classic, consumer) live beside this file and reuse these building blocks.
 */

import { z } from "@hono/zod-openapi";
import { decodeCursor } from "../directory/cursor.ts";

const NAME = /^[A-Za-z0-9._-]{1,249}$/;

export const GroupId = z
  .string()
  .regex(NAME, "1-249 characters of [A-Za-z0-9._-]")
  .openapi({ example: "orders-app" });
export const Topic = z
  .string()
  .regex(NAME, "1-249 characters of [A-Za-z0-9._-]")
  .openapi({ example: "orders" });
export const Partition = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);
export const Offset = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A member id as a client sends it: cohort issues them, but static and restarted clients echo them back. */
export const MemberId = z.string().max(1024);
export const InstanceId = z.string().min(1).max(1024);
export const Generation = z
  .number()
  .int()
  .min(-1)
  .max(2 ** 31 - 1);

/** A path segment that must be a partition number. */
export const PartitionParam = z
  .string()
  .regex(/^\d{1,10}$/, "a partition number")
  .transform(Number)
  .pipe(Partition);

/** How often one query parameter may repeat: as many as one commit may carry entries. */
export const MAX_REPEATED_QUERY_VALUES = 10_000;

/** A query value that may repeat (`?topic=a&topic=b`), at most MAX_REPEATED_QUERY_VALUES times. */
export const repeated = <T extends z.ZodType>(item: T) =>
  z
    .union([item, z.array(item)])
    .refine((v) => !Array.isArray(v) || v.length <= MAX_REPEATED_QUERY_VALUES, {
      message: `a query parameter may repeat at most ${MAX_REPEATED_QUERY_VALUES} times`,
    })
    .optional()
    .transform((v) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]));

export const GroupParams = z.object({ groupId: GroupId.openapi({ param: { name: "groupId", in: "path" } }) });

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "UNKNOWN_MEMBER_ID" }),
      kafkaCode: z.number().int().nullable(),
      message: z.string(),
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      memberId: z.string().optional(),
    }),
  })
  .openapi("Error");

export const TopicPartitions = z
  .object({ topic: Topic, partitions: z.array(Partition) })
  .openapi("TopicPartitions");

// ---- offsets (API.md §3) ----

export const CommitEntry = z.object({
  topic: Topic,
  partition: Partition,
  offset: Offset,
  metadata: z.string().optional(),
  leaderEpoch: z
    .number()
    .int()
    .min(-1)
    .max(2 ** 31 - 1)
    .optional(),
  logEndOffset: Offset.optional(),
});

export const CommitBody = z
  .object({
    memberId: MemberId.optional(),
    generationId: Generation.optional(),
    memberEpoch: Generation.optional(),
    groupInstanceId: InstanceId.nullable().optional(),
    offsets: z.array(CommitEntry).min(1).max(10_000),
  })
  .openapi("OffsetCommitRequest");

export const CommitResponse = z.object({ committed: z.number().int() }).openapi("OffsetCommitResponse");

export const OffsetView = z
  .object({
    topic: Topic,
    partition: Partition,
    offset: z.number().int().openapi({ description: "-1: nothing committed" }),
    metadata: z.string(),
    leaderEpoch: z.number().int().nullable(),
    committedAt: z.number().int().nullable(),
    logEndOffset: z.number().int().nullable(),
    lag: z.number().int().nullable(),
  })
  .openapi("CommittedOffset");

export const FetchResponse = z
  .object({ groupId: GroupId, offsets: z.array(OffsetView) })
  .openapi("OffsetFetchResponse");

export const ResetBody = z
  .object({
    topic: Topic,
    partitions: z.array(Partition).min(1).max(10_000).optional(),
    to: z.enum(["earliest", "latest", "offset", "shift"]),
    offset: Offset.optional(),
    shiftBy: z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).optional(),
    dryRun: z.boolean().optional(),
  })
  .refine((b) => b.to !== "offset" || b.offset !== undefined, {
    message: '"offset" is required with to=offset',
    path: ["offset"],
  })
  .refine((b) => b.to !== "shift" || b.shiftBy !== undefined, {
    message: '"shiftBy" is required with to=shift',
    path: ["shiftBy"],
  })
  .openapi("OffsetResetRequest");

export const ResetResponse = z
  .object({
    dryRun: z.boolean(),
    offsets: z.array(
      z.object({
        topic: Topic,
        partition: Partition,
        previousOffset: z.number().int(),
        newOffset: z.number().int(),
      }),
    ),
  })
  .openapi("OffsetResetResponse");

// ---- groups (API.md §6) ----

export const GroupType = z.enum(["classic", "consumer", "share"]);

export const GroupSummary = z
  .object({ groupId: GroupId, type: GroupType, state: z.string(), members: z.number().int() })
  .openapi("GroupSummary");

/** The most groups one listing page holds (API.md §6), and its default. */
export const MAX_LIST_LIMIT = 1000;

export const ListGroupsQuery = z.object({
  state: repeated(z.string().max(64)),
  type: repeated(GroupType),
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]{0,249}$/, "0-249 characters of [A-Za-z0-9._-]")
    .optional()
    .openapi({ example: "orders-" }),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, `an integer 1-${MAX_LIST_LIMIT}`)
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_LIST_LIMIT))
    .optional()
    .openapi({ type: "integer", minimum: 1, maximum: MAX_LIST_LIMIT, default: MAX_LIST_LIMIT }),
  cursor: z
    .string()
    .max(512)
    .transform((text, ctx) => {
      const after = decodeCursor(text);
      if (after === null) {
        ctx.addIssue({ code: "custom", message: "not a nextCursor of this listing" });
        return z.NEVER;
      }
      return after;
    })
    .optional()
    .openapi({ type: "string", description: "the nextCursor of the previous page (opaque)" }),
});

export const GroupList = z
  .object({
    groups: z.array(GroupSummary),
    nextCursor: z.string().nullable().openapi({ description: "null on the last page" }),
  })
  .openapi("GroupList");

export const MemberDescription = z
  .object({
    memberId: z.string(),
    groupInstanceId: z.string().nullable(),
    clientId: z.string(),
    clientHost: z.string(),
    memberEpoch: z.number().int().optional(),
    state: z.string().optional(),
    assignment: z.union([z.array(TopicPartitions), z.string()]),
  })
  .openapi("MemberDescription");

export const GroupDescription = z
  .object({
    groupId: GroupId,
    type: GroupType,
    state: z.string(),
    generationId: z.number().int().optional(),
    groupEpoch: z.number().int().optional(),
    protocolType: z.string(),
    protocolName: z.string().optional(),
    assignor: z.string().optional(),
    leaderId: z.string().nullable(),
    members: z.array(MemberDescription),
  })
  .openapi("GroupDescription");

export const LagResponse = z
  .object({
    groupId: GroupId,
    totalLag: z.number().int(),
    partitions: z.array(
      z.object({
        topic: Topic,
        partition: Partition,
        committedOffset: z.number().int(),
        logEndOffset: z.number().int().nullable(),
        lag: z.number().int().nullable(),
        memberId: z.string().nullable(),
      }),
    ),
  })
  .openapi("GroupLag");
