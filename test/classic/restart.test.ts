/**
 * Restart safety: the group's Durable Object aborted or evicted while joins and syncs are parked. The
 * parked requests must end with an error a client retries (never hang), the group must recover when
 * members rejoin, and the generation must never go backwards.
 */

import { abortAllDurableObjects, evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, freshGroup } from "../integration/helpers";
import { join, joinNew, sleep, sync, syncAll } from "./members";

const RETRIABLE = ["COORDINATOR_NOT_AVAILABLE", "REBALANCE_IN_PROGRESS", "UNKNOWN_MEMBER_ID"];

describe("restart safety of parked requests", () => {
  it("fails parked joins retriably when the object is aborted; the group recovers with a higher generation", async () => {
    const g = freshGroup("restart");
    const joined = await Promise.all([joinNew(g), joinNew(g)]);
    await syncAll(g, joined);
    const [a, b] = joined.map((r) => r.body.memberId as string);
    const parked = [joinNew(g), join(g, { memberId: a })];
    await sleep(100);
    await abortAllDurableObjects();
    const outcomes = await Promise.all(parked);
    for (const r of outcomes) {
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe("COORDINATOR_NOT_AVAILABLE");
      expect(r.headers.get("retry-after")).not.toBeNull();
    }
    const before = (await call("GET", `/v1/groups/${g}`)).body;
    expect(before.generationId).toBe(1);
    expect(before.state).toBe("PreparingRebalance");
    const third = before.members.map((m: any) => m.memberId).find((id: string) => id !== a && id !== b);
    const rejoined = await Promise.all([a, b, third].map((memberId) => join(g, { memberId })));
    for (const r of rejoined) expect(r.body.generationId).toBe(2);
    const synced = await syncAll(g, rejoined);
    for (const s of synced) expect(s.status).toBe(200);
    expect((await call("GET", `/v1/groups/${g}`)).body).toMatchObject({ state: "Stable", generationId: 2 });
  });

  it("ends a parked sync retriably when the object is evicted; the generation never goes backwards", async () => {
    const g = freshGroup("restart");
    const o = { rebalanceTimeoutMs: 1500 };
    const joined = await Promise.all([joinNew(g, o), joinNew(g, o)]);
    const follower = joined.find((r) => r.body.members.length === 0)!.body;
    const parked = sync(g, follower.memberId, 1);
    await sleep(100);
    await evictDurableObject(env.GROUPS.getByName(g));
    const outcome = await parked;
    expect(outcome.status).not.toBe(200);
    expect(RETRIABLE).toContain(outcome.body.error.code);
    const after = (await call("GET", `/v1/groups/${g}`)).body;
    expect(after.generationId).toBeGreaterThanOrEqual(1);
    // Everyone still in the group rejoins and forms the next generation.
    const ids: string[] = after.members.map((m: any) => m.memberId);
    const rejoined = await Promise.all(ids.map((memberId) => join(g, { ...o, memberId })));
    for (const r of rejoined) expect(r.body.generationId).toBeGreaterThan(1);
  });
});
