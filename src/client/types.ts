/**
 * The SDK's request and response types, inferred from the coordinator's zod schemas so the client and
 * the contract cannot drift. Type-only imports: no schema code reaches a client bundle.
 */

import type { z } from "@hono/zod-openapi";
import type { EventsResponse, HistoryEvent, LagHistoryResponse } from "../api/history-schemas.ts";
import type {
  CommitBody,
  CommitEntry,
  CommitResponse,
  FetchResponse,
  GroupDescription,
  GroupSummary,
  GroupType,
  LagResponse,
  MemberDescription,
  OffsetView,
  ResetBody,
  ResetResponse,
  TopicPartitions,
} from "../api/schemas.ts";

/** Requests are what a caller may send (`z.input`: before defaults and transforms). */
export type CommitRequest = z.input<typeof CommitBody>;
export type CommitOffset = z.input<typeof CommitEntry>;
export type ResetRequest = z.input<typeof ResetBody>;

/** Responses are what the coordinator produces (`z.output`). */
export type CommitResult = z.output<typeof CommitResponse>;
export type CommittedOffset = z.output<typeof OffsetView>;
export type FetchOffsetsResult = z.output<typeof FetchResponse>;
export type ResetResult = z.output<typeof ResetResponse>;
export type GroupListing = z.output<typeof GroupSummary>;
export type GroupKind = z.output<typeof GroupType>;
export type GroupInfo = z.output<typeof GroupDescription>;
export type MemberInfo = z.output<typeof MemberDescription>;
export type GroupLag = z.output<typeof LagResponse>;
export type PartitionLag = GroupLag["partitions"][number];
export type TopicPartitionList = z.output<typeof TopicPartitions>;

/** A group's history (API.md §8): a page of events, one event, the lag samples. */
export type GroupEvents = z.output<typeof EventsResponse>;
export type GroupEvent = z.output<typeof HistoryEvent>;
export type LagHistory = z.output<typeof LagHistoryResponse>;
