/**
 * cohort's structured logs: one JSON object per line on the console, which Workers Logs
 * (wrangler.toml [observability]) keeps and indexes by field, so `event = "cohort.rebalance" AND
 * groupId = "orders"` is a dashboard query. Every line has `event`, `level` and `at` (ISO time); the
 * events are:
 * - `cohort.rebalance`: a group's generation (classic) or group epoch (consumer, share) moved;
 * - `cohort.member_fenced`: a member removed by a deadline (session or rebalance timeout);
 * - `cohort.member_removed`: a member removed by a request (a leave, a static member replaced, …);
 * - `cohort.admin`: an admin route was called (group delete, offsets reset or delete, redrive);
 * - `cohort.failure`: a step that failed and was rolled back, or a request answered 503 unexpectedly;
 * - `cohort.directory.retry`: a directory update not acknowledged, to be retried.
 * Group steps are observed from the outside (a mark before, the group after), so the core stays pure.
 */

import type { Group } from "./core/group.ts";

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
  members: number;
}

const epochOf = (group: Group): number | undefined => {
  const fields = group as unknown as { generationId?: number; groupEpoch?: number };
  return fields.generationId ?? fields.groupEpoch;
};

export function markGroup(group: Group | null): GroupMark {
  return group ? { epoch: epochOf(group), members: group.memberCount } : { epoch: undefined, members: 0 };
}

/**
 * Logs what a step did to a group, given its mark from before the step and the group after it (its
 * changed rows still marked, i.e. before `markSaved`): a rebalance when the epoch moved, and each
 * removed member when the group shrank — fenced when a deadline removed it, removed by a request
 * otherwise. Steps that changed neither (heartbeats, commits) cost two comparisons.
 */
export function logGroupStep(mark: GroupMark, group: Group | null, cause: "request" | "deadline"): void {
  if (!group) return;
  const epoch = epochOf(group);
  if (group.memberCount < mark.members) {
    for (const [memberId, row] of group.dirtyRows().members) {
      if (row !== undefined) continue;
      log(cause === "deadline" ? "warn" : "info", {
        event: cause === "deadline" ? "cohort.member_fenced" : "cohort.member_removed",
        groupId: group.groupId,
        type: group.type,
        memberId,
        reason: cause === "deadline" ? "timeout" : "request",
      });
    }
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
