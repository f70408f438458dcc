/**
 * eachBatch misused as a kafkajs user might: resolveOffset with offsets outside the batch or not
 * integers, resolving out of order, throwing mid-batch. The promise under attack (README "SDK and
 * CLI"): resolveOffset(offset) marks `offset` and the batch's records before it processed, and the
 * commit strategy commits it — so a committed offset is never past a record that was not handed out.
 */

import { expect, it } from "vitest";
import { CommitStrategies } from "../../src/client/commit-strategy.ts";
import type { EachBatchPayload } from "../../src/client/consumer.ts";
import { consumer, freshGroup, newLog, sleep, until } from "../sdk/sdk-helpers";
import { CallLog, committedOf } from "./black-box";

const ONE = { orders: 1 };

/** One consumer on one partition of 25 records whose first batch (of 5) runs `first`. */
async function firstBatch(
  first: (p: EachBatchPayload<string>, log: CallLog) => Promise<void> | void,
  autoResolve = false,
) {
  const group = freshGroup("adv-resolve");
  const log = new CallLog();
  let calls = 0;
  const c = consumer(group, newLog(), { topics: ONE, commit: CommitStrategies.afterEach() });
  await c.start({
    eachBatchAutoResolve: autoResolve,
    eachBatch: async (payload: EachBatchPayload<string>) => {
      if (calls++ === 0) return first(payload, log);
      for (const m of payload.batch.messages) {
        if (!payload.isRunning()) break;
        await log.around("c", m.partition, m.offset, () => {});
        payload.resolveOffset(m.offset);
      }
    },
  });
  return { c, group, log };
}

it("resolveOffset past the batch's last record does not skip records that were never handed out", async () => {
  // The handler processes its batch (0..4) and resolves a far offset, as if by a typo or another partition's.
  const { c, group, log } = await firstBatch(async ({ batch, resolveOffset }, log) => {
    for (const m of batch.messages) await log.around("c", m.partition, m.offset, () => {});
    resolveOffset(batch.lastOffset() + 15);
  });
  await until("the consumer settled", async () => (await committedOf(group, "orders", 0)) >= 5);
  await sleep(300);
  await c.close();
  // Promised: a commit never goes past a record not handed out. Offsets 5..19 were never delivered.
  expect.soft(log.missing(0, 25)).toEqual([]);
  expect.soft(await committedOf(group, "orders", 0)).toBeLessThanOrEqual(25);
});

it("resolveOffset with a non-integer offset is a RangeError (as seek's), and neither skips a record nor wedges the commits", async () => {
  let thrown: unknown;
  const { c, group, log } = await firstBatch(async ({ batch, resolveOffset }, log) => {
    for (const m of batch.messages.slice(0, 3)) await log.around("c", m.partition, m.offset, () => {});
    try {
      resolveOffset(2.5); // a JavaScript number that is not an offset: refused, nothing resolved
    } catch (error) {
      thrown = error;
    }
  });
  await until("every record handled", () => log.missing(0, 25).length === 0, 5_000).catch(() => {});
  await sleep(300);
  await c.close();
  expect.soft(thrown).toBeInstanceOf(RangeError);
  expect.soft(log.missing(0, 25)).toEqual([]); // offset 3 must still be handed out
  expect.soft(await committedOf(group, "orders", 0)).toBe(25); // and commits must go on (integers only)
});

it("resolving out of order never moves the position backward; a later lower resolve is ignored", async () => {
  const { c, group, log } = await firstBatch(async ({ batch, resolveOffset }, log) => {
    for (const m of batch.messages) await log.around("c", m.partition, m.offset, () => {});
    resolveOffset(3);
    resolveOffset(1); // ignored: 3 covers it
    resolveOffset(4);
  });
  await until("all committed", async () => (await committedOf(group, "orders", 0)) === 25);
  await c.close();
  expect(log.missing(0, 25)).toEqual([]);
  // No record of the first batch is handed out twice: the lower resolve did not rewind.
  expect(log.calls.filter((x) => x.offset < 5)).toHaveLength(5);
});

it("a handler that throws mid-batch stops the consumer; nothing past the last resolved offset is committed", async () => {
  const group = freshGroup("adv-throw");
  const c = consumer(group, newLog(), { topics: ONE, commit: CommitStrategies.afterEach() });
  await c.start({
    eachBatch: async ({ batch, resolveOffset }: EachBatchPayload<string>) => {
      for (const m of batch.messages) {
        if (m.offset === 7) throw new Error("poison record");
        resolveOffset(m.offset);
        await sleep(5);
      }
    },
  });
  await expect(c.done()).rejects.toThrow("poison record");
  // 0..6 resolved (some possibly not committed yet when it stopped); never 8 or beyond.
  const committed = await committedOf(group, "orders", 0);
  expect(committed).toBeLessThanOrEqual(7);
});
