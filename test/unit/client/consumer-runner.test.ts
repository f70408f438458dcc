/**
 * The consumer's fetch-and-handle loop in plain Node with an in-memory log (no coordinator): fast-check
 * over partition counts, fetch sizes, in-flight caps and concurrency, with handlers that yield a random
 * number of times. Every record is handled exactly once, in order within its partition; the records
 * fetched and not yet handled never exceed the cap; no more partitions are handled at once than allowed.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  newPartitionState,
  PartitionRunner,
  type PartitionState,
} from "../../../src/client/consumer-runner.ts";
import { MemoryLog } from "../../../src/client/memory-log.ts";
import { keyOf } from "../../../src/client/partitions.ts";

async function yields(n: number) {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

type Host = ConstructorParameters<typeof PartitionRunner<string>>[0];

/** Partitions 0 … n-1 of topic "t", each from offset 0. */
function ownedPartitions(n: number): Map<string, PartitionState> {
  const owned = new Map<string, PartitionState>();
  for (let p = 0; p < n; p++) {
    const tp = { topic: "t", partition: p };
    owned.set(keyOf(tp), newPartitionState(tp, 0, null));
  }
  return owned;
}

/** A runner host with no commits and no pausing. */
function host(
  owned: Map<string, PartitionState>,
  source: Host["source"],
  stopped: () => boolean,
  fail: (error: unknown) => void = () => {},
): Host {
  return {
    owned,
    paused: new Set(),
    source,
    stopped,
    processed: async () => {},
    commitIfDue: async () => {},
    pause: () => {},
    fail,
  };
}

async function runAll(spec: {
  partitions: number;
  records: number;
  maxRecords: number;
  cap: number;
  concurrency: number;
  delays: number[];
}) {
  const log = MemoryLog.filled({ t: spec.partitions }, spec.records, (_t, p, o) => `${p}/${o}`);
  const owned = ownedPartitions(spec.partitions);
  let fetched = 0;
  let handled = 0;
  let peak = 0;
  let active = 0;
  let maxActive = 0;
  let stopped = false;
  const seen = new Map<number, number[]>();
  const source = {
    async fetch(topic: string, partition: number, from: number, max: number) {
      const result = await log.fetch(topic, partition, from, max);
      fetched += result.records.length;
      peak = Math.max(peak, fetched - handled);
      return result;
    },
  };
  let failure: unknown;
  const runner: PartitionRunner<string> = new PartitionRunner<string>(
    host(
      owned,
      source,
      () => stopped,
      (error) => {
        failure = error;
        stopped = true;
      },
    ),
    { maxRecords: spec.maxRecords, maxInFlightRecords: spec.cap, idleMs: 1, maxPollIntervalMs: 60_000 },
    {
      partitionsConsumedConcurrently: spec.concurrency,
      eachMessage: async ({ partition, message }) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await yields(spec.delays[(partition + message.offset) % spec.delays.length]!);
        seen.set(partition, [...(seen.get(partition) ?? []), message.offset]);
        active--;
        handled++;
        if (handled === spec.partitions * spec.records) {
          stopped = true;
          runner.wake();
        }
      },
    },
  );
  if (spec.partitions * spec.records === 0) return { seen, peak, maxActive, failure, runner };
  await runner.loop();
  return { seen, peak, maxActive, failure, runner };
}

describe("PartitionRunner", () => {
  it("handles every record once, in order per partition, within the in-flight cap and the concurrency", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          partitions: fc.integer({ min: 1, max: 6 }),
          records: fc.integer({ min: 0, max: 30 }),
          maxRecords: fc.integer({ min: 1, max: 10 }),
          cap: fc.integer({ min: 1, max: 25 }),
          concurrency: fc.integer({ min: 1, max: 6 }),
          delays: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 7 }),
        }),
        async (spec) => {
          const { seen, peak, maxActive, failure, runner } = await runAll(spec);
          expect(failure).toBeUndefined();
          for (let p = 0; p < spec.partitions; p++)
            expect(seen.get(p) ?? []).toEqual([...Array(spec.records).keys()]);
          expect(peak).toBeLessThanOrEqual(spec.cap);
          expect(maxActive).toBeLessThanOrEqual(Math.min(spec.concurrency, spec.partitions));
          expect(runner.inFlight).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("takes partitions round-robin, so one busy partition does not starve the others", async () => {
    const order: string[] = [];
    const log = MemoryLog.filled({ t: 3 }, 2, () => "");
    const owned = ownedPartitions(3);
    let stopped = false;
    const runner: PartitionRunner<string> = new PartitionRunner<string>(
      host(owned, log, () => stopped),
      { maxRecords: 1, maxInFlightRecords: 10, idleMs: 1, maxPollIntervalMs: 60_000 },
      {
        eachMessage: ({ partition, message }) => {
          order.push(`${partition}/${message.offset}`);
          if (order.length === 6) {
            stopped = true;
            runner.wake();
          }
        },
      },
    );
    await runner.loop();
    expect(order).toEqual(["0/0", "1/0", "2/0", "0/1", "1/1", "2/1"]);
  });

  it("refuses a handler-less run and a bad concurrency", () => {
    const none = host(
      new Map(),
      MemoryLog.filled({}, 0, () => ""),
      () => true,
    );
    const limits = { maxRecords: 1, maxInFlightRecords: 1, idleMs: 1, maxPollIntervalMs: 1 };
    expect(() => new PartitionRunner(none, limits, {})).toThrow(TypeError);
    expect(
      () => new PartitionRunner(none, limits, { eachMessage: () => {}, partitionsConsumedConcurrently: 0 }),
    ).toThrow(RangeError);
  });
});
