/**
 * Nothing a client was told is committed is ever lost: acknowledged commits survive the object being
 * evicted (graceful) or aborted (a crash) and are read back after it restarts from SQLite.
 */

import { abortAllDurableObjects, evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { call, commit, freshGroup } from "./helpers";

async function commitMany(g: string, n: number): Promise<number[]> {
  const acked: number[] = [];
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await commit(g, [{ topic: "t", partition: i, offset: 1000 + i, metadata: `m${i}` }]);
      if (res.status === 200) acked.push(i);
    }),
  );
  return acked.sort((a, b) => a - b);
}

async function committedPartitions(g: string): Promise<Map<number, number>> {
  const res = await call("GET", `/v1/groups/${g}/offsets?topic=t`);
  return new Map(res.body.offsets.map((o: any) => [o.partition, o.offset]));
}

it("keeps every acknowledged commit across an eviction", async () => {
  const g = freshGroup();
  const acked = await commitMany(g, 40);
  expect(acked.length).toBe(40);
  await evictDurableObject(env.GROUPS.getByName(g));
  const stored = await committedPartitions(g);
  for (const p of acked) expect(stored.get(p)).toBe(1000 + p);
  expect((await call("GET", `/v1/groups/${g}`)).body.state).toBe("Empty");
});

it("keeps every acknowledged commit when objects are aborted, including commits in flight", async () => {
  const g = freshGroup();
  const before = await commitMany(g, 20);
  // Commits racing the abort: those acknowledged must be there; the others may or may not be.
  const racing = Array.from({ length: 20 }, (_, i) =>
    commit(g, [{ topic: "u", partition: i, offset: i + 1 }]).then((r) => (r.status === 200 ? i : -1)),
  );
  await abortAllDurableObjects();
  const ackedDuringAbort = (await Promise.all(racing)).filter((i) => i >= 0);
  const stored = await committedPartitions(g);
  for (const p of before) expect(stored.get(p)).toBe(1000 + p);
  const u = await call("GET", `/v1/groups/${g}/offsets?topic=u`);
  const uStored = new Set(u.body.offsets.map((o: any) => o.partition));
  for (const p of ackedDuringAbort) expect(uStored.has(p)).toBe(true);
});

it("answers a request whose object was aborted under it with a retriable 503 or success, never another 5xx", async () => {
  const g = freshGroup();
  const inflight = Array.from({ length: 10 }, (_, i) => commit(g, [{ topic: "t", partition: i, offset: 1 }]));
  await abortAllDurableObjects();
  for (const res of await Promise.all(inflight)) {
    expect([200, 503]).toContain(res.status);
    if (res.status === 503) expect(res.headers.get("retry-after")).toBe("1");
  }
});
