/**
 * seek, pause/resume and the in-flight cap misused: offsets outside API.md §1's range (integer
 * 0 … 2^53−1), seeks of partitions not owned, resuming what was never paused, maxInFlightRecords 1.
 * Promised (README "SDK and CLI"): after seek the next record handed out is at the offset and "the
 * next commit commits the new position"; pause/resume cause no rebalance; the cap is never exceeded.
 */

import { expect, it } from "vitest";
import { CommitStrategies } from "../../src/client/commit-strategy.ts";
import { consumer, freshGroup, newLog, sleep, until } from "../sdk/sdk-helpers";
import { CallLog, committedOf } from "./black-box";

const ONE = { orders: 1 };

it("seek rejects negative and non-integer offsets at once and changes nothing", async () => {
  const c = consumer(freshGroup("adv-seek-bad"), newLog(), { topics: ONE });
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
    expect(() => c.seek("orders", 0, bad)).toThrow(RangeError);
});

it("maxInFlightRecords that is not a positive integer is refused at construction", () => {
  for (const bad of [0, 0.5, -3, Number.NaN])
    expect(() =>
      consumer(freshGroup("adv-cap-bad"), newLog(), { topics: ONE, maxInFlightRecords: bad }),
    ).toThrow(RangeError);
});

it("seek past 2^53−1 (not a JSON-safe offset, API.md §1) is refused by the SDK, not left to wedge every later commit", async () => {
  const group = freshGroup("adv-seek-huge");
  const c = consumer(group, newLog(), { topics: ONE, commit: CommitStrategies.afterEach() });
  await c.start(() => {});
  await until("first records committed", async () => (await committedOf(group, "orders", 0)) === 25);
  let threw = false;
  try {
    c.seek("orders", 0, 2 ** 53 + 2);
  } catch (error) {
    threw = error instanceof RangeError;
  }
  if (!threw) {
    // Accepted: then its promise holds — the next commit commits the new position (or says why not).
    const commit = await c.commit().then(
      () => "ok",
      (e: { status?: number }) => `refused ${e.status}`,
    );
    expect.soft(commit).toBe("ok");
  }
  await c.close();
  expect(threw).toBe(true);
});

it("a seek of a partition not assigned applies when it is assigned, and then commits that position", async () => {
  const group = freshGroup("adv-seek-later");
  const log = new CallLog();
  const c = consumer(group, newLog(), { topics: ONE, commit: CommitStrategies.afterEach() });
  c.seek("orders", 0, 20); // before start: nothing owned yet
  c.seek("nosuch", 3, 1); // a topic not subscribed: harmless
  await c.start((r) => log.around("c", r.partition, r.offset, () => {}));
  await until("committed at the end", async () => (await committedOf(group, "orders", 0)) === 25);
  await c.close();
  expect(log.calls.map((x) => x.offset)).toEqual([20, 21, 22, 23, 24]);
});

it("resume of partitions never paused (and of unknown topics) is a no-op: no rebalance, nothing skipped", async () => {
  const group = freshGroup("adv-resume");
  const log = new CallLog();
  const c = consumer(group, newLog(), { topics: ONE, commit: CommitStrategies.afterEach() });
  await c.start((r) => log.around("c", r.partition, r.offset, () => sleep(2)));
  const epoch = c.epoch;
  c.resume([{ topic: "orders" }, { topic: "orders", partition: 0 }, { topic: "nosuch" }]);
  c.resume([{ topic: "orders", partitions: [7, -1] }]);
  expect(c.paused()).toEqual([]);
  await until("all handled", () => log.missing(0, 25).length === 0);
  expect(c.epoch).toBe(epoch);
  await c.close();
  expect(log.calls).toHaveLength(25);
});

it("seek from inside the handler during a pause: nothing handed out until resume, then from the sought offset", async () => {
  const group = freshGroup("adv-seek-pause");
  const log = new CallLog();
  const c = consumer(group, newLog(), { topics: ONE, commit: CommitStrategies.afterEach() });
  await c.start(({ partition, offset }) =>
    log.around("c", partition, offset, () => {
      if (offset === 4) {
        c.pause([{ topic: "orders" }]);
        c.seek("orders", 0, 15);
      }
    }),
  );
  await until("offset 4 handled", () => log.calls.some((x) => x.offset === 4));
  await sleep(300);
  expect(log.calls.map((x) => x.offset)).toEqual([0, 1, 2, 3, 4]);
  c.resume([{ topic: "orders" }]);
  await until("the end reached", () => log.calls.some((x) => x.offset === 24));
  await c.close();
  expect(log.calls.map((x) => x.offset)).toEqual([0, 1, 2, 3, 4, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
  expect(await committedOf(group, "orders", 0)).toBe(25);
});

it("maxInFlightRecords 1 with four partitions handled concurrently: never more than one record in flight", async () => {
  const group = freshGroup("adv-inflight");
  const log = new CallLog();
  let peak = 0;
  const c = consumer(group, newLog(), { maxInFlightRecords: 1, commit: CommitStrategies.afterBatch(10) });
  await c.start({
    partitionsConsumedConcurrently: 4,
    eachMessage: ({ partition, message }) =>
      log.around("c", partition, message.offset, async () => {
        peak = Math.max(peak, c.inFlight);
        await sleep(1);
      }),
  });
  await until("all 100 handled", () => log.calls.length >= 100, 25_000);
  await c.close();
  expect(peak).toBeLessThanOrEqual(1);
  const running = log.calls.filter((a) =>
    log.calls.some((b) => a !== b && b.start < a.end && a.start < b.end),
  );
  expect(running).toEqual([]); // one record at a time across all partitions
});
