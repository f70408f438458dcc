/**
 * Restart safety of share groups (API.md §7): acknowledged and archived state and SPSO are durable
 * when the response is sent; acquired state is memory only. After an eviction (graceful) or an abort
 * (a crash) with locks held, the acquired offsets are available again and the acknowledged ones are
 * never handed out again — also for acknowledgements racing the abort; the members stay; an acquire
 * parked when the object crashed is answered with a retriable 503.
 */

import { abortAllDurableObjects, evictDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { call, freshGroup } from "../integration/helpers";
import {
  ack,
  acknowledge,
  acquire,
  archived,
  joinShare,
  offsetsOf,
  type Ranges,
  sharePartition,
  stub,
  take,
} from "./share-helpers";

const one = (offset: number): Ranges => [
  { topic: "t", partition: 0, firstOffset: offset, lastOffset: offset },
];

/** a holds 0-9 of a 10-offset log, has accepted 0-3 and rejected 4: SPSO 5, locks on 5-9. */
async function locksHeld(g: string) {
  const a = await joinShare(g, { t: 1 }, "a");
  await take(g, a, [{ partition: 0, logEndOffset: 10 }]);
  const res = await acknowledge(g, {
    memberId: "a",
    acknowledgements: [
      ...ack([{ topic: "t", partition: 0, firstOffset: 0, lastOffset: 3 }], "accept"),
      ...ack(one(4), "reject"),
    ],
  });
  expect(res.body.acknowledgements.map((x: any) => x.error)).toEqual([null, null]);
  expect(await sharePartition(g)).toMatchObject({ startOffset: 5, acquired: 5 });
  return a;
}

for (const [name, restart] of [
  ["an eviction", (g: string) => evictDurableObject(stub(g))],
  ["an abort", () => abortAllDurableObjects()],
] as const) {
  it(`makes acquired offsets available again after ${name}, and never hands out acknowledged ones`, async () => {
    const g = freshGroup("restart");
    const a = await locksHeld(g);
    await restart(g);
    // 5-9 were never delivered before (count 0): persisted as new, they count as lag, not in flight.
    expect(await sharePartition(g)).toMatchObject({
      startOffset: 5,
      acquired: 0,
      logEndOffset: 10,
      lag: 5,
    });
    expect((await call("GET", `/v1/groups/${g}`)).body.members.map((m: any) => m.memberId)).toEqual(["a"]);
    expect((await archived(g)).body.ranges).toEqual([
      expect.objectContaining({ firstOffset: 4, reason: "rejected" }),
    ]);
    // The old locks are gone with the object: acknowledging them is refused, acquiring gets them again.
    const stale = await acknowledge(g, { memberId: "a", acknowledgements: ack(one(5), "accept") });
    expect(stale.body.acknowledgements[0].error.code).toBe("INVALID_RECORD_STATE");
    const again = await take(g, a, []);
    expect(offsetsOf(again.body.records)).toEqual(
      offsetsOf([{ topic: "t", partition: 0, firstOffset: 5, lastOffset: 9 }]),
    );
  });
}

it("never redelivers an acknowledgement that succeeded while the object was aborted", async () => {
  const g = freshGroup("restart");
  const a = await joinShare(g, { t: 1 }, "a");
  await take(g, a, [{ partition: 0, logEndOffset: 20 }]);
  const racing = Array.from({ length: 20 }, (_, i) =>
    acknowledge(g, { memberId: "a", acknowledgements: ack(one(i), "accept") }).then((r) =>
      r.status === 200 && r.body.acknowledgements[0].error === null ? i : -1,
    ),
  );
  await abortAllDurableObjects();
  const accepted = (await Promise.all(racing)).filter((i) => i >= 0);
  const redelivered = offsetsOf((await take(g, a, [])).body.records);
  for (const i of accepted) expect(redelivered).not.toContain(`t-0:${i}`);
  // Everything not accepted comes back: nothing is lost either.
  expect(redelivered.length + accepted.length).toBe(20);
});

it("answers an acquire parked when the object crashed with a retriable 503", async () => {
  const g = freshGroup("restart");
  const a = await joinShare(g, { t: 1 }, "a");
  await take(g, a, [{ partition: 0, logEndOffset: 0 }]);
  const parked = acquire(g, { memberId: "a", maxRecords: 5, maxWaitMs: 20_000 });
  await new Promise((r) => setTimeout(r, 200));
  await abortAllDurableObjects();
  const res = await parked;
  expect([200, 503]).toContain(res.status);
  if (res.status === 503) expect(res.headers.get("retry-after")).toBe("1");
  else expect(res.body.records).toEqual([]);
});
