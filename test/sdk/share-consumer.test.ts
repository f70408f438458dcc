/**
 * ShareConsumer against the real coordinator (API.md §7): eight consumers on two partitions all
 * receive work, each record once; a crashed consumer's records come back when their locks end (not
 * when its session does) and another consumer processes them; close() hands back what it did not
 * handle without counting a delivery.
 */

import { afterEach, describe, expect, it } from "vitest";
import { MemoryLog } from "../../src/client/memory-log.ts";
import type { ShareConsumer } from "../../src/client/share-consumer.ts";
import { freshGroup, sleep, until } from "./sdk-helpers.ts";
import { admin, Deliveries, LOCK_MS, shareConsumer } from "./share-helpers.ts";

const running: ShareConsumer<string>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.close().catch(() => {})));
});

function start(...consumers: ShareConsumer<string>[]) {
  running.push(...consumers);
  return consumers;
}

describe("more consumers than partitions", () => {
  it("eight consumers on two partitions all receive work, and each record is handled once", async () => {
    const group = freshGroup("share-eight");
    const log = new MemoryLog<string>();
    const deliveries = new Deliveries();
    const consumers = start(...Array.from({ length: 8 }, () => shareConsumer(group, log, { jobs: 2 })));
    await Promise.all(
      consumers.map((c, i) =>
        c.run({
          eachRecord: async (record) => {
            deliveries.note(`c${i}`, record);
            await sleep(25);
          },
        }),
      ),
    );
    await until("every consumer has a partition", () => consumers.every((c) => c.assignment().length > 0));
    // Records arrive once everyone is in, so that a quick first member cannot take them all.
    for (let i = 0; i < 160; i++) log.append("jobs", i % 2, `job-${i}`);

    await until("every record was handled", () => deliveries.distinct === 160, 20_000);
    expect(deliveries.all).toHaveLength(160); // nothing twice: no lock ended
    for (let i = 0; i < 8; i++) expect(deliveries.by(`c${i}`).length).toBeGreaterThan(0);
    const described = await admin.describeShareGroup(group);
    expect(described.members).toHaveLength(8);
    // The simple assignor: ⌈8/2⌉ = 4 members per partition, one partition each.
    for (const m of described.members) expect(m.assignment.flatMap((tp) => tp.partitions)).toHaveLength(1);
    await until("the acknowledgements reached the coordinator", async () => {
      const { partitions } = await admin.describeShareGroup(group);
      return partitions.every((p) => p.startOffset === 80 && p.lag === 0);
    });
  });
});

describe("a crashed consumer", () => {
  it("its records come back when their locks end and another consumer processes them", async () => {
    const group = freshGroup("share-crash");
    const log = MemoryLog.filled({ jobs: 1 }, 10, (_t, _p, o) => `job-${o}`);
    const deliveries = new Deliveries();
    let crashedAt = 0;
    const [crashing] = start(shareConsumer(group, log, { jobs: 1 }, { maxRecords: 4, clientId: "crashing" }));
    await crashing!.run({
      eachRecord: (record) => {
        deliveries.note("crashing", record);
        crashedAt = Date.now();
        crashing!.abort(); // holding 4 locks: no acknowledgement, no leave
        return new Promise<never>(() => {});
      },
    });
    await until("the first consumer crashed", () => crashedAt > 0);
    const held = deliveries.by("crashing").map((d) => d.offset);
    expect(held).toEqual([0]);

    const [survivor] = start(shareConsumer(group, log, { jobs: 1 }, { clientId: "survivor" }));
    let membersAtRedelivery: Promise<string[]> | undefined;
    await survivor!.run({
      eachRecord: (record) => {
        deliveries.note("survivor", record);
        if (record.deliveryCount > 1)
          membersAtRedelivery ??= admin
            .describeShareGroup(group)
            .then((g) => g.members.map((m) => m.clientId));
      },
    });
    await until("the survivor handled every record", () => deliveries.by("survivor").length === 10, 15_000);

    const redelivered = [0, 1, 2, 3].map((o) => deliveries.of(0, o).find((d) => d.consumer === "survivor")!);
    for (const d of redelivered) {
      expect(d.deliveryCount).toBe(2); // the crashed acquisition counted
      expect(d.at - crashedAt).toBeGreaterThanOrEqual(LOCK_MS - 250); // not before the lock ended
    }
    for (let o = 4; o < 10; o++)
      expect(deliveries.of(0, o)).toMatchObject([{ consumer: "survivor", deliveryCount: 1 }]);
    // Lock expiry, not session expiry (6 s), brought them back: the crashed member was still in the group.
    expect(await membersAtRedelivery).toContain("crashing");
  });
});

describe("close()", () => {
  it("finishes the record in flight and hands back the unhandled rest without counting a delivery", async () => {
    const group = freshGroup("share-close");
    const log = MemoryLog.filled({ jobs: 1 }, 5, (_t, _p, o) => `job-${o}`);
    const deliveries = new Deliveries();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const [first] = start(shareConsumer(group, log, { jobs: 1 }, { maxRecords: 5 }));
    await first!.run({
      eachRecord: async (record) => {
        deliveries.note("first", record);
        await gate;
      },
    });
    await until("the first record is being handled", () => deliveries.all.length === 1);
    const closing = first!.close();
    open();
    await closing;
    expect(deliveries.by("first").map((d) => d.offset)).toEqual([0]);

    const [second] = start(shareConsumer(group, log, { jobs: 1 }));
    await second!.run({ eachRecord: (record) => deliveries.note("second", record) });
    await until("the second consumer handled the rest", () => deliveries.by("second").length === 4);
    // Offset 0 was accepted by close(); 1–4 were never handled and come back as first deliveries.
    expect(deliveries.by("second").map((d) => [d.offset, d.deliveryCount])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
    ]);
  });
});
