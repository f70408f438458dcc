/**
 * Redelivery, the delivery limit and lock renewal through ShareConsumer on the real coordinator: a
 * handler that always throws sends its record to the archived list at SHARE_DELIVERY_COUNT_LIMIT, and
 * a redrive brings it back with its count reset; a record handled for 2.5 locks is not redelivered
 * when it is renewed — explicitly with record.renew(), or by the consumer's own renewal — and is
 * redelivered to the other consumer when it is not.
 */

import { afterEach, describe, expect, it } from "vitest";
import { MemoryLog } from "../../src/client/memory-log.ts";
import type { AcknowledgementFailure, ShareConsumer } from "../../src/client/share-consumer.ts";
import { freshGroup, sleep, until } from "./sdk-helpers.ts";
import { admin, DELIVERY_LIMIT, Deliveries, LOCK_MS, shareConsumer } from "./share-helpers.ts";

const running: ShareConsumer<string>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.close().catch(() => {})));
});

describe("a handler that always throws", () => {
  it("sends its record to the archived list at the delivery limit; a redrive delivers it again", async () => {
    const group = freshGroup("share-poison");
    const log = MemoryLog.filled({ jobs: 1 }, 4, (_t, _p, o) => `job-${o}`);
    const deliveries = new Deliveries();
    let fixed = false;
    const consumer = shareConsumer(group, log, { jobs: 1 });
    running.push(consumer);
    await consumer.run({
      eachRecord: (record) => {
        deliveries.note("c", record);
        if (record.offset === 1 && !fixed) throw new Error("poison");
      },
    });
    await until("offset 1 is archived", async () => (await admin.allArchived(group)).length > 0);
    expect(deliveries.of(0, 1).map((d) => d.deliveryCount)).toEqual([1, 2, 3]);
    const [archived] = await admin.allArchived(group);
    expect(archived).toMatchObject({
      topic: "jobs",
      partition: 0,
      firstOffset: 1,
      lastOffset: 1,
      deliveryCount: DELIVERY_LIMIT,
      reason: "delivery_limit",
    });
    for (const o of [0, 2, 3]) expect(deliveries.of(0, o)).toHaveLength(1);
    await until("the others are acknowledged and the start offset moved past all", async () => {
      const [p] = (await admin.describeShareGroup(group)).partitions;
      return p?.startOffset === 4 && p.lag === 0;
    });

    fixed = true;
    expect(await admin.redrive(group, { topic: "jobs", partition: 0 })).toEqual({ redriven: 1 });
    await until("the redriven record is handled", () => deliveries.of(0, 1).length === DELIVERY_LIMIT + 1);
    expect(deliveries.of(0, 1).at(-1)!.deliveryCount).toBe(1); // the count started again from 0
    for (const o of [0, 2, 3]) expect(deliveries.of(0, o)).toHaveLength(1); // nothing acknowledged came back
  });
});

interface RenewCase {
  name: string;
  options: { mode?: "explicit"; renewLocks?: boolean };
  renewByHand: boolean;
  redelivered: boolean;
}

const cases: RenewCase[] = [
  {
    name: "explicit record.renew()",
    options: { mode: "explicit", renewLocks: false },
    renewByHand: true,
    redelivered: false,
  },
  { name: "the consumer's own renewal", options: {}, renewByHand: false, redelivered: false },
  {
    name: "no renewal at all",
    options: { mode: "explicit", renewLocks: false },
    renewByHand: false,
    redelivered: true,
  },
];

describe.each(cases)(
  "a record handled for 2.5 locks, with $name",
  ({ options, renewByHand, redelivered }) => {
    it(
      redelivered ? "is redelivered to the other consumer" : "stays with its consumer, delivered once",
      async () => {
        const group = freshGroup("share-renew");
        const log = MemoryLog.filled({ jobs: 1 }, 1, () => "slow-job");
        const deliveries = new Deliveries();
        const failures: AcknowledgementFailure[] = [];
        const slow = shareConsumer(
          group,
          log,
          { jobs: 1 },
          { ...options, onAcknowledgementFailed: (f) => failures.push(f) },
        );
        running.push(slow);
        await slow.run({
          eachRecord: async (record) => {
            deliveries.note("slow", record);
            const deadline = Date.now() + LOCK_MS * 2.5;
            while (Date.now() < deadline) {
              await sleep(LOCK_MS / 4);
              if (renewByHand) await record.renew();
            }
            record.accept();
          },
        });
        await until("the slow consumer has the record", () => deliveries.all.length === 1);
        const other = shareConsumer(group, log, { jobs: 1 });
        running.push(other);
        await other.run({ eachRecord: (record) => deliveries.note("other", record) });
        await until(
          "the slow handler returned",
          () => Date.now() - deliveries.all[0]!.at > LOCK_MS * 2.5 + 100,
        );
        await sleep(LOCK_MS / 2);

        if (redelivered) {
          expect(deliveries.of(0, 0).map((d) => [d.consumer, d.deliveryCount])).toEqual([
            ["slow", 1],
            ["other", 2],
          ]);
          // The slow consumer's late accept is refused: its lock was gone.
          expect(failures.map((f) => [f.type, f.error.code])).toEqual([["accept", "INVALID_RECORD_STATE"]]);
        } else {
          expect(deliveries.of(0, 0).map((d) => [d.consumer, d.deliveryCount])).toEqual([["slow", 1]]);
          expect(failures).toEqual([]);
          await until("the accept reached the coordinator", async () => {
            const [p] = (await admin.describeShareGroup(group)).partitions;
            return p?.startOffset === 1;
          });
        }
      },
    );
  },
);
