/**
 * The GroupObject's share-group glue (API.md §7), so the object stays routing, persistence and the
 * alarm: which group a share request addresses (INCONSISTENT_GROUP_PROTOCOL across types), each share
 * route's decision as a step the object runs through its one parked-request path, the share group's
 * face for the routes of §3 and §6 (offsets are SPSOs, lag, reset, OffsetDelete), and the share rows a
 * mutation writes in the decision's transaction. Every function here is synchronous: it runs inside
 * the object's `mutate()`, at one `now`.
 */

import type { Config } from "./core/config.ts";
import { type CohortError, fail, ok, type Result } from "./core/errors.ts";
import type { Group } from "./core/group.ts";
import type { Actor } from "./core/history.ts";
import {
  byTopicPartition,
  type LagRow,
  noOffset,
  type OffsetView,
  type ResetChange,
  type ResetRequest,
} from "./core/offsets.ts";
import {
  type AcquireRequest,
  type AcquireResponse,
  ShareGroup,
  type ShareHeartbeatRequest,
  type ShareHeartbeatResponse,
} from "./core/share/share-group.ts";
import { shareHeartbeat } from "./core/share/share-heartbeat.ts";
import type {
  AcknowledgeEntry,
  AcknowledgeResult,
  ArchivedRange,
  ShareSettings,
} from "./core/share/share-types.ts";
import type { ShareStore } from "./storage/share-store.ts";

export type { AcquireRequest, AcquireResponse, ShareHeartbeatRequest, ShareHeartbeatResponse };

/** A handler's outcome: answered now, or parked until the group completes it (`takeCompletions`). */
export type Step<T> = { kind: "reply"; result: Result<T> } | { kind: "parked" };

/** A decision and the group it ran on (the object holds that group afterwards). */
export interface Decision<T> {
  group: Group | null;
  step: Step<T>;
}

export interface AcknowledgeRequest {
  memberId: string;
  acknowledgements: AcknowledgeEntry[];
}

export interface ArchivedQuery {
  topic?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface RedriveRequest {
  topic: string;
  partition?: number | undefined;
  firstOffset?: number | undefined;
  lastOffset?: number | undefined;
}

/** Archived ranges a page lists when the request does not say. */
const DEFAULT_PAGE = 1000;

export const isShareGroup = (group: Group | null): group is ShareGroup => group instanceof ShareGroup;

const reply = <T>(group: Group | null, result: Result<T>): Decision<T> => ({
  group,
  step: { kind: "reply", result },
});

/** Another protocol's request (consumer or classic heartbeat, OffsetCommit) on a share group. */
export function refuseShareGroup(group: Group | null, what: string): Result<never> | null {
  if (!isShareGroup(group)) return null;
  return fail(
    "INCONSISTENT_GROUP_PROTOCOL",
    `group ${group.groupId} is a share group: ${what} is for consumer and classic groups`,
  );
}

/**
 * The share group a share request addresses: another type's group is INCONSISTENT_GROUP_PROTOCOL
 * (whether or not it has members: its offsets are another protocol's), none is `missing`.
 */
function shareGroupOf(group: Group | null, groupId: string, missing: CohortError): Result<ShareGroup> {
  if (isShareGroup(group)) return ok(group);
  if (group) {
    return fail(
      "INCONSISTENT_GROUP_PROTOCOL",
      `group ${groupId} is a ${group.type} group: share routes are for share groups`,
    );
  }
  return { ok: false, error: missing };
}

const noMember = (groupId: string, memberId: string): CohortError => ({
  code: "UNKNOWN_MEMBER_ID",
  message: `member ${memberId} is not in share group ${groupId}: join first (memberEpoch 0)`,
});

const noGroup = (groupId: string): CohortError => ({
  code: "GROUP_ID_NOT_FOUND",
  message: `share group ${groupId} does not exist`,
});

/** Gives a share group the configuration's settings; the object calls it before every decision and alarm. */
export function configureShare(group: Group | null, settings: ShareSettings): void {
  if (isShareGroup(group)) group.configure(settings);
}

// ---- the share routes (API.md §7) ----

export function heartbeat(
  existing: Group | null,
  groupId: string,
  req: ShareHeartbeatRequest,
  now: number,
  settings: ShareSettings,
  config: Config,
): Decision<ShareHeartbeatResponse> {
  const out = shareHeartbeat(existing, groupId, req, now, settings, config, () => crypto.randomUUID());
  return reply(out.group, out.result);
}

export function acquire(
  existing: Group | null,
  groupId: string,
  req: AcquireRequest,
  now: number,
  ticket: number,
): Decision<AcquireResponse> {
  const found = shareGroupOf(existing, groupId, noMember(groupId, req.memberId));
  if (!found.ok) return reply(existing, found);
  const step = found.value.acquire(req, now, ticket);
  return { group: found.value, step };
}

export function acknowledge(
  existing: Group | null,
  groupId: string,
  req: AcknowledgeRequest,
  now: number,
): Decision<{ acknowledgements: AcknowledgeResult[] }> {
  const found = shareGroupOf(existing, groupId, noMember(groupId, req.memberId));
  if (!found.ok) return reply(existing, found);
  return reply(found.value, found.value.acknowledge(req.memberId, req.acknowledgements, now));
}

export function archived(
  existing: Group | null,
  groupId: string,
  query: ArchivedQuery,
  now: number,
): Result<{ ranges: ArchivedRange[]; nextCursor: string | null }> {
  const found = shareGroupOf(existing, groupId, noGroup(groupId));
  if (!found.ok) return found;
  return found.value.archived(query.topic, query.limit ?? DEFAULT_PAGE, query.cursor, now);
}

export function redrive(
  existing: Group | null,
  groupId: string,
  req: RedriveRequest,
  now: number,
  actor: Actor,
): Decision<{ redriven: number }> {
  const found = shareGroupOf(existing, groupId, noGroup(groupId));
  if (!found.ok) return reply(existing, found);
  return reply(found.value, found.value.redrive(req, now, actor));
}

// ---- a share group under the routes of §3 and §6 ----

/** OffsetFetch of a share group: each share-partition's SPSO as `offset` (API.md §7). */
export function offsetViews(group: ShareGroup, topics: string[] | null): OffsetView[] {
  return group
    .startOffsets(topics ?? undefined)
    .map((p) => ({
      topic: p.topic,
      partition: p.partition,
      offset: p.startOffset,
      metadata: "",
      leaderEpoch: null,
      committedAt: null,
      logEndOffset: p.logEndOffset,
      lag: p.lag,
    }))
    .sort(byTopicPartition);
}

export function offsetView(group: ShareGroup, topic: string, partition: number): OffsetView {
  return offsetViews(group, [topic]).find((v) => v.partition === partition) ?? noOffset(topic, partition);
}

/** Lag of a share group: per share-partition, from SPSO (many members share a partition: no owner). */
export function lag(group: ShareGroup): { totalLag: number; partitions: LagRow[] } {
  const partitions = offsetViews(group, null).map((v) => ({
    topic: v.topic,
    partition: v.partition,
    committedOffset: v.offset,
    logEndOffset: v.logEndOffset,
    lag: v.lag,
    memberId: null,
  }));
  return { totalLag: partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0), partitions };
}

export function reset(
  group: ShareGroup,
  req: ResetRequest,
  now: number,
  actor: Actor,
): Result<{ dryRun: boolean; offsets: ResetChange[] }> {
  const changes = group.reset(req, now, actor);
  return changes.ok ? ok({ dryRun: req.dryRun ?? false, offsets: changes.value }) : changes;
}

export function deleteOffsets(
  group: ShareGroup,
  topic: string,
  partitions: number[] | null,
  actor: Actor,
): Result<{ deleted: number }> {
  const deleted = group.deleteOffsets(topic, partitions ?? undefined, actor);
  return deleted.ok ? ok({ deleted: deleted.value }) : deleted;
}

/**
 * A share step's whole write when it is one statement (one share-partition row, the group's own rows
 * clean), for the shell to run without a transaction; else null.
 */
export function soleShareWrite(group: Group, store: ShareStore): (() => void) | null {
  if (!isShareGroup(group) || group.groupRowsDirty) return null;
  return store.soleWrite(group.dirtyShareRows());
}

/** Writes a share group's changed share rows; in the transaction of the decision that changed them. */
export function persistShare(group: Group, store: ShareStore): void {
  if (isShareGroup(group)) store.save(group.dirtyShareRows());
}
