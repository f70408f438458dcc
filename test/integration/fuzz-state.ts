/**
 * What a hostile request must not change, read from the group's object itself (runInDurableObject on
 * the instance): every keyed structure the group's core holds — session, revocation and KIP-394
 * pending deadlines, join and sync timers, parked requests, member records — whether it is a Map or a
 * DeadlineHeap and whatever its field is called; the group's scalar fields (epochs, state, join and
 * sync deadlines); the describe output; and the row count of every table.
 */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { call } from "./helpers";

export interface Snapshot {
  describe: unknown;
  rows: Record<string, number>;
  /** field → sorted [key, value] entries of each Map or DeadlineHeap of the group. */
  keyed: Record<string, [string, unknown][]>;
  /** The group's own numbers, strings and booleans (epochs, state, join/sync deadlines, …). */
  scalars: Record<string, unknown>;
}

const plain = (v: unknown): unknown => {
  if (v === null || typeof v !== "object") return v;
  try {
    return JSON.stringify(v, (_k, x) => (x instanceof Set ? [...x] : x instanceof Map ? [...x] : x));
  } catch {
    return "[unserializable]";
  }
};

/** Keys of a Map, or of a DeadlineHeap (its id array); null for anything else. */
function keysOf(value: any): string[] | null {
  if (value instanceof Map) return [...value.keys()].map(String);
  if (value && typeof value === "object" && Array.isArray(value.ids) && typeof value.get === "function")
    return [...value.ids];
  return null;
}

function readGroup(group: any): Pick<Snapshot, "keyed" | "scalars"> {
  const keyed: Snapshot["keyed"] = {};
  const scalars: Snapshot["scalars"] = {};
  if (!group) return { keyed, scalars };
  for (const [field, value] of Object.entries(group)) {
    const keys = keysOf(value);
    if (keys) keyed[field] = keys.sort().map((k) => [k, plain((value as Map<string, unknown>).get(k))]);
    else if (value === null || ["number", "string", "boolean"].includes(typeof value)) scalars[field] = value;
  }
  // Without a numeric deadline for every member the comparison would prove nothing: say so.
  for (const id of group.members.keys()) {
    const found = Object.values(keyed).some((entries) =>
      entries.some(([k, v]) => k === id && typeof v === "number"),
    );
    if (!found)
      throw new Error(`no deadline found for member ${id}: the snapshot no longer sees the core's deadlines`);
  }
  return { keyed, scalars };
}

export async function snapshot(groupId: string): Promise<Snapshot> {
  const described = await call("GET", `/v1/groups/${groupId}`);
  const stub = env.GROUPS.getByName(groupId) as DurableObjectStub;
  const inner: Omit<Snapshot, "describe"> = await runInDurableObject(stub, (instance: any, state) => {
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
    return { rows, ...readGroup(instance.group) };
  });
  return { describe: described.body, ...inner };
}

/**
 * A snapshot without what the named members may legitimately move (their own entries), and without
 * the few group fields that follow from them alone (the cached earliest deadline, the wake-up time).
 */
export function others(s: Snapshot, named: string[]): Snapshot {
  const keyed = Object.fromEntries(
    Object.entries(s.keyed).map(([field, entries]) => [field, entries.filter(([k]) => !named.includes(k))]),
  );
  return { ...s, keyed };
}
