/**
 * A classic step that fails (a real SQLite failure injected into the write of one row) answers only
 * its own request: joins parked before it stay parked, because the state they wait in is exactly as
 * it was, and the rebalance completes for them as if the failed request had never arrived. Sessions
 * and the join deadline do not move.
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { freshGroup } from "../integration/helpers";
import { curePoison, objectState, poisonWrites } from "../integration/inject-failure";
import { join, joinNew, sleep, syncAll } from "./members";

const stub = (g: string) => env.GROUPS.getByName(g);

it("a failed join leaves parked joins parked and every deadline as it was; the rebalance then completes", async () => {
  const g = freshGroup("classic-fail");
  const joined = await Promise.all([joinNew(g), joinNew(g)]);
  await syncAll(g, joined);
  const [first, second] = joined.map((r) => r.body.memberId as string);
  // first rejoins: the group prepares a rebalance and parks first's join until second rejoins.
  const parked = join(g, { memberId: first });
  let answered: unknown = null;
  void parked.then((r) => {
    answered = r;
  });
  await sleep(100);
  const before = await objectState(stub(g));
  expect(before.awaitingJoin).toEqual([first]);
  await poisonWrites(stub(g), (_id, row) => row?.groupInstanceId === "poison");
  await sleep(30);
  // A new static member's join must write its row: the write fails.
  const failed = await join(g, { groupInstanceId: "poison" });
  expect(failed.status, JSON.stringify(failed.body)).toBe(503);
  expect(failed.body.error.code).toBe("COORDINATOR_NOT_AVAILABLE");
  expect(failed.headers.get("retry-after")).not.toBeNull();
  expect(await objectState(stub(g))).toEqual(before);
  expect(answered).toBeNull();
  // second rejoins: the join phase completes for both, with first's original request answered.
  await curePoison(stub(g));
  const rejoined = await join(g, { memberId: second });
  const firstAnswer = await parked;
  expect([firstAnswer.status, rejoined.status]).toEqual([200, 200]);
  expect([firstAnswer.body.generationId, rejoined.body.generationId]).toEqual([2, 2]);
});

it("an alarm that fails to end a join phase keeps the parked join parked, and answers it once it succeeds", async () => {
  const g = freshGroup("classic-fail");
  const o = { rebalanceTimeoutMs: 400 };
  const joined = await Promise.all([joinNew(g, o), joinNew(g, o)]);
  await syncAll(g, joined);
  const [first, silent] = joined.map((r) => r.body.memberId as string);
  await poisonWrites(stub(g), (memberId) => memberId === silent);
  // first rejoins; silent never does: at the join deadline the alarm removes silent, and that write fails.
  let answered: { status: number; body: any } | null = null;
  const parked = join(g, { ...o, memberId: first }).then((r) => {
    answered = r;
    return r;
  });
  await sleep(700);
  const before = await objectState(stub(g));
  expect(before.awaitingJoin).toEqual([first]);
  expect(before.joinDeadline as number).toBeLessThan(Date.now());
  expect(await runDurableObjectAlarm(stub(g))).toBe(true);
  const after = await objectState(stub(g));
  expect({ ...after, alarm: null }).toEqual({ ...before, alarm: null });
  expect(after.alarm as number).toBeGreaterThan(Date.now() + 500);
  expect(answered).toBeNull();
  await curePoison(stub(g));
  expect(await runDurableObjectAlarm(stub(g))).toBe(true);
  const done = await parked;
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  expect(done.body.generationId).toBe(2);
  expect(done.body.members.map((m: any) => m.memberId)).toEqual([first]);
});
