/**
 * The consumer-group heartbeat of API.md §5 (Kafka's `GroupMetadataManager.consumerGroupHeartbeat`):
 * join (epoch 0), heartbeat, leave (−1) and static leave (−2), with the member-epoch fencing rules.
 * A request is validated completely before anything changes, so a refused heartbeat changes nothing.
 */

import { getAssignor } from "../../assignors/index.ts";
import type { Config } from "../config.ts";
import { fail, ok, type Result } from "../errors.ts";
import type { Group, TopicPartitions } from "../group.ts";
import { checkConsumerLimits } from "../limits.ts";
import { ConsumerGroup, type ConsumerMember, LEFT_STATIC_EPOCH } from "./consumer-group.ts";
import { fromList, isSubset, noPartitions, toList } from "./partitions.ts";

export const LEAVE_EPOCH = -1;

export interface SubscribedTopic {
  name: string;
  partitions: number;
}

export interface HeartbeatRequest {
  memberId?: string | undefined;
  memberEpoch: number;
  groupInstanceId?: string | null | undefined;
  clientId?: string | undefined;
  /** Set by the shell from the connection, never by the client. */
  clientHost?: string | undefined;
  rebalanceTimeoutMs?: number | undefined;
  subscribedTopics?: SubscribedTopic[] | undefined;
  serverAssignor?: string | null | undefined;
  ownedPartitions?: TopicPartitions[] | undefined;
}

export interface HeartbeatResponse {
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { partitions: TopicPartitions[] };
}

/** Kafka's default max.poll.interval.ms, used when a joining member does not say. */
export const DEFAULT_REBALANCE_TIMEOUT_MS = 300_000;

/**
 * Routes a heartbeat to the consumer group behind `existing`: a classic group with members refuses it;
 * a group that only holds offsets (or none) becomes a consumer group once a heartbeat succeeds.
 * Returns the group the object should hold afterwards.
 */
export function consumerHeartbeat(
  existing: Group | null,
  groupId: string,
  req: HeartbeatRequest,
  now: number,
  config: Config,
  newMemberId: () => string,
): { group: Group | null; result: Result<HeartbeatResponse> } {
  if (existing instanceof ConsumerGroup) {
    return { group: existing, result: heartbeat(existing, req, now, config, newMemberId) };
  }
  if (existing && existing.memberCount > 0) {
    return {
      group: existing,
      result: fail(
        "INCONSISTENT_GROUP_PROTOCOL",
        `group ${groupId} is a ${existing.type} group with members: it cannot take consumer-protocol heartbeats`,
      ),
    };
  }
  const candidate = ConsumerGroup.create(
    groupId,
    now,
    existing?.emptySince ?? now,
    config.consumerSessionTimeoutMs,
  );
  const result = heartbeat(candidate, req, now, config, newMemberId);
  return { group: result.ok ? candidate : existing, result };
}

export function heartbeat(
  group: ConsumerGroup,
  req: HeartbeatRequest,
  now: number,
  config: Config,
  newMemberId: () => string,
): Result<HeartbeatResponse> {
  if (req.serverAssignor && !getAssignor(req.serverAssignor)) {
    return fail("UNSUPPORTED_ASSIGNOR", `no server assignor named ${req.serverAssignor}`);
  }
  const limited = checkConsumerLimits(group, req, config);
  if (limited) return { ok: false, error: limited };
  group.noteSessionTimeout(config.consumerSessionTimeoutMs);
  const respond = (m: { memberId: string; memberEpoch: number; assigned: Record<string, number[]> }) =>
    ok({
      memberId: m.memberId,
      memberEpoch: m.memberEpoch,
      heartbeatIntervalMs: config.consumerHeartbeatIntervalMs,
      assignment: { partitions: toList(m.assigned) },
    });
  if (req.memberEpoch === LEAVE_EPOCH || req.memberEpoch === LEFT_STATIC_EPOCH) {
    const left = leave(group, req, now);
    return left.ok ? respond({ ...left.value, assigned: {} }) : left;
  }
  const joined = req.memberEpoch === 0 ? join(group, req, now, config, newMemberId) : beat(group, req, now);
  if (!joined.ok) return joined;
  const member = joined.value;
  // A new member moves the epoch once, whatever else its join changes.
  if (applyUpdates(group, member, req) || joined.isNew) group.bumpEpoch();
  group.settle(now, { memberId: member.memberId, reported: joined.reported });
  return respond(member);
}

type Admitted = Result<ConsumerMember> & { reported?: Record<string, number[]> | undefined; isNew?: boolean };

function join(
  group: ConsumerGroup,
  req: HeartbeatRequest,
  now: number,
  config: Config,
  newMemberId: () => string,
): Admitted {
  if (!req.subscribedTopics || !req.ownedPartitions) {
    return fail(
      "INVALID_REQUEST",
      "subscribedTopics and ownedPartitions are required to join (memberEpoch 0)",
    );
  }
  if (req.ownedPartitions.some((tp) => tp.partitions.length > 0)) {
    // Kafka: "TopicPartitions must be empty when (re-)joining" — a joining member owns nothing yet.
    return fail("INVALID_REQUEST", "ownedPartitions must be empty when joining (memberEpoch 0)");
  }
  const memberId = req.memberId || newMemberId();
  const instanceId = req.groupInstanceId ?? null;
  const holder = instanceId ? group.byInstance(instanceId) : undefined;
  if (holder && !holder.left && holder.memberId !== memberId) {
    return fail("UNRELEASED_INSTANCE_ID", `static instance ${instanceId} is held by a live member`);
  }
  const existing = group.members.get(memberId);
  if (existing && instanceId !== null && existing.groupInstanceId !== instanceId) {
    // One member id is one instance (Kafka keys a static member by its instance): a join that claims
    // another would leave the member's own instance, or its reservation, pointing at it as well.
    const what =
      existing.groupInstanceId === null ? "a dynamic member" : `static instance ${existing.groupInstanceId}`;
    return fail(
      "UNRELEASED_INSTANCE_ID",
      `member ${memberId} is ${what}: it cannot join as instance ${instanceId}; join under a new member id`,
    );
  }
  if (!existing && !holder && group.memberCount >= config.groupMaxSize) {
    return fail("GROUP_MAX_SIZE_REACHED", `the group has reached GROUP_MAX_SIZE (${config.groupMaxSize})`);
  }
  // A member away since its -2 leave returns: by its instance id (under any member id), or by its own
  // member id without one. Its departure is on record (static_leave): it joins, it is not fenced.
  const away = holder?.left ? holder : !instanceId && existing?.left ? existing : undefined;
  let member: ConsumerMember;
  if (away) {
    member = group.takeOver(away, memberId, now, {
      clientId: req.clientId ?? away.clientId,
      clientHost: req.clientHost ?? away.clientHost,
    });
  } else if (existing) {
    // A member that rejoins with epoch 0 says it holds nothing: it starts over (keeping its target).
    member = existing;
    // A member that held an epoch and starts over was fenced (FENCED_MEMBER_EPOCH) or lost its state;
    // it is in the group again at once, and the timeline says so.
    if (existing.memberEpoch > 0) {
      group.history.memberFenced(memberId, "fenced_epoch");
      group.history.memberJoined(memberId, member);
    }
    group.resetMember(memberId);
    group.settle(now);
  } else {
    member = {
      memberId,
      groupInstanceId: instanceId,
      clientId: req.clientId ?? "",
      clientHost: req.clientHost ?? "",
      rebalanceTimeoutMs: req.rebalanceTimeoutMs ?? DEFAULT_REBALANCE_TIMEOUT_MS,
      subscribedTopics: [],
      serverAssignor: null,
      memberEpoch: 0,
      previousMemberEpoch: 0,
      state: "Stable",
      assigned: noPartitions(),
      revoking: noPartitions(),
      target: noPartitions(),
      left: false,
    };
    group.putMember(member, now);
    group.history.memberJoined(memberId, member);
  }
  group.heard(memberId, 0, now);
  return { ok: true, value: member, isNew: !existing && !away };
}

/**
 * The member a heartbeat or leave speaks for. With a `groupInstanceId` the instance decides, as Kafka's
 * `throwIfStaticMemberIsUnknown`/`throwIfInstanceIdIsFenced`: an instance nobody holds is an unknown
 * member; one held under another member id fences the sender (a zombie of a replaced static member).
 */
function speaker(group: ConsumerGroup, req: HeartbeatRequest): Result<ConsumerMember> {
  const instanceId = req.groupInstanceId;
  if (instanceId) {
    const holder = group.byInstance(instanceId);
    if (!holder) return fail("UNKNOWN_MEMBER_ID", `no member holds static instance ${instanceId}`);
    if (holder.memberId !== req.memberId)
      return fail("FENCED_INSTANCE_ID", `static instance ${instanceId} is held by another member id`);
    return ok(holder);
  }
  const member = group.members.get(req.memberId ?? "");
  if (!member) return fail("UNKNOWN_MEMBER_ID", `member ${req.memberId || "(none)"} is not in the group`);
  return ok(member);
}

function beat(group: ConsumerGroup, req: HeartbeatRequest, now: number): Admitted {
  const found = speaker(group, req);
  if (!found.ok) return found;
  const member = found.value;
  const reported = req.ownedPartitions ? fromList(req.ownedPartitions) : undefined;
  const epoch = req.memberEpoch;
  if (member.left || epoch > member.memberEpoch) {
    return fail(
      "FENCED_MEMBER_EPOCH",
      `epoch ${epoch} is not member ${member.memberId}'s epoch; rejoin with 0`,
    );
  }
  if (epoch < member.memberEpoch) {
    // A lost response: the member still acts on an epoch it confirmed (or was pushed since) and holds
    // nothing outside its current assignment, so it is safe to bring it up to date.
    const lostResponse =
      epoch === member.previousMemberEpoch && reported !== undefined && isSubset(reported, member.assigned);
    if (!lostResponse) {
      return fail(
        "FENCED_MEMBER_EPOCH",
        `epoch ${epoch} is older than member ${member.memberId}'s epoch ${member.memberEpoch}`,
      );
    }
  }
  group.heard(member.memberId, epoch, now);
  return { ok: true, value: member, reported };
}

function leave(
  group: ConsumerGroup,
  req: HeartbeatRequest,
  now: number,
): Result<{ memberId: string; memberEpoch: number }> {
  if (req.memberEpoch === LEFT_STATIC_EPOCH && !req.groupInstanceId) {
    return fail("INVALID_REQUEST", "memberEpoch -2 (temporary leave) needs the member's groupInstanceId");
  }
  const found = speaker(group, req);
  if (!found.ok) return found;
  const member = found.value;
  if (req.memberEpoch === LEAVE_EPOCH) {
    group.history.memberLeft(member.memberId, "leave");
    group.removeMember(member.memberId, now);
    group.settle(now);
    return ok({ memberId: member.memberId, memberEpoch: LEAVE_EPOCH });
  }
  if (!member.groupInstanceId) {
    return fail(
      "INVALID_REQUEST",
      "memberEpoch -2 (temporary leave) is for static members (groupInstanceId)",
    );
  }
  // The assignment stays reserved for the instance id until it rejoins or its session expires.
  if (!member.left) {
    group.leaveStatic(member.memberId);
    group.history.memberLeft(member.memberId, "static_leave");
    group.settle(now);
  }
  group.heard(member.memberId, LEFT_STATIC_EPOCH, now);
  return ok({ memberId: member.memberId, memberEpoch: LEFT_STATIC_EPOCH });
}

/** Applies a member's descriptive and subscription fields; true when the group epoch must move. */
function applyUpdates(group: ConsumerGroup, member: ConsumerMember, req: HeartbeatRequest): boolean {
  let changed = false;
  let bump = false;
  const set = <K extends "clientId" | "clientHost" | "rebalanceTimeoutMs">(
    key: K,
    value: ConsumerMember[K] | undefined,
  ) => {
    if (value !== undefined && member[key] !== value) {
      member[key] = value;
      changed = true;
    }
  };
  set("clientId", req.clientId);
  set("clientHost", req.clientHost);
  set("rebalanceTimeoutMs", req.rebalanceTimeoutMs);
  if (req.subscribedTopics) {
    const topics = [...new Set(req.subscribedTopics.map((t) => t.name))].sort();
    if (topics.join("\n") !== member.subscribedTopics.join("\n")) {
      member.subscribedTopics = topics;
      changed = bump = true;
    }
    if (group.notePartitionCounts(req.subscribedTopics)) bump = true;
  }
  if (req.serverAssignor !== undefined && (req.serverAssignor || null) !== member.serverAssignor) {
    member.serverAssignor = req.serverAssignor || null;
    changed = bump = true;
  }
  if (changed) group.memberChanged(member.memberId);
  return bump;
}
