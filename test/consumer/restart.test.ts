/**
 * Restart safety: the group's object is evicted (graceful) or aborted (a crash) in the middle of a
 * reconciliation. After it restarts from SQLite, no partition is held by two members (by what each was
 * last told) and the group converges once members keep heartbeating.
 */

import { abortAllDurableObjects, evictDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { call, freshGroup } from "../integration/helpers";
import { beat, disjointUnion, join, type Member, partitionsOf, stub } from "./consumer-helpers";

/** Heartbeats until Stable, checking after every response that nobody was told a partition twice. */
async function convergeSafely(g: string, members: Member[]): Promise<void> {
  for (let round = 0; round < 8; round++) {
    for (const m of members) {
      const res = await beat(g, m);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      disjointUnion(members);
    }
    if ((await call("GET", `/v1/groups/${g}`)).body.state === "Stable") return;
  }
  throw new Error("did not converge");
}

async function midReconciliation(g: string): Promise<Member[]> {
  const a = await join(g, "a", { t: 6 });
  const b = await join(g, "b", { t: 6 });
  await convergeSafely(g, [a, b]);
  const c = await join(g, "c", { t: 6 });
  // a and b are asked to revoke in their next heartbeats and have not answered; c waits for what they
  // still hold.
  await beat(g, a);
  await beat(g, b);
  const described = await call("GET", `/v1/groups/${g}`);
  expect(described.body.state).toBe("Reconciling");
  expect(partitionsOf(c.owned).length).toBeLessThan(2);
  disjointUnion([a, b, c]);
  return [a, b, c];
}

it("converges with no partition owned twice after an eviction mid-reconciliation", async () => {
  const g = freshGroup("r");
  const members = await midReconciliation(g);
  await evictDurableObject(stub(g));
  const after = await call("GET", `/v1/groups/${g}`);
  expect(after.body.members.map((m: any) => m.state)).toContain("UnrevokedPartitions");
  await convergeSafely(g, members);
  expect(disjointUnion(members)).toEqual([0, 1, 2, 3, 4, 5]);
  expect(members.map((m) => partitionsOf(m.owned).length)).toEqual([2, 2, 2]);
});

it("converges with no partition owned twice after the object is aborted mid-reconciliation", async () => {
  const g = freshGroup("r");
  const members = await midReconciliation(g);
  // a revokes, and the object crashes right after answering.
  await beat(g, members[0]!);
  await abortAllDurableObjects();
  disjointUnion(members);
  await convergeSafely(g, members);
  expect(disjointUnion(members)).toEqual([0, 1, 2, 3, 4, 5]);
});
