/**
 * The object's history glue (API.md §8): writes a step's recorded events and lag sample with its rows
 * (`writeHistory`, called from GroupShell's `persist` inside the step's transaction), and answers the
 * two history routes from src/storage/history-store.ts. A group that is gone keeps its history for
 * OFFSETS_RETENTION_MS after its last event (its `state_changed` to Dead); describe and the listing
 * still do not know it, and the one alarm purges it (GroupShell `idleDeadline`).
 */

import { DEFAULT_EVENTS_LIMIT } from "./api/history-schemas.ts";
import type { Config } from "./core/config.ts";
import { fail, ok, type Result } from "./core/errors.ts";
import type { Group } from "./core/group.ts";
import type { StoredEvent } from "./core/history.ts";
import * as share from "./share-shell.ts";
import type { GroupStore } from "./storage/group-store.ts";
import type { LagSample } from "./storage/history-store.ts";

/** Writes the group's pending events (one row each) and a lag sample if one is due, at `now`. */
export function writeHistory(store: GroupStore, group: Group, config: Config, now: number): void {
  const recorder = group.history;
  store.history.append(recorder.pending, now, config.groupHistoryMaxEvents);
  if (recorder.lagDue === null) return;
  // A share group's lag is in memory; any other's is summed from its offset rows in the same statement.
  const totalLag = share.isShareGroup(group) ? share.lag(group).totalLag : null;
  store.history.sample(recorder.lagDue, totalLag, config.offsetsRetentionMs);
}

export interface EventsQuery {
  after?: number | undefined;
  limit?: number | undefined;
  /** The newest `last` events instead of a page after `after`. */
  last?: number | undefined;
}

const notFound = () => fail<never>("GROUP_ID_NOT_FOUND", "the group does not exist and has no history");

/** A page of events; 404 when there is neither a group nor any history. */
export function events(
  group: Group | null,
  store: GroupStore,
  config: Config,
  query: EventsQuery,
): Result<{ events: StoredEvent[]; nextAfter: number }> {
  const after =
    query.last === undefined ? (query.after ?? 0) : Math.max(0, store.history.newestSeq() - query.last);
  const limit = query.last ?? query.limit ?? DEFAULT_EVENTS_LIMIT;
  const page = store.history.events(after, limit, config.groupHistoryMaxEvents);
  if (!group && page.events.length === 0 && !store.history.any()) return notFound();
  return ok(page);
}

/** Lag samples since `since`; 404 when there is neither a group nor any history. */
export function lagHistory(
  group: Group | null,
  store: GroupStore,
  config: Config,
  since: number,
  now: number,
): Result<{ samples: LagSample[] }> {
  const samples = store.history.samples(since, now, config.offsetsRetentionMs);
  if (!group && samples.length === 0 && !store.history.any()) return notFound();
  return ok({ samples });
}
