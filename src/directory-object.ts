/**
 * GroupDirectory: the one Durable Object that lists groups (GET /v1/groups). Each GroupObject tells it
 * its summary (type, state, member count) when that changes, and that it is gone when it is deleted or
 * expires. Listing then costs one read here instead of a call to every group.
 */

import { DurableObject } from "cloudflare:workers";
import type { GroupSummary, GroupType } from "./core/group.ts";

export interface DirectoryFilter {
  states?: string[] | undefined;
  types?: GroupType[] | undefined;
}

export class GroupDirectory extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS groups (
        group_id TEXT PRIMARY KEY, type TEXT NOT NULL, state TEXT NOT NULL, members INTEGER NOT NULL) WITHOUT ROWID`);
    });
  }

  /** Records a group's summary, or its removal (null). Writes nothing when nothing changed. */
  async record(groupId: string, summary: GroupSummary | null): Promise<void> {
    const sql = this.ctx.storage.sql;
    if (!summary) {
      sql.exec("DELETE FROM groups WHERE group_id = ?", groupId);
      return;
    }
    const current = sql
      .exec("SELECT type, state, members FROM groups WHERE group_id = ?", groupId)
      .toArray()[0];
    if (
      current &&
      current.type === summary.type &&
      current.state === summary.state &&
      current.members === summary.members
    ) {
      return;
    }
    sql.exec(
      "INSERT OR REPLACE INTO groups (group_id, type, state, members) VALUES (?, ?, ?, ?)",
      groupId,
      summary.type,
      summary.state,
      summary.members,
    );
  }

  async list(filter: DirectoryFilter): Promise<GroupSummary[]> {
    const rows = this.ctx.storage.sql
      .exec("SELECT group_id, type, state, members FROM groups ORDER BY group_id")
      .toArray();
    return rows
      .map((r) => ({
        groupId: r.group_id as string,
        type: r.type as GroupType,
        state: r.state as string,
        members: r.members as number,
      }))
      .filter(
        (g) =>
          (!filter.states?.length || filter.states.includes(g.state)) &&
          (!filter.types?.length || filter.types.includes(g.type)),
      );
  }
}

/** The directory's single instance. */
export const directory = (env: Env) => env.DIRECTORY.getByName("directory");
