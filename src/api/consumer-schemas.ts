/**
 * Schemas of the consumer protocol (API.md §5): the heartbeat request and response, and the WebSocket
 * messages. One source for HTTP validation, WebSocket message validation and /openapi.json.
 */

import { z } from "@hono/zod-openapi";
import { GroupParams, InstanceId, MemberId, Topic, TopicPartitions } from "./schemas.ts";

/** Upper bounds that keep one request's assignment work bounded (the API leaves them to cohort). */
export const MAX_TOPIC_PARTITIONS = 100_000;
export const MAX_SUBSCRIBED_TOPICS = 1000;

export const SubscribedTopic = z
  .object({ name: Topic, partitions: z.number().int().min(0).max(MAX_TOPIC_PARTITIONS) })
  .openapi("SubscribedTopic");

export const HeartbeatBody = z
  .object({
    memberId: MemberId.optional().openapi({ description: "Generated and returned when absent on join" }),
    memberEpoch: z
      .number()
      .int()
      .min(-2)
      .max(2 ** 31 - 1)
      .openapi({ description: "0 joins, -1 leaves, -2 leaves temporarily (static members)" }),
    groupInstanceId: InstanceId.nullable().optional(),
    clientId: z.string().max(1024).optional(),
    rebalanceTimeoutMs: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
    subscribedTopics: z.array(SubscribedTopic).max(MAX_SUBSCRIBED_TOPICS).optional(),
    serverAssignor: z.string().max(249).nullable().optional(),
    ownedPartitions: z.array(TopicPartitions).max(MAX_SUBSCRIBED_TOPICS).optional(),
  })
  .openapi("ConsumerHeartbeatRequest");

export const HeartbeatResponse = z
  .object({
    memberId: z.string(),
    memberEpoch: z.number().int(),
    heartbeatIntervalMs: z.number().int(),
    assignment: z.object({ partitions: z.array(TopicPartitions) }),
  })
  .openapi("ConsumerHeartbeatResponse");

export const WatchParams = GroupParams.extend({
  memberId: MemberId.min(1)
    .max(256, "at most 256 characters (a WebSocket tag)")
    .openapi({ param: { name: "memberId", in: "path" } }),
});

/** A heartbeat sent over the watch WebSocket. */
export const HeartbeatMessage = HeartbeatBody.extend({ type: z.literal("heartbeat") });

/** What the object pushes when a member's epoch or assignment changes. */
export const AssignmentPush = z
  .object({
    type: z.literal("assignment"),
    memberEpoch: z.number().int(),
    assignment: z.object({ partitions: z.array(TopicPartitions) }),
  })
  .openapi("AssignmentPush");
