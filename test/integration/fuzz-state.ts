/**
 * What a hostile request must not change, read from the group's object itself: every member's session,
 * revocation and KIP-394 pending deadline (runInDurableObject on the instance's core), the group's own
 * join and sync deadlines, the describe output, and the row count of every table.
 */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { call } from "./helpers";

export interface Snapshot {
  describe: unknown;
  rows: Record<string, number>;
  deadlines: Record<string, unknown>;
  group: Record<string, unknown>;
}

/** Reads a deadline structure whether it is a Map or a DeadlineHeap (both have get). */
const read = (holder: any, field: string, id: string): unknown => holder?.[field]?.get?.(id) ?? null;

/** KIP-394 pending ids: a Map of id → deadline, or a DeadlineHeap (its size and earliest deadline). */
function pendingOf(pending: any): unknown {
  if (!pending) return null;
  if (pending instanceof Map) return [...pending.entries()].sort();
  return { size: pending.size, min: typeof pending.min === "function" ? pending.min() : null };
}

export async function snapshot(groupId: string): Promise<Snapshot> {
  const described = await call("GET", `/v1/groups/${groupId}`);
  const stub = env.GROUPS.getByName(groupId) as DurableObjectStub;
  const inner: Omit<Snapshot, "describe"> = await runInDurableObject(stub, (instance: any, state) => {
    const group = instance.group;
    const deadlines: Record<string, unknown> = {};
    for (const id of group ? [...group.members.keys()] : []) {
      deadlines[id] = ["sessionDeadlines", "revokeDeadlines", "pendingMembers"].map((f) =>
        read(group, f, id),
      );
    }
    const tables = [
      ...state.storage.sql.exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'",
      ),
    ].map((r) => r.name);
    const rows = Object.fromEntries(
      tables.map((t) => [
        t,
        state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM "${t}"`).one().n,
      ]),
    );
    return {
      rows,
      deadlines,
      group: {
        nextDeadline: group?.nextDeadline() ?? null,
        joinDeadline: group?.joinDeadline ?? null,
        syncDeadline: group?.syncDeadline ?? null,
        pendingIds: pendingOf(group?.pendingMembers),
      },
    };
  });
  return { describe: described.body, ...inner };
}

/** A snapshot with the named members' own deadlines left out (the issue fixes only the others'). */
export function others(s: Snapshot, named: string[]): Snapshot {
  const deadlines = Object.fromEntries(Object.entries(s.deadlines).filter(([id]) => !named.includes(id)));
  // nextDeadline may be a named member's own; it is compared through the other members' deadlines.
  const { nextDeadline: _next, ...group } = s.group;
  return { ...s, deadlines, group };
}
