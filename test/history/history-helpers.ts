/**
 * Helpers for the history tests on the Workers pool: the two history routes, and a group object's
 * rows counted in its own SQLite (`ctx.storage.sql`, through `runInDurableObject`).
 */

import { env } from "cloudflare:workers";
import { call, type Reply } from "../integration/helpers";
import { inObject } from "../integration/inject-failure";

export { inObject };

export const stub = (groupId: string) => env.GROUPS.getByName(groupId);

export const events = (groupId: string, query = "", token?: string): Promise<Reply> =>
  call("GET", `/v1/groups/${groupId}/events${query}`, undefined, token === undefined ? {} : { token });

export const lagHistory = (groupId: string, query = "", token?: string): Promise<Reply> =>
  call("GET", `/v1/groups/${groupId}/lag/history${query}`, undefined, token === undefined ? {} : { token });

/** Every event kept, oldest first (all pages). */
export async function allEvents(groupId: string): Promise<any[]> {
  const out: any[] = [];
  let after = 0;
  for (;;) {
    const page = await events(groupId, `?after=${after}&limit=1000`);
    if (page.status !== 200) throw new Error(`events: ${page.status} ${JSON.stringify(page.body)}`);
    out.push(...page.body.events);
    if (page.body.events.length === 0) return out;
    after = page.body.nextAfter;
  }
}

/** The object's row counts (history events, lag samples) and its rows written since it started. */
export async function rows(
  groupId: string,
): Promise<{ events: number; samples: number; lastSeq: number; written: number }> {
  return inObject(groupId, (instance, state) => {
    const one = (query: string) => (state.storage.sql.exec(query).one().n as number | null) ?? 0;
    return {
      events: one("SELECT COUNT(*) AS n FROM history_events"),
      samples: one("SELECT COUNT(*) AS n FROM lag_samples"),
      lastSeq: one("SELECT MAX(seq) AS n FROM history_events"),
      written: instance.store.rowsWritten,
    };
  });
}

/** Rows the object writes during `step` (its own SQLite's count), and the events it recorded. */
export async function cost(groupId: string, step: () => Promise<unknown>) {
  const before = await rows(groupId);
  await step();
  const after = await rows(groupId);
  return { written: after.written - before.written, events: after.lastSeq - before.lastSeq, after };
}

export const typesOf = (list: any[]) => list.map((e) => e.type);
