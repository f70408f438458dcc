/**
 * The consumer group's persisted shapes (Kafka's ConsumerGroupMemberMetadata, current and target
 * assignment records, folded into one row per member), the row of a new group, and what the group
 * hands the shell: its state names and the notices it pushes. Kept apart from the group's logic so
 * both stay readable.
 */

import type { GroupRecord, TopicPartitions } from "../group.ts";
import type { PartitionMap } from "./partitions.ts";
import type { MemberAssignment } from "./reconcile.ts";

export type ConsumerGroupState = "Empty" | "Assigning" | "Reconciling" | "Stable" | "Dead";

export interface ConsumerMember extends MemberAssignment {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  subscribedTopics: string[];
  serverAssignor: string | null;
  /** The oldest epoch the member may still act on: the last one it confirmed before the server moved it on. */
  previousMemberEpoch: number;
  target: PartitionMap;
  /** A static member that left with epoch −2: its assignment waits for its instance id. */
  left: boolean;
  /** `wokeAt` of the object's life in which the member was last heard (written once per life). */
  heardIn?: number | null;
  /** The session deadline a restart kept for a member silent through a whole life; cleared when heard. */
  graceUntil?: number;
}

export interface ConsumerRecord extends GroupRecord {
  type: "consumer";
  groupEpoch: number;
  /** The group epoch the members' targets were computed for. */
  targetEpoch: number;
  assignor: string;
  /** Partition count per subscribed topic: the largest any member reported. */
  partitionCounts: Record<string, number>;
  /** CONSUMER_SESSION_TIMEOUT_MS as last seen, so a restored group can restart sessions without config. */
  sessionTimeoutMs: number;
  /** When the object last loaded the group: sessions are timed from here after a restart. */
  wokeAt?: number | null;
}

/** The row of a new group with no members, at epoch 0 with no partition counts yet. */
export function newGroupRecord(
  groupId: string,
  emptySince: number,
  assignor: string,
  sessionTimeoutMs: number,
): ConsumerRecord {
  return {
    groupId,
    type: "consumer",
    emptySince,
    groupEpoch: 0,
    targetEpoch: 0,
    assignor,
    partitionCounts: {},
    sessionTimeoutMs,
  };
}

/**
 * What the shell pushes to a member's sockets: the epoch and partitions it holds now, because they grew
 * outside its own heartbeat, or (`reconcile`) because its target moved and its next heartbeat, sent at
 * once, will bring its new assignment.
 */
export interface AssignmentNotice {
  memberId: string;
  memberEpoch: number;
  assignment: TopicPartitions[];
  reconcile?: true;
}

/** Epoch a static member shows while it is away (API.md §5). */
export const LEFT_STATIC_EPOCH = -2;
