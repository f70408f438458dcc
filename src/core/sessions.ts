/**
 * Member sessions across object restarts, shared by the groups whose sessions the coordinator times
 * (consumer and share). Restored members get a fresh session from `now`, as Kafka does when a
 * coordinator takes over, unless they were not heard at all during the object's previous life: an
 * idle object is evicted and woken by its alarm, and restarting every session then would keep dead
 * members forever. Such a member keeps the deadline the previous life gave it, written in its row
 * (`graceUntil`) so that no later life — however short — moves it again.
 */

import { type Dict, own } from "./dict.ts";

/** What a member row holds of its session's history. */
export interface SessionMarks {
  /** `wokeAt` of the life in which the member was last heard (written once per life). */
  heardIn?: number | null;
  /** The deadline a restart kept for a member silent through a whole life; cleared when heard. */
  graceUntil?: number;
}

/**
 * The session deadline of a restored member; sets `graceUntil` on a silent one and returns whether
 * its row changed. `previousLife` is the `wokeAt` the group row held (null: the first life).
 */
export function restoredSession(
  m: SessionMarks,
  previousLife: number | null,
  now: number,
  timeoutMs: number,
): { deadline: number; rowChanged: boolean } {
  if (previousLife === null || (m.heardIn ?? null) === previousLife)
    return { deadline: now + timeoutMs, rowChanged: false };
  if (m.graceUntil !== undefined) return { deadline: m.graceUntil, rowChanged: false };
  m.graceUntil = previousLife + timeoutMs;
  return { deadline: m.graceUntil, rowChanged: true };
}

/** A member heard in life `wokeAt`: its row notes the life once. Returns whether the row changed. */
export function noteHeard(m: SessionMarks, wokeAt: number): boolean {
  if (m.heardIn === wokeAt && m.graceUntil === undefined) return false;
  m.heardIn = wokeAt;
  delete m.graceUntil;
  return true;
}

/** Raises partition counts to what a member reports (the largest wins); true when any count grew. */
export function raiseCounts(
  counts: Dict<number>,
  reported: readonly { name: string; partitions: number }[],
): boolean {
  let grew = false;
  for (const { name, partitions } of reported) {
    if (partitions > (own(counts, name) ?? 0)) {
      counts[name] = partitions;
      grew = true;
    }
  }
  return grew;
}
