/**
 * Per-partition concurrency and revocation against handlers that misbehave: one partition far slower
 * than the rest, and an eachBatch handler that ignores isRunning() while its partition is revoked.
 * Promised (README): other partitions go on while one is slow, each partition stays in order, and a
 * revocation waits for the batch in hand, so the partition's next owner never overlaps it.
 */

import { expect, it } from "vitest";
import { CommitStrategies } from "../../src/client/commit-strategy.ts";
import type { EachBatchPayload } from "../../src/client/consumer.ts";
import { consumer, freshGroup, newLog, RECORDS_PER_PARTITION, sleep, until } from "../sdk/sdk-helpers";
import { CallLog, expectNoOverlap, Gate } from "./black-box";

it("partitionsConsumedConcurrently: a stuck partition does not hold the others back; order holds in each", async () => {
  const group = freshGroup("adv-slow");
  const log = new CallLog();
  const gate = new Gate();
  const c = consumer(group, newLog(), { commit: CommitStrategies.afterEach() });
  await c.start({
    partitionsConsumedConcurrently: 2,
    eachMessage: ({ partition, message, heartbeat }) =>
      log.around("c", partition, message.offset, async () => {
        if (partition !== 0 || message.offset !== 0) return;
        await gate.hold(heartbeat);
      }),
  });
  await until("partitions 1..3 done while 0 is stuck", () =>
    [1, 2, 3].every((p) => log.missing(p, RECORDS_PER_PARTITION).length === 0),
  );
  expect(log.calls.filter((x) => x.partition === 0)).toHaveLength(1);
  gate.open();
  await until("partition 0 done", () => log.missing(0, RECORDS_PER_PARTITION).length === 0);
  await c.close();
  for (const p of [0, 1, 2, 3]) {
    const order = log.calls.filter((x) => x.partition === p).map((x) => x.offset);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  }
  expectNoOverlap(log);
});

it("an eachBatch handler that ignores isRunning() during its revocation: the next owner never overlaps it", async () => {
  const group = freshGroup("adv-ignore-running");
  const log = new CallLog();
  const source = newLog();
  const batchHandler =
    (name: string) =>
    async ({ batch, resolveOffset }: EachBatchPayload<string>) => {
      for (const m of batch.messages) {
        // Deliberately never looks at isRunning()/isStale(): it finishes the batch whatever happens.
        await log.around(name, m.partition, m.offset, () => sleep(60));
        resolveOffset(m.offset);
      }
    };
  const a = consumer(group, source, { commit: CommitStrategies.afterEach(), maxRecords: 10 });
  await a.start({ partitionsConsumedConcurrently: 4, eachBatch: batchHandler("a") });
  await until(
    "a is mid-batch on every partition",
    () => new Set(log.calls.map((x) => x.partition)).size === 4,
  );
  const b = consumer(group, source, { commit: CommitStrategies.afterEach(), maxRecords: 10 });
  await b.start({ partitionsConsumedConcurrently: 4, eachBatch: batchHandler("b") });
  await until("b owns some", () => b.assignment().length > 0);
  await until(
    "every record handled",
    () => [0, 1, 2, 3].every((p) => log.missing(p, RECORDS_PER_PARTITION).length === 0),
    25_000,
  );
  await Promise.all([a.close(), b.close()]);
  expectNoOverlap(log);
});
