/**
 * cohort's structured logs: one JSON object per line on the console, which Workers Logs
 * (wrangler.toml [observability]) keeps and indexes by field, so `event = "cohort.rebalance" AND
 * groupId = "orders"` is a dashboard query. Every line has `event`, `level` and `at` (ISO time); the
 * events are:
 * - `cohort.rebalance`: a group's generation (classic) or group epoch (consumer, share) moved;
 * - `cohort.member_fenced`: a member fenced (session or rebalance timeout, a static member replaced,
 *   a stale epoch rejoining), with the reason the group's history records (API.md §8);
 * - `cohort.member_removed`: a member that left (a leave, a static member's temporary leave, an admin
 *   removal), with its history reason;
 * - `cohort.admin`: an admin route was called (group delete, offsets reset or delete, redrive);
 * - `cohort.failure`: a step that failed and was rolled back, or a request answered 503 unexpectedly;
 * - `cohort.directory.retry`: a directory update not acknowledged, to be retried.
 * Group steps are observed from the outside (a mark before, the group after, and the history events
 * the step recorded), so the core stays pure and the logs give the history's exact reasons.
 */

import type { Group } from "./core/group.ts";
import type { HistoryEventType } from "./core/history.ts";

export type Level = "info" | "warn" | "error";

export interface LogLine {
  event: string;
  [field: string]: unknown;
}

/** Writes one line. Fields that are undefined are left out (JSON.stringify drops them). */
export function log(level: Level, line: LogLine): void {
  const text = JSON.stringify({ ...line, level, at: new Date().toISOString() });
  if (level === "error") console.error(text);
  else if (level === "warn") console.warn(text);
  else console.log(text);
}

/** A failure: its message and the first frames of its stack, with whatever locates it. */
export function logFailure(where: string, err: unknown, fields: Record<string, unknown> = {}): void {
  const error = err instanceof Error ? err : new Error(String(err));
  log("error", {
    event: "cohort.failure",
    where,
    ...fields,
    error: error.message,
    stack: error.stack?.split("\n").slice(0, 4).join(" | "),
  });
}

/** What a step is compared against: cheap to take on every request (no member is visited). */
export interface GroupMark {
  epoch: number | undefined;
  /** History events already pending before the step: the step's own are the ones after them. */
  events: number;
}

const epochOf = (group: Group): number | undefined => {
  const fields = group as unknown as { generationId?: number; groupEpoch?: number };
  return fields.generationId ?? fields.groupEpoch;
};

export function markGroup(group: Group | null): GroupMark {
  return group
    ? { epoch: epochOf(group), events: group.history.pending.length }
    : { epoch: undefined, events: 0 };
}

/** The log line of a history event that ends a membership, if it is one. */
const DEPARTURES: Partial<Record<HistoryEventType, { event: string; level: Level }>> = {
  member_fenced: { event: "cohort.member_fenced", level: "warn" },
  member_left: { event: "cohort.member_removed", level: "info" },
};

/**
 * Logs what a step did to a group, given its mark from before the step and the group after it (its
 * history events still pending, i.e. before `markSaved`): each member fenced or gone, with the
 * reason its history event records, and a rebalance when the epoch moved. Steps that recorded no
 * event and moved no epoch (heartbeats, commits) cost two comparisons.
 */
export function logGroupStep(mark: GroupMark, group: Group | null, cause: "request" | "deadline"): void {
  if (!group) return;
  const epoch = epochOf(group);
  const recorded = group.history.pending;
  for (let i = mark.events; i < recorded.length; i++) {
    const { type, memberId, detail } = recorded[i]!;
    const departure = DEPARTURES[type];
    if (!departure) continue;
    log(departure.level, {
      event: departure.event,
      groupId: group.groupId,
      type: group.type,
      memberId,
      reason: detail.reason,
      cause,
    });
  }
  if (epoch !== undefined && epoch !== mark.epoch) {
    log("info", {
      event: "cohort.rebalance",
      groupId: group.groupId,
      type: group.type,
      state: group.state,
      [group.type === "classic" ? "generationId" : "groupEpoch"]: epoch,
      previous: mark.epoch ?? null,
      members: group.memberCount,
      cause,
    });
  }
}
