/**
 * The share-group heartbeat of API.md §7 (Kafka's `GroupMetadataManager.shareGroupHeartbeat`): join
 * (epoch 0), heartbeat, leave (−1), with the member-epoch fencing of §5. A request is validated
 * completely before anything changes, so a refused heartbeat changes nothing.
 */

import type { Config } from "../config.ts";
import { noPartitions, toList } from "../consumer/partitions.ts";
import { fail, ok, type Result } from "../errors.ts";
import type { Group } from "../group.ts";
import { checkConsumerLimits } from "../limits.ts";
import {
  SHARE_LEAVE_EPOCH,
  ShareGroup,
  type ShareHeartbeatRequest,
  type ShareHeartbeatResponse,
  type ShareMember,
} from "./share-group.ts";
import type { ShareSettings } from "./share-types.ts";

/**
 * Routes a heartbeat to the share group behind `existing`: a group of another type (with members or
 * offsets, which is why it exists) refuses it; none becomes a new share group once a heartbeat succeeds.
 */
export function shareHeartbeat(
  existing: Group | null,
  groupId: string,
  req: ShareHeartbeatRequest,
  now: number,
  settings: ShareSettings,
  config: Config,
  newMemberId: () => string,
): { group: Group | null; result: Result<ShareHeartbeatResponse> } {
  if (existing instanceof ShareGroup) {
    existing.configure(settings);
    return { group: existing, result: heartbeat(existing, req, now, config, newMemberId) };
  }
  if (existing) {
    return {
      group: existing,
      result: fail(
        "INCONSISTENT_GROUP_PROTOCOL",
        `group ${groupId} is a ${existing.type} group: it cannot take share-group heartbeats`,
      ),
    };
  }
  const candidate = ShareGroup.create(groupId, now, settings);
  const result = heartbeat(candidate, req, now, config, newMemberId);
  return { group: result.ok ? candidate : null, result };
}

export function heartbeat(
  group: ShareGroup,
  req: ShareHeartbeatRequest,
  now: number,
  config: Config,
  newMemberId: () => string,
): Result<ShareHeartbeatResponse> {
  const respond = (m: Pick<ShareMember, "memberId" | "memberEpoch" | "assignment">) =>
    ok({
      memberId: m.memberId,
      memberEpoch: m.memberEpoch,
      heartbeatIntervalMs: group.heartbeatIntervalMs,
      assignment: { partitions: toList(m.assignment) },
    });
  if (req.memberEpoch < SHARE_LEAVE_EPOCH)
    return fail(
      "INVALID_REQUEST",
      "share groups have no static membership: memberEpoch is 0, -1 or the current one",
    );
  const limited = checkConsumerLimits(group, req, config);
  if (limited) return { ok: false, error: limited };
  if (req.memberEpoch === SHARE_LEAVE_EPOCH) {
    const member = group.members.get(req.memberId ?? "");
    if (!member) return unknown(req);
    group.removeMember(member.memberId, now, "left");
    return respond({ memberId: member.memberId, memberEpoch: SHARE_LEAVE_EPOCH, assignment: noPartitions() });
  }
  const admitted = req.memberEpoch === 0 ? join(group, req, now, config, newMemberId) : beat(group, req);
  if (!admitted.ok) return admitted;
  const { member, isNew } = admitted.value;
  group.heard(member.memberId, now);
  if (applyUpdates(group, member, req) || isNew) group.bumpEpoch(now);
  group.tell(member);
  return respond(member);
}

const unknown = (req: ShareHeartbeatRequest) =>
  fail<never>("UNKNOWN_MEMBER_ID", `member ${req.memberId || "(none)"} is not in the group`);

type Admitted = Result<{ member: ShareMember; isNew: boolean }>;

function join(
  group: ShareGroup,
  req: ShareHeartbeatRequest,
  now: number,
  config: Config,
  newMemberId: () => string,
): Admitted {
  if (!req.subscribedTopics)
    return fail("INVALID_REQUEST", "subscribedTopics is required to join (memberEpoch 0)");
  const memberId = req.memberId || newMemberId();
  const existing = group.members.get(memberId);
  // A member that rejoins under its id (a lost join response) keeps its place and its locks.
  if (existing) return ok({ member: existing, isNew: false });
  if (group.memberCount >= config.groupMaxSize)
    return fail("GROUP_MAX_SIZE_REACHED", `the group has reached GROUP_MAX_SIZE (${config.groupMaxSize})`);
  const member: ShareMember = {
    memberId,
    clientId: req.clientId ?? "",
    clientHost: req.clientHost ?? "",
    subscribedTopics: [],
    memberEpoch: 0,
    previousMemberEpoch: 0,
    assignmentEpoch: 0,
    assignment: noPartitions(),
  };
  group.addMember(member, now);
  return ok({ member, isNew: true });
}

/**
 * Fencing as §5: the member's current epoch, or the one before it (its response was lost; nothing is
 * exclusive in a share group, so bringing it up to date is safe). Anything else rejoins with 0.
 */
function beat(group: ShareGroup, req: ShareHeartbeatRequest): Admitted {
  const member = group.members.get(req.memberId ?? "");
  if (!member) return unknown(req);
  const epoch = req.memberEpoch;
  if (epoch !== member.memberEpoch && epoch !== member.previousMemberEpoch) {
    return fail(
      "FENCED_MEMBER_EPOCH",
      `epoch ${epoch} is not member ${member.memberId}'s epoch ${member.memberEpoch}; rejoin with 0`,
    );
  }
  return ok({ member, isNew: false });
}

/** Applies the member's descriptive and subscription fields; true when the group epoch must move. */
function applyUpdates(group: ShareGroup, member: ShareMember, req: ShareHeartbeatRequest): boolean {
  let changed = false;
  let bump = false;
  if (req.clientId !== undefined && req.clientId !== member.clientId) {
    member.clientId = req.clientId;
    changed = true;
  }
  if (req.clientHost !== undefined && req.clientHost !== member.clientHost) {
    member.clientHost = req.clientHost;
    changed = true;
  }
  if (req.subscribedTopics) {
    const topics = [...new Set(req.subscribedTopics.map((t) => t.name))].sort();
    if (topics.join("\n") !== member.subscribedTopics.join("\n")) {
      member.subscribedTopics = topics;
      changed = bump = true;
    }
    if (group.notePartitionCounts(req.subscribedTopics)) bump = true;
  }
  if (changed) group.memberChanged(member.memberId);
  return bump;
}
