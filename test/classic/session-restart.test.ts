/**
 * Sessions across restarts of the group's object: an idle object is evicted (or crashes) between alarm
 * runs, so a restored group must not hand a dead member a fresh session every time it wakes. A member
 * heard in the object's previous life gets one fresh session (as Kafka after a coordinator moves); a
 * member not heard then keeps the deadline it had, so it is removed one session after that life began.
 */

import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "../integration/helpers";
import { assignment, heartbeat, join, sleep, sync } from "./members";

const SILENT_SESSION = 1000;
const LIVE_SESSION = 3000;

/** Two static members, Stable at generation 1: `live` keeps heartbeating, `silent` never speaks again. */
async function stableStaticPair(g: string) {
  const o = { rebalanceTimeoutMs: 5000 };
  const joined = await Promise.all([
    join(g, { ...o, groupInstanceId: "live", sessionTimeoutMs: LIVE_SESSION }),
    join(g, { ...o, groupInstanceId: "silent", sessionTimeoutMs: SILENT_SESSION }),
  ]);
  const [live, silent] = joined.map((r) => r.body.memberId as string);
  const plan = { [live!]: assignment("orders", [0]), [silent!]: assignment("orders", [1]) };
  const synced = await Promise.all(
    joined.map((r, i) =>
      sync(g, r.body.memberId, 1, r.body.members.length > 0 ? plan : {}, i === 0 ? "live" : "silent"),
    ),
  );
  for (const s of synced) expect(s.status).toBe(200);
  return { live: live!, silent: silent!, silentLastHeard: Date.now() };
}

const memberIds = async (g: string): Promise<string[]> =>
  (await call("GET", `/v1/groups/${g}`)).body.members.map((m: any) => m.memberId);

describe("classic sessions across object restarts", () => {
  it("removes a silent static member within its session of the first restart, though the object restarts between every alarm", async () => {
    const g = `restart-session-${Date.now().toString(36)}`;
    const stub = () => env.GROUPS.getByName(g);
    const { live, silent, silentLastHeard } = await stableStaticPair(g);
    let removedAt: number | null = null;
    for (let round = 0; round < 40 && removedAt === null; round++) {
      await sleep(150);
      expect([200, 409]).toContain((await heartbeat(g, live, 1, "live")).status);
      // An idle object is evicted, or crashes, before its alarm fires: every alarm runs in a new life.
      if (round % 2 === 0) await evictDurableObject(stub());
      else await abortAllDurableObjects();
      await runDurableObjectAlarm(stub());
      if (!(await memberIds(g)).includes(silent)) removedAt = Date.now();
    }
    expect(removedAt).not.toBeNull();
    // One fresh session at the first restart after it was last heard, never another: under two
    // sessions, plus slack for a loaded machine (before the fix it stayed forever).
    expect(removedAt! - silentLastHeard).toBeLessThan(2 * SILENT_SESSION + 2500);
    // The live member, heard in every life, was never expired.
    expect(await memberIds(g)).toEqual([live]);
  });
});
