/**
 * Real failures inside a live GroupObject, for tests of its failure path. Nothing is mocked: the
 * object's own store writes its rows as usual, and then, for a row the test poisons, the same
 * transaction runs a statement SQLite refuses (group_row's CHECK (id = 1)). The transaction fails
 * after real writes, exactly as a row over a size limit or any other constraint would.
 */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";

/** A GroupObject's stub (typed loosely: the full stub type is too deep for these helpers). */
type Stub = object;

/** Runs `fn` on the live instance; its private collaborators are reached untyped, on purpose. */
const inStub = <R>(
  stub: Stub,
  fn: (instance: any, state: DurableObjectState) => R | Promise<R>,
): Promise<R> => (runInDurableObject as unknown as (s: unknown, f: typeof fn) => Promise<R>)(stub, fn);

/** Runs `fn` on the live object of group `groupId` (its instance and its state), as `inStub`. */
export const inObject = <R>(
  groupId: string,
  fn: (instance: any, state: DurableObjectState) => R | Promise<R>,
): Promise<R> => inStub(env.GROUPS.getByName(groupId), fn);
/** Picks the rows whose write must fail: a member's id and its new row (undefined: being deleted). */
export type Poison = (memberId: string, row: any) => boolean;

export async function poisonWrites(stub: Stub, poisoned: Poison): Promise<void> {
  await inStub(stub, (instance) => {
    const store = instance.store;
    const real = Object.getPrototypeOf(store).saveGroup as (record: unknown, dirty: any) => void;
    store.saveGroup = (record: unknown, dirty: { members: Map<string, unknown> }) => {
      real.call(store, record, dirty);
      for (const [memberId, row] of dirty.members) {
        if (poisoned(memberId, row))
          instance.ctx.storage.sql.exec("INSERT INTO group_row (id, record) VALUES (2, '{}')");
      }
    };
  });
}

/** Lets every write succeed again. */
export async function curePoison(stub: Stub): Promise<void> {
  await inStub(stub, (instance) => {
    delete instance.store.saveGroup;
  });
}

/** What a failed request must leave exactly as it was: the object's memory, deadlines, rows, alarm. */
export async function objectState(stub: Stub): Promise<Record<string, unknown>> {
  return inStub(stub, async (instance) => {
    const group = instance.group;
    const ids: string[] = group ? [...group.members.keys()] : [];
    const deadline = (heap: any, id: string) => heap?.get(id) ?? null;
    const sql = instance.ctx.storage.sql;
    return {
      describe: group?.describe() ?? null,
      nextDeadline: group?.nextDeadline() ?? null,
      dirty: group?.dirty ?? false,
      sessions: Object.fromEntries(
        ids.map((id) => [id, deadline(group.sessionDeadlines ?? group.sessions, id)]),
      ),
      revocations: Object.fromEntries(ids.map((id) => [id, deadline(group.revokeDeadlines, id)])),
      // The classic group's volatile state (absent on a consumer group).
      joinDeadline: group?.joinDeadline ?? null,
      syncDeadline: group?.syncDeadline ?? null,
      awaitingJoin: group?.awaitingJoin ? [...group.awaitingJoin.keys()].sort() : null,
      awaitingSync: group?.awaitingSync ? [...group.awaitingSync.keys()].sort() : null,
      pendingSync: group?.pendingSync ? [...group.pendingSync].sort() : null,
      groupRow: sql.exec("SELECT record FROM group_row").toArray(),
      memberRows: sql.exec("SELECT member_id, record FROM members ORDER BY member_id").toArray(),
      alarm: await instance.ctx.storage.getAlarm(),
    };
  });
}
