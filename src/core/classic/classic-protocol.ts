/**
 * The classic protocol's messages (API.md §4) and the embedded consumer protocol: for protocolType
 * "consumer" the coordinator reads the members' subscriptions and assignments, as Kafka reads
 * `ConsumerProtocolSubscription`/`ConsumerProtocolAssignment`, so describe, lag and OffsetDelete know
 * who subscribes to and owns what. Other protocol types stay opaque strings.
 */

import type { Config } from "../config.ts";
import type { Result } from "../errors.ts";
import type { TopicPartitions } from "../group.ts";

export interface ClassicProtocol {
  name: string;
  metadata: string;
}

export interface JoinRequest {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: ClassicProtocol[];
}

export interface JoinResponse {
  generationId: number;
  protocolType: string;
  protocolName: string;
  leaderId: string;
  memberId: string;
  /** Filled for the leader only. */
  members: { memberId: string; groupInstanceId: string | null; metadata: string }[];
}

export interface SyncRequest {
  memberId: string;
  generationId: number;
  groupInstanceId: string | null;
  protocolType?: string | undefined;
  protocolName?: string | undefined;
  assignments: { memberId: string; assignment: string }[];
}

export interface SyncResponse {
  protocolType: string;
  protocolName: string;
  assignment: string;
}

export interface HeartbeatRequest {
  memberId: string;
  generationId: number;
  groupInstanceId: string | null;
}

export interface LeaveRequest {
  members: { memberId?: string | undefined; groupInstanceId?: string | null | undefined }[];
}

/** What a handler needs besides the group: the clock, the limits, and the ticket of a parkable request. */
export interface ClassicContext {
  now: number;
  config: Config;
  /** Identifies this request if it is parked, so its answer can be delivered later. */
  ticket: number;
  /** Member id suffixes; injectable so tests are deterministic. */
  newId?: () => string;
}

/** A handler's outcome: an answer now, or parked until a completion for `ticket` is delivered. */
export type Step<T> = { kind: "reply"; result: Result<T> } | { kind: "parked"; ticket: number };

/** An answer owed to a parked join or sync. */
export interface Completion {
  ticket: number;
  memberId: string;
  result: Result<JoinResponse | SyncResponse>;
}

const NAME = /^[A-Za-z0-9._-]{1,249}$/;
const MAX_PARTITION = 2 ** 31 - 1;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const isPartition = (p: unknown): p is number =>
  typeof p === "number" && Number.isInteger(p) && p >= 0 && p <= MAX_PARTITION;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function readTopicPartitions(value: unknown, field: string): TopicPartitions[] | string {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return `${field} must be an array of {topic, partitions}`;
  const out: TopicPartitions[] = [];
  for (const tp of value) {
    if (!isRecord(tp) || typeof tp.topic !== "string" || !NAME.test(tp.topic)) {
      return `${field} entries need a valid topic name`;
    }
    if (!Array.isArray(tp.partitions) || !tp.partitions.every(isPartition)) {
      return `${field} entries need partitions: integers 0 … 2^31-1`;
    }
    out.push({ topic: tp.topic, partitions: [...tp.partitions] });
  }
  return out;
}

/** The topics of a "consumer" subscription `{"topics": [...], "ownedPartitions"?, "userData"?}`, or why not. */
export function readSubscription(metadata: string): string[] | string {
  const doc = parseJson(metadata);
  if (!isRecord(doc)) return "consumer protocol metadata must be a JSON object";
  if (!Array.isArray(doc.topics) || !doc.topics.every((t) => typeof t === "string" && NAME.test(t))) {
    return 'consumer protocol metadata needs "topics": an array of topic names';
  }
  const owned = readTopicPartitions(doc.ownedPartitions, "ownedPartitions");
  if (typeof owned === "string") return owned;
  if (doc.userData !== undefined && typeof doc.userData !== "string") return "userData must be a string";
  return [...new Set(doc.topics as string[])].sort();
}

/** The partitions of a "consumer" assignment `{"partitions": [...], "userData"?}`; "" is no partitions. */
export function readAssignment(assignment: string): TopicPartitions[] | string {
  if (assignment === "") return [];
  const doc = parseJson(assignment);
  if (!isRecord(doc)) return "consumer protocol assignment must be a JSON object";
  const partitions = readTopicPartitions(doc.partitions, "partitions");
  if (typeof partitions === "string") return partitions;
  if (doc.userData !== undefined && typeof doc.userData !== "string") return "userData must be a string";
  return partitions;
}

/** Whether two protocol lists are the same, in order (Kafka's `ClassicGroupMember.matches`). */
export const sameProtocols = (a: readonly ClassicProtocol[], b: readonly ClassicProtocol[]): boolean =>
  a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata === b[i]!.metadata);
