/**
 * Zod schemas of the classic protocol (API.md §4): JoinGroup, SyncGroup, Heartbeat, LeaveGroup. One
 * source for request validation, TypeScript types and /openapi.json.
 */

import { z } from "@hono/zod-openapi";
import { Generation, InstanceId, MemberId } from "./schemas.ts";

/**
 * Bytes (UTF-8) a member's protocol metadata may take, summed over the protocols of one join, and that
 * one member's assignment may take in a sync: both are stored in the member's row and sent to the
 * leader, so they bound a classic member's share of the object's memory. Kafka's consumer metadata
 * is a few hundred bytes; 256 KiB holds the owned partitions of a member with ~30,000 of them.
 */
export const CLASSIC_METADATA_MAX_BYTES = 262_144;
export const CLASSIC_ASSIGNMENT_MAX_BYTES = 262_144;

const utf8 = new TextEncoder();
/** UTF-8 length, encoding only strings that could be over `max` (≤ 3 bytes per UTF-16 unit). */
const utf8Over = (text: string, max: number): boolean =>
  text.length * 3 > max && utf8.encode(text).length > max;

const TimeoutMs = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

const Protocol = z.object({
  name: z.string().min(1).max(255).openapi({ example: "range" }),
  metadata: z.string().openapi({
    description: 'For protocolType "consumer": {"topics": [...], "ownedPartitions"?, "userData"?} as JSON',
    example: '{"topics":["orders"]}',
  }),
});

export const JoinBody = z
  .object({
    memberId: MemberId.default("").openapi({ description: '"" on the first join (KIP-394)' }),
    groupInstanceId: InstanceId.nullable()
      .default(null)
      .openapi({ description: "KIP-345 static membership" }),
    clientId: z.string().max(255).default(""),
    sessionTimeoutMs: TimeoutMs.openapi({ example: 10000 }),
    rebalanceTimeoutMs: TimeoutMs.optional().openapi({ description: "defaults to sessionTimeoutMs" }),
    protocolType: z.string().max(255).openapi({ example: "consumer" }),
    protocols: z
      .array(Protocol)
      .max(64)
      .refine((ps) => !utf8Over(ps.map((p) => p.metadata).join(""), CLASSIC_METADATA_MAX_BYTES), {
        message: `protocol metadata over ${CLASSIC_METADATA_MAX_BYTES} bytes (UTF-8, all protocols together)`,
      }),
  })
  .openapi("JoinGroupRequest");

export const JoinResponse = z
  .object({
    generationId: z.number().int(),
    protocolType: z.string(),
    protocolName: z.string(),
    leaderId: z.string(),
    memberId: z.string(),
    members: z
      .array(z.object({ memberId: z.string(), groupInstanceId: z.string().nullable(), metadata: z.string() }))
      .openapi({ description: "the group's members and their metadata, for the leader only" }),
  })
  .openapi("JoinGroupResponse");

const Fencing = {
  memberId: MemberId,
  generationId: Generation,
  groupInstanceId: InstanceId.nullable().default(null),
};

export const SyncBody = z
  .object({
    ...Fencing,
    protocolType: z.string().max(255).optional(),
    protocolName: z.string().max(255).optional(),
    assignments: z
      .array(
        z.object({
          memberId: MemberId,
          assignment: z
            .string()
            .refine((a) => !utf8Over(a, CLASSIC_ASSIGNMENT_MAX_BYTES), {
              message: `an assignment over ${CLASSIC_ASSIGNMENT_MAX_BYTES} bytes (UTF-8)`,
            })
            .openapi({
              description:
                'For protocolType "consumer": {"partitions": [{"topic","partitions"}], "userData"?} as JSON',
            }),
        }),
      )
      .max(10_000)
      .default([])
      .openapi({ description: "from the leader only" }),
  })
  .openapi("SyncGroupRequest");

export const SyncResponse = z
  .object({ protocolType: z.string(), protocolName: z.string(), assignment: z.string() })
  .openapi("SyncGroupResponse");

export const HeartbeatBody = z.object(Fencing).openapi("ClassicHeartbeatRequest");

export const LeaveBody = z
  .object({
    members: z
      .array(
        z
          .object({
            memberId: MemberId.optional(),
            groupInstanceId: InstanceId.nullable().optional(),
            reason: z.string().max(1024).optional(),
          })
          .refine((m) => !!m.memberId || !!m.groupInstanceId, {
            message: "each member needs memberId or groupInstanceId",
          }),
      )
      .min(1)
      .max(10_000),
  })
  .openapi("LeaveGroupRequest");

export const Empty = z.object({}).openapi("Empty");

export const LeaveResponse = z
  .object({
    members: z
      .array(
        z.object({
          memberId: z.string().nullable(),
          groupInstanceId: z.string().nullable(),
          error: z.object({ code: z.string(), kafkaCode: z.number().int().nullable(), message: z.string() }),
        }),
      )
      .optional()
      .openapi({
        description: "Present when some listed members could not leave (Kafka's per-member errors)",
      }),
  })
  .openapi("LeaveGroupResponse");
