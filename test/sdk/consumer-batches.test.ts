/**
 * How the consumer hands records out, on the real coordinator: an eachBatch handler longer than the
 * session kept alive by heartbeat() (and, without it, the member removed as by Kafka's poll timeout),
 * per-partition concurrency that keeps order within a partition while partitions overlap in time, and
 * the in-flight cap bounding records fetched and not yet handled.
 */

import { expect, it } from "vitest";
import { CommitStrategies } from "../../src/client/commit-strategy.ts";
import type { EachBatchPayload } from "../../src/client/consumer.ts";
import type { TopicPartition } from "../../src/client/partitions.ts";
import {
  CountingSource,
  consumer,
  freshGroup,
  newLog,
  RECORDS_PER_PARTITION,
  sleep,
  until,
} from "./sdk-helpers";

// The project's CONSUMER_SESSION_TIMEOUT_MS is 1.5 s; a handler may go 1 s without progress.
const SESSION_MS = 1_500;
const POLL_INTERVAL_MS = 1_000;
const LONG_BATCH_MS = 4_000;

/** A consumer whose first batch of partition 0 takes LONG_BATCH_MS, calling heartbeat() or not. */
async function longBatch(heartbeats: boolean) {
  const group = freshGroup(heartbeats ? "long-batch" : "stuck-batch");
  const lost: TopicPartition[][] = [];
  const flags: { running: boolean; stale: boolean }[] = [];
  /** The first offset handed to a batch after the long one (after a loss: the committed position). */
  const after: number[] = [];
  let long = true;
  const c = consumer(group, newLog(), {
    topics: { orders: 1 },
    rebalanceTimeoutMs: POLL_INTERVAL_MS,
    commit: CommitStrategies.afterBatch(1),
    listener: { onPartitionsLost: (ps) => void lost.push(ps) },
  });
  await c.start({
    eachBatch: async ({ batch, heartbeat, resolveOffset, isRunning, isStale }: EachBatchPayload<string>) => {
      if (!long) {
        if (after.length === 0 && batch.messages.length > 0) after.push(Number(batch.messages[0]!.offset));
        return;
      }
      long = false;
      const started = Date.now();
      const step = LONG_BATCH_MS / batch.messages.length / 4;
      for (const message of batch.messages) {
        for (let i = 0; i < 4; i++) {
          await sleep(step); // ~200 ms of work between heartbeats, well within the poll interval
          if (heartbeats) await heartbeat();
        }
        resolveOffset(message.offset);
      }
      expect(Date.now() - started).toBeGreaterThan(SESSION_MS);
      flags.push({ running: isRunning(), stale: isStale() });
    },
  });
  return { c, group, lost, flags, after, epoch: c.epoch, memberId: c.memberId };
}

it("an eachBatch handler longer than the session is kept alive by heartbeat(); resolved offsets are committed", async () => {
  const { c, lost, flags, epoch, memberId } = await longBatch(true);
  await until("the long batch ended", () => flags.length === 1, 10_000);
  expect(flags).toEqual([{ running: true, stale: false }]);
  await until("partition 0 consumed", () => c.position("orders", 0) === RECORDS_PER_PARTITION);
  expect(lost).toEqual([]);
  expect([c.memberId, c.epoch]).toEqual([memberId, epoch]);
  await until("committed", async () => (await c.committed("orders", 0)) === RECORDS_PER_PARTITION);
  await c.close();
});

it("without heartbeat() the same batch outlasts the poll interval: the member is removed, its partitions lost", async () => {
  const { c, lost, flags, after } = await longBatch(false);
  await until("the long batch ended", () => flags.length === 1, 10_000);
  await until("the partitions were reported lost", () => lost.length > 0, 10_000);
  expect(lost[0]).toEqual([{ topic: "orders", partition: 0 }]);
  // Of the five records resolved, only what was resolved within the poll interval was committed: the
  // member, back in the group, is handed the partition again from there.
  await until("the partition handed out again", () => after.length > 0, 10_000);
  expect(after[0]).toBeLessThanOrEqual(2);
  await c.close();
});

/** Handles every record with a 10 ms handler at the given concurrency; measures overlap and order. */
async function concurrent(partitionsConsumedConcurrently: number) {
  const group = freshGroup("concurrent");
  const byPartition = new Map<number, number[]>();
  let active = 0;
  let maxActive = 0;
  let busyMs = 0;
  let firstStart = 0;
  let lastEnd = 0;
  const c = consumer(group, newLog(), { commit: CommitStrategies.afterBatch(10) });
  await c.start({
    partitionsConsumedConcurrently,
    eachMessage: async ({ partition, message }) => {
      active++;
      maxActive = Math.max(maxActive, active);
      const t = Date.now();
      firstStart ||= t;
      await sleep(10);
      lastEnd = Date.now();
      busyMs += lastEnd - t;
      active--;
      byPartition.set(partition, [...(byPartition.get(partition) ?? []), message.offset]);
    },
  });
  const total = () => [...byPartition.values()].reduce((n, l) => n + l.length, 0);
  await until("every record handled", () => total() === 4 * RECORDS_PER_PARTITION, 20_000);
  await c.close();
  // Handler time over the wall time from the first handler call to the last one's end.
  return { byPartition, maxActive, overlap: busyMs / (lastEnd - firstStart) };
}

it("partitionsConsumedConcurrently: partitions are handled at once, each in order", async () => {
  const four = await concurrent(4);
  for (const p of [0, 1, 2, 3])
    expect(four.byPartition.get(p)).toEqual([...Array(RECORDS_PER_PARTITION).keys()]);
  expect(four.maxActive).toBe(4);
  // Busy time over wall time: above 1 only when handlers overlap (4 at most).
  expect(four.overlap).toBeGreaterThan(1.5);
  const one = await concurrent(1);
  expect(one.maxActive).toBe(1);
  expect(one.overlap).toBeLessThanOrEqual(1.05);
  for (const p of [0, 1, 2, 3]) expect(one.byPartition.get(p)).toEqual(four.byPartition.get(p));
});

/** Records fetched and not yet handled, as seen from outside: returned by the source minus handled. */
async function inFlightPeak(maxInFlightRecords?: number) {
  const group = freshGroup("backpressure");
  let handled = 0;
  let peak = 0;
  const source = new CountingSource(newLog(), () => {
    peak = Math.max(peak, source.returned - handled);
  });
  const c = consumer(group, newLog(), {
    source,
    maxRecords: 5,
    ...(maxInFlightRecords === undefined ? {} : { maxInFlightRecords }),
    commit: CommitStrategies.afterBatch(20),
  });
  await c.start({
    partitionsConsumedConcurrently: 4,
    eachMessage: async () => {
      peak = Math.max(peak, source.returned - handled);
      expect(c.inFlight).toBeLessThanOrEqual(maxInFlightRecords ?? Number.POSITIVE_INFINITY);
      await sleep(5);
      handled++;
    },
  });
  await until("every record handled", () => handled === 4 * RECORDS_PER_PARTITION, 20_000);
  await c.close();
  return peak;
}

it("maxInFlightRecords bounds the records fetched and not yet handled", async () => {
  const capped = await inFlightPeak(7);
  expect(capped).toBeLessThanOrEqual(7);
  expect(capped).toBeGreaterThanOrEqual(5); // the cap is what binds, not the fetch size
  // Without the cap four partitions fetch five records each at once.
  expect(await inFlightPeak()).toBeGreaterThan(7);
});
