/**
 * The rebalance steps of the classic protocol, as Kafka's `GroupMetadataManager` runs them: start a
 * rebalance (with the initial delay for a group that was Empty), complete the join phase when every
 * member rejoined or the rebalance timeout passed, remove a member and rebalance, and process the
 * in-memory deadlines (sessions, join phase, pending syncs, issued member ids) the alarm brings due.
 */

import type { CohortError } from "../errors.ts";
import type { ClassicGroup, ClassicMember } from "./classic-group.ts";
import { type JoinResponse, readSubscription } from "./classic-protocol.ts";
import { canRebalance } from "./classic-states.ts";

/**
 * Protocols every member (except `exclude`, which is rejoining) supports, in the order of `names`:
 * from the per-protocol member counts, so a join costs its own protocols, not the group's size.
 */
export function commonProtocols(group: ClassicGroup, names: readonly string[], exclude?: string): string[] {
  const excluded = exclude === undefined ? undefined : group.members.get(exclude);
  const others = group.members.size - (excluded ? 1 : 0);
  return names.filter((name) => {
    const own = excluded?.protocols.some((p) => p.name === name) ? 1 : 0;
    return group.supportCount(name) - own === others;
  });
}

/** Kafka's `selectProtocol`: of the protocols all members support, the one most members prefer. */
export function selectProtocol(group: ClassicGroup): string {
  const first = group.members.values().next().value as ClassicMember | undefined;
  if (!first) return "";
  const candidates = commonProtocols(
    group,
    first.protocols.map((p) => p.name),
  );
  const votes = new Map<string, number>(candidates.map((c) => [c, 0]));
  for (const m of group.members.values()) {
    const choice = m.protocols.find((p) => votes.has(p.name))?.name;
    if (choice !== undefined) votes.set(choice, votes.get(choice)! + 1);
  }
  let best = "";
  let most = -1;
  for (const [name, n] of votes) {
    if (n > most || (n === most && name < best)) [best, most] = [name, n];
  }
  return best;
}

const metadataFor = (m: ClassicMember, protocol: string): string =>
  m.protocols.find((p) => p.name === protocol)?.metadata ?? "";

/** Reads a member's subscription from the protocol it uses, for groups whose metadata is readable. */
export function refreshSubscription(group: ClassicGroup, m: ClassicMember): void {
  if (m.protocolType !== "consumer") return;
  const protocol = group.protocolName || m.protocols[0]?.name || "";
  const topics = readSubscription(metadataFor(m, protocol));
  const next = typeof topics === "string" ? [] : topics;
  if (JSON.stringify(next) === JSON.stringify(m.subscribedTopics)) return;
  group.updateMember(m, { subscribedTopics: next });
}

/** The join response of the current generation for `memberId`: the member list goes to the leader only. */
export function joinResponse(group: ClassicGroup, memberId: string): JoinResponse {
  const leader = group.leaderId === memberId;
  return {
    generationId: group.generationId,
    protocolType: group.protocolType,
    protocolName: group.protocolName,
    leaderId: group.leaderId ?? "",
    memberId,
    members: leader
      ? [...group.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          metadata: metadataFor(m, group.protocolName),
        }))
      : [],
  };
}

const rebalancing: CohortError = { code: "REBALANCE_IN_PROGRESS", message: "the group is rebalancing" };

/** Starts a rebalance; a group that was Empty waits the initial delay for more members to arrive. */
export function prepareRebalance(group: ClassicGroup, now: number, initialDelayMs: number): void {
  if (group.state === "CompletingRebalance") {
    // Assignments of the generation being formed will never come: parked syncs rejoin instead.
    for (const id of [...group.awaitingSync.keys()])
      group.answer("sync", id, { ok: false, error: rebalancing }, now);
    for (const m of group.members.values()) {
      if (m.assignment === "" && m.assignedPartitions === null) continue;
      m.assignment = "";
      m.assignedPartitions = m.protocolType === "consumer" ? [] : null;
      group.changed(m.memberId);
    }
  }
  group.pendingSync.clear();
  group.syncDeadline = null;
  const initial = group.state === "Empty";
  const timeout = group.rebalanceTimeoutMs();
  if (initial) {
    group.initialDelay = {
      stepMs: initialDelayMs,
      remainingMs: Math.max(timeout - initialDelayMs, 0),
      newMemberAdded: false,
    };
    group.joinDeadline = now + initialDelayMs;
  } else {
    group.initialDelay = null;
    group.joinDeadline = now + timeout;
  }
  group.transitionTo("PreparingRebalance");
  if (!initial) maybeCompleteJoinPhase(group, now);
}

/** Rebalances if the state allows, else completes the join phase if everyone is in. */
export function rebalanceOrCompleteJoin(group: ClassicGroup, now: number, initialDelayMs: number): void {
  if (canRebalance(group.state)) prepareRebalance(group, now, initialDelayMs);
  else maybeCompleteJoinPhase(group, now);
}

/** Ends the join phase early when every member and every issued id has joined (not during the initial delay). */
export function maybeCompleteJoinPhase(group: ClassicGroup, now: number): void {
  if (
    group.state === "PreparingRebalance" &&
    group.awaitingJoin.size === group.members.size &&
    group.pendingMembers.size === 0 &&
    group.previousState !== "Empty"
  ) {
    completeJoin(group, now);
  }
}

/** Kafka's `completeClassicGroupJoin`: drop dynamic members that did not rejoin, elect, start a generation. */
export function completeJoin(group: ClassicGroup, now: number): void {
  if (group.state !== "PreparingRebalance") return;
  group.joinDeadline = null;
  group.initialDelay = null;
  for (const m of [...group.members.values()]) {
    // Static members keep their place: their session decides, as in Kafka.
    if (!group.awaitingJoin.has(m.memberId) && m.groupInstanceId === null) {
      group.history.memberFenced(m.memberId, "rebalance_timeout");
      group.removeMember(m.memberId, now);
    }
  }
  if (group.members.size > 0 && !electJoinedLeader(group)) {
    // Only absent static members are left: wait for them to rejoin or for their sessions to expire.
    group.joinDeadline = now + group.rebalanceTimeoutMs();
    return;
  }
  if (group.members.size === 0) {
    group.setGeneration(group.generationId + 1, "");
    group.transitionTo("Empty");
    return;
  }
  group.setGeneration(group.generationId + 1, selectProtocol(group));
  group.transitionTo("CompletingRebalance");
  for (const m of group.members.values()) {
    refreshSubscription(group, m);
    group.pendingSync.add(m.memberId);
  }
  for (const id of [...group.awaitingJoin.keys()])
    group.answer("join", id, { ok: true, value: joinResponse(group, id) }, now);
  group.syncDeadline = now + group.rebalanceTimeoutMs();
}

/** Keeps the leader if it rejoined, else makes the first member that rejoined the leader. */
function electJoinedLeader(group: ClassicGroup): boolean {
  if (group.leaderId !== null && group.awaitingJoin.has(group.leaderId)) return true;
  const next = group.awaitingJoin.keys().next().value;
  if (next === undefined) return false;
  group.setLeader(next);
  return true;
}

/** Removes a member (left, expired, fenced out) and lets the group react as Kafka does. */
export function removeMemberAndRebalance(group: ClassicGroup, memberId: string, now: number): void {
  group.removeMember(memberId, now);
  // Never from Empty here, so no initial delay applies.
  if (group.state === "Stable" || group.state === "CompletingRebalance") prepareRebalance(group, now, 0);
  else if (group.state === "PreparingRebalance") maybeCompleteJoinPhase(group, now);
}

/**
 * Processes every deadline due at `now`, earliest first, each in O(log n) from the group's heaps, so
 * one alarm handles a mass expiry whole; idempotent, and safe for overdue deadlines.
 */
export function onClassicDeadlines(group: ClassicGroup, now: number): void {
  // Each step removes its deadline or moves it past `now`. The budget, fixed before the first step,
  // only stops a bug from looping: it is never smaller than the work due.
  let budget = 2 * group.deadlineCount + 16;
  for (let due = group.earliestDue(now); due !== null && budget > 0; due = group.earliestDue(now), budget--) {
    switch (due.kind) {
      case "session":
        group.history.memberFenced(due.memberId, "session_timeout");
        removeMemberAndRebalance(group, due.memberId, now);
        break;
      case "pending":
        group.pendingMembers.delete(due.memberId);
        maybeCompleteJoinPhase(group, now);
        break;
      case "join":
        onJoinDeadline(group, now);
        break;
      case "sync":
        group.syncDeadline = null;
        if (group.state === "Stable" || group.state === "CompletingRebalance") {
          for (const id of [...group.pendingSync]) {
            group.history.memberFenced(id, "rebalance_timeout");
            removeMemberAndRebalance(group, id, now);
          }
        }
        break;
    }
  }
}

/** The join phase's deadline: extend the initial delay while members keep arriving, else complete. */
function onJoinDeadline(group: ClassicGroup, now: number): void {
  const initial = group.initialDelay;
  if (initial?.newMemberAdded && initial.remainingMs > 0) {
    const step = Math.min(initial.stepMs, initial.remainingMs);
    group.initialDelay = {
      stepMs: initial.stepMs,
      remainingMs: Math.max(initial.remainingMs - initial.stepMs, 0),
      newMemberAdded: false,
    };
    group.joinDeadline = now + step;
    return;
  }
  completeJoin(group, now);
}
