/**
 * SyncGroup, Heartbeat and LeaveGroup (API.md §4), following Kafka's `GroupMetadataManager`: a sync in
 * CompletingRebalance parks until the leader's assignments arrive; heartbeats only restart the
 * session in memory (no row is written); leaves remove members by id or instance id, in batches.
 */

import { type CohortError, ERRORS, fail, type Result } from "../errors.ts";
import type { TopicPartitions } from "../group.ts";
import type { ClassicGroup } from "./classic-group.ts";
import { checkMember, settle } from "./classic-join.ts";
import {
  type ClassicContext,
  type HeartbeatRequest,
  type LeaveRequest,
  readAssignment,
  type Step,
  type SyncRequest,
  type SyncResponse,
} from "./classic-protocol.ts";
import { maybeCompleteJoinPhase, removeMemberAndRebalance } from "./classic-rebalance.ts";

const reply = <T>(result: Result<T>): Step<T> => ({ kind: "reply", result });

/** Membership and generation checks shared by sync and heartbeat (Kafka's validation order). */
function checkGeneration(
  group: ClassicGroup,
  memberId: string,
  instanceId: string | null,
  generationId: number,
): CohortError | null {
  const invalid = checkMember(group, memberId, instanceId);
  if (invalid) return invalid;
  if (generationId !== group.generationId) {
    return {
      code: "ILLEGAL_GENERATION",
      message: `generation ${generationId} is not the current generation ${group.generationId}`,
    };
  }
  return null;
}

const rebalancing = (): CohortError => ({
  code: "REBALANCE_IN_PROGRESS",
  message: "the group is rebalancing: join again",
});

function syncResponse(group: ClassicGroup, memberId: string): SyncResponse {
  return {
    protocolType: group.protocolType,
    protocolName: group.protocolName,
    assignment: group.members.get(memberId)?.assignment ?? "",
  };
}

export function syncGroup(group: ClassicGroup, req: SyncRequest, ctx: ClassicContext): Step<SyncResponse> {
  const invalid = checkGeneration(group, req.memberId, req.groupInstanceId, req.generationId);
  if (invalid) return reply({ ok: false, error: invalid });
  if (
    (req.protocolType !== undefined && req.protocolType !== group.protocolType) ||
    (req.protocolName !== undefined && req.protocolName !== group.protocolName)
  ) {
    return reply(fail("INCONSISTENT_GROUP_PROTOCOL", "protocolType/protocolName differ from the group's"));
  }
  switch (group.state) {
    case "Stable":
      // A member that lost its sync response, or a static member that took over: its assignment.
      group.pendingSync.delete(req.memberId);
      if (group.pendingSync.size === 0) group.syncDeadline = null;
      group.heardFrom(req.memberId, ctx.now);
      return reply({ ok: true, value: syncResponse(group, req.memberId) });
    case "CompletingRebalance":
      return syncCompleting(group, req, ctx);
    case "PreparingRebalance":
      return reply({ ok: false, error: rebalancing() });
    default:
      return reply(fail("UNKNOWN_MEMBER_ID", `member ${req.memberId} is not in the group`));
  }
}

function syncCompleting(group: ClassicGroup, req: SyncRequest, ctx: ClassicContext): Step<SyncResponse> {
  const leader = group.leaderId === req.memberId;
  const readable = group.protocolType === "consumer";
  const given = new Map<string, string>();
  const partitions = new Map<string, TopicPartitions[]>();
  if (leader) {
    for (const a of req.assignments) {
      given.set(a.memberId, a.assignment);
      if (!readable) continue;
      const read = readAssignment(a.assignment);
      if (typeof read === "string")
        return reply(fail("INVALID_REQUEST", `assignment of ${a.memberId}: ${read}`));
      partitions.set(a.memberId, read);
    }
  }
  group.pendingSync.delete(req.memberId);
  group.heardFrom(req.memberId, ctx.now);
  group.park("sync", req.memberId, ctx.ticket);
  if (leader) {
    // Members the leader left out get an empty assignment; ids not in the group are ignored, as in Kafka.
    const owners = group.partitionOwners();
    for (const m of group.members.values()) {
      const assignment = given.get(m.memberId) ?? "";
      const assigned = readable ? (partitions.get(m.memberId) ?? []) : null;
      if (m.assignment !== assignment || JSON.stringify(m.assignedPartitions) !== JSON.stringify(assigned)) {
        m.assignment = assignment;
        m.assignedPartitions = assigned;
        group.changed(m.memberId);
      }
    }
    group.transitionTo("Stable");
    group.history.rebalance({ generationId: group.generationId }, group.members.size, moved(owners, group));
    for (const id of [...group.awaitingSync.keys()]) {
      group.answer("sync", id, { ok: true, value: syncResponse(group, id) }, ctx.now);
    }
    if (group.pendingSync.size === 0) group.syncDeadline = null;
  }
  return settle(group, ctx.ticket);
}

export function heartbeat(
  group: ClassicGroup,
  req: HeartbeatRequest,
  ctx: ClassicContext,
): Step<Record<string, never>> {
  const invalid = checkGeneration(group, req.memberId, req.groupInstanceId, req.generationId);
  if (invalid) return reply({ ok: false, error: invalid });
  switch (group.state) {
    case "Empty":
    case "Dead":
      return reply(fail("UNKNOWN_MEMBER_ID", `member ${req.memberId} is not in the group`));
    case "PreparingRebalance":
      group.heardFrom(req.memberId, ctx.now);
      return reply({ ok: false, error: rebalancing() });
    default:
      // Stable, or CompletingRebalance (clients heartbeat between their join and sync responses).
      group.heardFrom(req.memberId, ctx.now);
      return reply({ ok: true, value: {} });
  }
}

/** A member that could not leave, with its error in API.md §1's shape (Kafka's per-member error). */
export interface LeaveFailure {
  memberId: string | null;
  groupInstanceId: string | null;
  error: { code: CohortError["code"]; kafkaCode: number | null; message: string };
}

/** `{}` when every listed member left; otherwise the ones that could not, as Kafka's LeaveGroup v3+. */
export interface LeaveResponse {
  members?: LeaveFailure[];
}

const LEAVE_MESSAGES: Partial<Record<CohortError["code"], string>> = {
  UNKNOWN_MEMBER_ID: "not a member of the group",
  FENCED_INSTANCE_ID: "the instance id is held by another member id",
};

/**
 * Removes each listed member (by member id, or by instance id as KIP-345's admin removal does). As in
 * Kafka, members that can leave do even when others in the batch cannot; the failures are reported.
 */
export function leaveGroup(group: ClassicGroup, req: LeaveRequest, ctx: ClassicContext): Step<LeaveResponse> {
  const failures: LeaveFailure[] = [];
  for (const m of req.members) {
    const memberId = m.memberId ?? "";
    const instanceId = m.groupInstanceId ?? null;
    let target: string | undefined;
    let code: CohortError["code"] | null = null;
    if (instanceId !== null) {
      target = group.staticMemberId(instanceId);
      if (target === undefined) code = "UNKNOWN_MEMBER_ID";
      else if (memberId !== "" && memberId !== target) code = "FENCED_INSTANCE_ID";
    } else if (group.pendingMembers.delete(memberId)) {
      // An issued id that never joined: the join phase no longer waits for it.
      maybeCompleteJoinPhase(group, ctx.now);
      continue;
    } else if (group.members.has(memberId)) {
      target = memberId;
    } else {
      code = "UNKNOWN_MEMBER_ID";
    }
    if (code !== null || target === undefined) {
      const failed = code ?? "UNKNOWN_MEMBER_ID";
      failures.push({
        memberId: memberId || null,
        groupInstanceId: instanceId,
        error: {
          code: failed,
          kafkaCode: ERRORS[failed].kafkaCode,
          message: LEAVE_MESSAGES[failed] ?? failed,
        },
      });
      continue;
    }
    group.history.memberLeft(
      target,
      instanceId === null ? "leave" : memberId === "" ? "admin" : "static_leave",
    );
    removeMemberAndRebalance(group, target, ctx.now);
  }
  // As Kafka: the request succeeds and names the members that could not leave, so that a leave
  // retried after a lost response is not an error.
  return reply({ ok: true, value: failures.length === 0 ? {} : { members: failures } });
}

/** Partitions whose owner the leader's assignment changed (0 where the assignment cannot be read). */
function moved(before: Map<string, string>, group: ClassicGroup): number {
  let count = 0;
  for (const [key, owner] of group.partitionOwners()) if (before.get(key) !== owner) count++;
  return count;
}
