/**
 * Zod schemas of the classic protocol (API.md §4): JoinGroup, SyncGroup, Heartbeat, LeaveGroup. One
 * source for request validation, TypeScript types and /openapi.json.
 */

import { z } from "@hono/zod-openapi";
import { Generation, InstanceId, MemberId } from "./schemas.ts";

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
    protocols: z.array(Protocol).max(64),
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
          assignment: z.string().openapi({
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
