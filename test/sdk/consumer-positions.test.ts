/**
 * The consumer's position controls on the real coordinator, as a kafkajs or aiokafka user reaches for
 * them: seek then consume from the new position, pause/resume per partition without a rebalance, and
 * commits of explicit offsets, visible through GET offsets; committed()/position()/lag() helpers.
 */

import { describe, expect, it } from "vitest";
import { CommitStrategies } from "../../src/client/commit-strategy.ts";
import type { ConsumerOptions } from "../../src/client/consumer.ts";
import {
  CountingSource,
  consumer,
  freshGroup,
  newLog,
  RECORDS_PER_PARTITION,
  sleep,
  until,
  workerFetch,
} from "./sdk-helpers";

const allConsumed = (c: ReturnType<typeof consumer>) =>
  [0, 1, 2, 3].every((p) => c.position("orders", p) === RECORDS_PER_PARTITION);

it("seek moves a partition back: the next records handed out start at the new position, in order", async () => {
  const group = freshGroup("seek");
  const seen: number[] = [];
  const c = consumer(group, newLog(), { commit: CommitStrategies.manual() });
  await c.start((r) => {
    if (r.partition === 0) seen.push(r.offset);
  });
  await until("everything consumed", () => allConsumed(c));
  expect(seen).toEqual([...Array(RECORDS_PER_PARTITION).keys()]);
  expect(c.lag("orders", 0)).toBe(0);

  c.seek("orders", 0, 10);
  expect(c.position("orders", 0)).toBe(10);
  expect(c.lag("orders", 0)).toBe(RECORDS_PER_PARTITION - 10);
  await until("partition 0 consumed again from 10", () => c.position("orders", 0) === RECORDS_PER_PARTITION);
  expect(seen.slice(RECORDS_PER_PARTITION)).toEqual(
    [...Array(RECORDS_PER_PARTITION - 10).keys()].map((i) => i + 10),
  );
  // Forward too: the records skipped are never handed out.
  c.seek("orders", 1, RECORDS_PER_PARTITION);
  await c.commit();
  expect(await c.committed("orders", 1)).toBe(RECORDS_PER_PARTITION);
  await c.close();
});

it("a seek of a partition not yet assigned applies when it is assigned, instead of the committed offset", async () => {
  const group = freshGroup("seek-pending");
  const first: number[] = [];
  const c = consumer(group, newLog(), { commit: CommitStrategies.manual() });
  c.seek("orders", 2, 20);
  await c.start((r) => {
    if (r.partition === 2) first.push(r.offset);
  });
  await until("partition 2 consumed", () => c.position("orders", 2) === RECORDS_PER_PARTITION);
  expect(first).toEqual([20, 21, 22, 23, 24]);
  await c.close();
});

describe.each([
  ["consumer", {}],
  ["classic", { protocol: "classic", sessionTimeoutMs: 1_500, heartbeatIntervalMs: 200 }],
] as const)("pause and resume, %s protocol", (_name, protocol) => {
  it("pause stops fetching the partition and resume restarts it, with no rebalance", async () => {
    const group = freshGroup("pause");
    const log = newLog();
    const source = new CountingSource(log);
    const seen: string[] = [];
    const rebalances: string[] = [];
    const c = consumer(group, log, {
      ...(protocol as Partial<ConsumerOptions<string>>),
      source,
      listener: {
        onPartitionsAssigned: (ps) => void rebalances.push(`assigned ${ps.length}`),
        onPartitionsRevoked: (ps) => void rebalances.push(`revoked ${ps.length}`),
        onPartitionsLost: (ps) => void rebalances.push(`lost ${ps.length}`),
      },
    });
    await c.start((r) => void seen.push(`${r.partition}/${r.offset}`));
    await until("everything consumed", () => allConsumed(c));
    const { memberId, epoch } = c;

    c.pause([{ topic: "orders", partitions: [0] }]);
    expect(c.paused()).toEqual([{ topic: "orders", partition: 0 }]);
    await sleep(100); // a fetch of partition 0 already in flight ends
    const fetchesAtPause = source.fetches.get(0);
    log.append("orders", 0, "new-0");
    log.append("orders", 1, "new-1");
    await until("the unpaused partition's new record handled", () =>
      seen.includes(`1/${RECORDS_PER_PARTITION}`),
    );
    await sleep(800); // many idle periods (idleMs 20): partition 0 would have been fetched again
    expect(source.fetches.get(0)).toBe(fetchesAtPause);
    expect(seen).not.toContain(`0/${RECORDS_PER_PARTITION}`);
    expect(c.assignment()).toHaveLength(4); // still assigned: pausing is not a rebalance

    c.resume([{ topic: "orders", partition: 0 }]);
    expect(c.paused()).toEqual([]);
    await until("the resumed partition's record handled", () => seen.includes(`0/${RECORDS_PER_PARTITION}`));
    expect(source.fetches.get(0)).toBeGreaterThan(fetchesAtPause!);
    expect([c.memberId, c.epoch]).toEqual([memberId, epoch]);
    expect(rebalances).toEqual(["assigned 4"]);
    const described = await c.admin.describeGroup(group);
    expect(described.members.map((m) => m.memberId)).toEqual([memberId]);
    await c.close();
  });
});

it("commit(offsets) commits exactly the offsets given; GET offsets shows them", async () => {
  const group = freshGroup("explicit");
  const c = consumer(group, newLog(), { commit: CommitStrategies.manual() });
  await c.start(() => {});
  await until("everything consumed", () => allConsumed(c));
  await c.commit([
    { topic: "orders", partition: 0, offset: 7 },
    { topic: "orders", partition: 2, offset: 3, metadata: "checkpoint" },
  ]);
  const response = await workerFetch(`http://cohort.test/v1/groups/${group}/offsets?topic=orders`);
  expect(response.status).toBe(200);
  const { offsets } = (await response.json()) as {
    offsets: { partition: number; offset: number; metadata: string | null }[];
  };
  expect(offsets.map(({ partition, offset, metadata }) => ({ partition, offset, metadata }))).toEqual([
    { partition: 0, offset: 7, metadata: "" },
    { partition: 2, offset: 3, metadata: "checkpoint" },
  ]);
  expect(await c.committed("orders", 0)).toBe(7);
  // The positions were not moved by the commit: close() commits what was processed.
  expect(c.position("orders", 0)).toBe(RECORDS_PER_PARTITION);
  await expect(c.commit([{ topic: "orders", partition: 0, offset: -1 }])).rejects.toThrow(RangeError);
  await c.close();
  expect([...(await c.committed()).values()]).toEqual([25, 25, 25, 25]);
});
