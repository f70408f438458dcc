/**
 * JoinGroup (API.md §4), following Kafka's `GroupMetadataManager.classicGroupJoin`: validation, KIP-394
 * member ids, KIP-345 static members, and the join barrier. A join that must wait for the rest of the
 * group parks; the group answers it later through a completion.
 */

import { type CohortError, fail, type Result } from "../errors.ts";
import type { Group } from "../group.ts";
import { checkPendingMemberIds } from "../limits.ts";
import { ClassicGroup, type ClassicMember } from "./classic-group.ts";
import {
  type ClassicContext,
  type JoinRequest,
  type JoinResponse,
  readSubscription,
  type Step,
  sameProtocols,
} from "./classic-protocol.ts";
import {
  commonProtocols,
  joinResponse,
  maybeCompleteJoinPhase,
  prepareRebalance,
  rebalanceOrCompleteJoin,
  refreshSubscription,
  selectProtocol,
} from "./classic-rebalance.ts";

const reply = <T>(result: Result<T>): Step<T> => ({ kind: "reply", result });
const error = <T>(code: CohortError["code"], message: string, extra?: Record<string, unknown>): Step<T> =>
  reply(fail(code, message, extra));

/** The classic group a request addresses; a join with no member id may create it. */
export function classicGroupOf(
  group: Group | null,
  groupId: string,
  now: number,
  create: boolean,
): Result<ClassicGroup> {
  if (group instanceof ClassicGroup) return { ok: true, value: group };
  if (group && group.memberCount > 0) {
    return fail("INCONSISTENT_GROUP_PROTOCOL", `group ${groupId} uses the ${group.type} protocol`);
  }
  if (!create) return fail("UNKNOWN_MEMBER_ID", `group ${groupId} has no members`);
  return { ok: true, value: ClassicGroup.simple(groupId, now) };
}

/** The answer owed to this request if the group produced it already, else "parked". */
export function settle<T>(group: ClassicGroup, ticket: number): Step<T> {
  const own = group.claim<T>(ticket);
  return own ? reply(own) : { kind: "parked", ticket };
}

/** Kafka's `validateMember`: a static member must be the instance's current holder. */
export function checkMember(
  group: ClassicGroup,
  memberId: string,
  instanceId: string | null,
): CohortError | null {
  if (instanceId !== null) {
    const holder = group.staticMemberId(instanceId);
    if (holder === undefined)
      return { code: "UNKNOWN_MEMBER_ID", message: `instance ${instanceId} is not in the group` };
    if (holder !== memberId) {
      return { code: "FENCED_INSTANCE_ID", message: `instance ${instanceId} is held by another member id` };
    }
    return null;
  }
  if (!group.members.has(memberId))
    return { code: "UNKNOWN_MEMBER_ID", message: `member ${memberId} is not in the group` };
  return null;
}

/** Kafka's `acceptJoiningMember`: GROUP_MAX_SIZE counts members of the generation being formed. */
function acceptsJoining(group: ClassicGroup, memberId: string, maxSize: number): boolean {
  switch (group.state) {
    case "Empty":
    case "Dead":
      return true;
    case "PreparingRebalance":
      return group.awaitingJoin.has(memberId) || group.awaitingJoin.size < maxSize;
    default:
      return group.members.has(memberId) || group.members.size < maxSize;
  }
}

function checkProtocols(group: ClassicGroup, req: JoinRequest): CohortError | null {
  const inconsistent = (message: string): CohortError => ({ code: "INCONSISTENT_GROUP_PROTOCOL", message });
  if (req.protocolType === "" || req.protocols.length === 0)
    return inconsistent("protocolType and protocols are required");
  if (group.members.size > 0) {
    if (req.protocolType !== group.protocolType) {
      return inconsistent(`the group uses protocol type ${group.protocolType}, not ${req.protocolType}`);
    }
    const names = req.protocols.map((p) => p.name);
    if (commonProtocols(group, names, req.memberId).length === 0) {
      return inconsistent(`no protocol in common with the group's members (offered: ${names.join(", ")})`);
    }
  }
  if (req.protocolType === "consumer") {
    for (const p of req.protocols) {
      const read = readSubscription(p.metadata);
      if (typeof read === "string")
        return { code: "INVALID_REQUEST", message: `protocol ${p.name}: ${read}` };
    }
  }
  return null;
}

const newSuffix = () => crypto.randomUUID();

function memberIdFor(prefix: string, ctx: ClassicContext): string {
  return `${(prefix || "member").slice(0, 200)}-${(ctx.newId ?? newSuffix)()}`;
}

export function joinGroup(group: ClassicGroup, req: JoinRequest, ctx: ClassicContext): Step<JoinResponse> {
  const { config } = ctx;
  if (
    req.sessionTimeoutMs < config.groupMinSessionTimeoutMs ||
    req.sessionTimeoutMs > config.groupMaxSessionTimeoutMs
  ) {
    return error(
      "INVALID_SESSION_TIMEOUT",
      `sessionTimeoutMs must be within [${config.groupMinSessionTimeoutMs}, ${config.groupMaxSessionTimeoutMs}]`,
    );
  }
  if (!acceptsJoining(group, req.memberId, config.groupMaxSize)) {
    return error("GROUP_MAX_SIZE_REACHED", `the group has reached GROUP_MAX_SIZE (${config.groupMaxSize})`);
  }
  const bad = checkProtocols(group, req);
  if (bad) return reply({ ok: false, error: bad });
  if (req.memberId === "") return joinNewMember(group, req, ctx);
  return joinExistingMember(group, req, ctx);
}

function joinNewMember(group: ClassicGroup, req: JoinRequest, ctx: ClassicContext): Step<JoinResponse> {
  if (req.groupInstanceId === null) {
    // KIP-394: hand out the id first, so a client that times out can rejoin as the same member.
    const full = checkPendingMemberIds(group, ctx.config);
    if (full) return reply({ ok: false, error: full });
    const memberId = memberIdFor(req.clientId, ctx);
    group.pendingMembers.set(memberId, ctx.now + req.sessionTimeoutMs);
    return error("MEMBER_ID_REQUIRED", "join again with the member id in error.memberId", { memberId });
  }
  const memberId = memberIdFor(req.groupInstanceId, ctx);
  const holder = group.staticMemberId(req.groupInstanceId);
  if (holder !== undefined) return takeOverStaticMember(group, holder, memberId, req, ctx);
  return addMemberAndJoin(group, memberId, req, ctx);
}

function joinExistingMember(group: ClassicGroup, req: JoinRequest, ctx: ClassicContext): Step<JoinResponse> {
  if (group.pendingMembers.has(req.memberId)) {
    if (req.groupInstanceId !== null) {
      return error(
        "UNKNOWN_MEMBER_ID",
        `member ${req.memberId} was issued to a dynamic member, not to an instance`,
      );
    }
    group.pendingMembers.delete(req.memberId);
    return addMemberAndJoin(group, req.memberId, req, ctx);
  }
  const invalid = checkMember(group, req.memberId, req.groupInstanceId);
  if (invalid) return reply({ ok: false, error: invalid });
  const member = group.members.get(req.memberId)!;
  const unchanged = sameProtocols(member.protocols, req.protocols);
  const current = (): Step<JoinResponse> => {
    // A lost response, or a follower with nothing new: the current generation, no rebalance.
    group.heardFrom(member.memberId, ctx.now);
    return reply({ ok: true, value: joinResponse(group, member.memberId) });
  };
  switch (group.state) {
    case "CompletingRebalance":
      return unchanged ? current() : updateMemberAndJoin(group, member, req, ctx);
    case "Stable":
      return unchanged && group.leaderId !== member.memberId
        ? current()
        : updateMemberAndJoin(group, member, req, ctx);
    case "PreparingRebalance":
      return updateMemberAndJoin(group, member, req, ctx);
    default:
      return error("UNKNOWN_MEMBER_ID", `member ${req.memberId} is not in the group`);
  }
}

function newMember(memberId: string, req: JoinRequest): ClassicMember {
  return {
    memberId,
    groupInstanceId: req.groupInstanceId,
    clientId: req.clientId,
    clientHost: req.clientHost,
    sessionTimeoutMs: req.sessionTimeoutMs,
    rebalanceTimeoutMs: req.rebalanceTimeoutMs,
    protocolType: req.protocolType,
    protocols: req.protocols,
    assignment: "",
    subscribedTopics: null,
    assignedPartitions: req.protocolType === "consumer" ? [] : null,
  };
}

function addMemberAndJoin(
  group: ClassicGroup,
  memberId: string,
  req: JoinRequest,
  ctx: ClassicContext,
): Step<JoinResponse> {
  const member = newMember(memberId, req);
  group.addMember(member, ctx.now);
  refreshSubscription(group, member);
  group.park("join", memberId, ctx.ticket);
  // Members arriving during the initial delay extend it (Kafka's `newMemberAdded`).
  if (group.initialDelay && group.state === "PreparingRebalance") group.initialDelay.newMemberAdded = true;
  rebalanceOrCompleteJoin(group, ctx.now, ctx.config.groupInitialRebalanceDelayMs);
  return settle(group, ctx.ticket);
}

/** Applies what a rejoining member sent; rows are written only if something changed. */
function updateMember(group: ClassicGroup, member: ClassicMember, req: JoinRequest): void {
  const changed =
    !sameProtocols(member.protocols, req.protocols) ||
    member.sessionTimeoutMs !== req.sessionTimeoutMs ||
    member.rebalanceTimeoutMs !== req.rebalanceTimeoutMs ||
    member.clientId !== req.clientId ||
    member.clientHost !== req.clientHost;
  if (!changed) return;
  group.updateMember(member, {
    protocols: req.protocols,
    sessionTimeoutMs: req.sessionTimeoutMs,
    rebalanceTimeoutMs: req.rebalanceTimeoutMs,
    clientId: req.clientId,
    clientHost: req.clientHost,
  });
  refreshSubscription(group, member);
}

function updateMemberAndJoin(
  group: ClassicGroup,
  member: ClassicMember,
  req: JoinRequest,
  ctx: ClassicContext,
) {
  updateMember(group, member, req);
  group.heardFrom(member.memberId, ctx.now);
  group.park("join", member.memberId, ctx.ticket);
  rebalanceOrCompleteJoin(group, ctx.now, ctx.config.groupInitialRebalanceDelayMs);
  return settle<JoinResponse>(group, ctx.ticket);
}

/** KIP-345: a restarted static member replaces its old id; in a Stable group with the same protocol, silently. */
function takeOverStaticMember(
  group: ClassicGroup,
  oldId: string,
  newId: string,
  req: JoinRequest,
  ctx: ClassicContext,
): Step<JoinResponse> {
  const member = group.replaceStaticMember(oldId, newId, ctx.now);
  // The vote can only change with the member's protocols: otherwise no O(members) selection.
  const sameVote = sameProtocols(member.protocols, req.protocols);
  updateMember(group, member, req);
  if (group.state === "Stable" && (sameVote || selectProtocol(group) === group.protocolName)) {
    return reply({ ok: true, value: joinResponse(group, newId) });
  }
  group.park("join", newId, ctx.ticket);
  // In CompletingRebalance the leader may be assigning to the old id: rebalance so the new id gets a share.
  if (group.state === "PreparingRebalance") maybeCompleteJoinPhase(group, ctx.now);
  else prepareRebalance(group, ctx.now, ctx.config.groupInitialRebalanceDelayMs);
  return settle(group, ctx.ticket);
}
