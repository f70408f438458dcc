/**
 * The poll timeout (rebalanceTimeoutMs, Kafka's max.poll.interval.ms) on the consumer protocol, against
 * a scripted coordinator with fake timers: a handler stuck past it makes the member leave when it runs
 * out — not at the next heartbeat, which is far later — with −1 (a static member −2 and its instance
 * id), reporting its partitions lost and warning once; while stuck it sends nothing more, commits
 * nothing under the old epoch, and once the handler returns it rejoins with epoch 0 under the same
 * member id and commits everything under the new epoch. A handler that returns in time never leaves.
 * The runner's poll timer, which starts the leave on either protocol: once per stuck handler at its
 * deadline, restarted by heartbeat(), never for handlers that return in time, gone after the loop.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CommitStrategies } from "../../../src/client/commit-strategy.ts";
import { CohortConsumer, type ConsumerOptions, type RunOptions } from "../../../src/client/consumer.ts";
import { newPartitionState, PartitionRunner } from "../../../src/client/consumer-runner.ts";
import { MemoryLog } from "../../../src/client/memory-log.ts";
import { keyOf, type TopicPartition } from "../../../src/client/partitions.ts";
import { ScriptedCoordinator } from "./scripted-coordinator.ts";

const POLL_INTERVAL_MS = 3_000;
/** The coordinator's heartbeat interval: a leave that waited for the next heartbeat would come this late. */
const HEARTBEAT_INTERVAL_MS = 10_000;
const RECORDS = 3;

let warnings: string[] = [];
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  warnings = [];
  vi.spyOn(console, "warn").mockImplementation((message: unknown) => void warnings.push(String(message)));
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Moves fake time forward in small steps, so every timer and promise in between runs. */
async function advance(ms: number, step = 50) {
  for (let t = 0; t < ms; t += step) await vi.advanceTimersByTimeAsync(step);
}

/** A consumer of `partitions` partitions of orders with `records` records each, on the scripted coordinator. */
function consumerOn(
  coordinator: ScriptedCoordinator,
  partitions: number,
  records: number,
  extra: Partial<ConsumerOptions<string>> = {},
) {
  return new CohortConsumer<string>({
    url: "http://cohort.test",
    fetch: coordinator.fetch,
    retry: { retries: 0 },
    groupId: "g",
    topics: { orders: partitions },
    source: MemoryLog.filled({ orders: partitions }, records, (_t, p, o) => `${p}-${o}`),
    commit: CommitStrategies.afterEach(),
    rebalanceTimeoutMs: POLL_INTERVAL_MS,
    idleMs: 20,
    watch: false,
    ...extra,
  });
}

/** A member owning orders 0 and 1 (3 records each) whose handler blocks at offset 1 of partition 0. */
async function stuckMember(groupInstanceId?: string) {
  const coordinator = new ScriptedCoordinator();
  coordinator.heartbeatIntervalMs = HEARTBEAT_INTERVAL_MS;
  coordinator.assignment = [{ topic: "orders", partitions: [0, 1] }];
  const lost: TopicPartition[][] = [];
  const handled: string[] = [];
  let stuckAt = 0;
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const consumer = consumerOn(coordinator, 2, RECORDS, {
    ...(groupInstanceId ? { groupInstanceId } : {}),
    listener: { onPartitionsLost: (ps) => void lost.push(ps) },
  });
  await consumer.start(async ({ partition, offset }) => {
    if (partition === 0 && offset === 1 && stuckAt === 0) {
      stuckAt = Date.now();
      await released;
    }
    handled.push(`${partition}/${offset}`);
  });
  for (let i = 0; i < 100 && stuckAt === 0; i++) await vi.advanceTimersByTimeAsync(10);
  expect(stuckAt).toBeGreaterThan(0);
  const memberId = consumer.memberId;
  const leaves = () => coordinator.heartbeats.filter((h) => h.memberEpoch < 0);
  return { coordinator, consumer, lost, handled, release, memberId, stuckAt: () => stuckAt, leaves };
}

describe("a handler past the poll interval (consumer protocol)", () => {
  it("leaves with -1 as the interval runs out, not at the next heartbeat; lost, warned once, silent while stuck", async () => {
    const m = await stuckMember();
    await advance(POLL_INTERVAL_MS - 200);
    expect(m.leaves()).toEqual([]);
    expect(m.consumer.epoch).toBe(1);
    await advance(400);
    expect(m.leaves().map(({ memberId, memberEpoch }) => ({ memberId, memberEpoch }))).toEqual([
      { memberId: m.memberId, memberEpoch: -1 },
    ]);
    const leftAfter = m.leaves()[0]!.at! - m.stuckAt();
    expect(leftAfter).toBeGreaterThanOrEqual(POLL_INTERVAL_MS);
    expect(leftAfter).toBeLessThan(POLL_INTERVAL_MS + 100);
    expect(m.lost).toEqual([
      [
        { topic: "orders", partition: 0 },
        { topic: "orders", partition: 1 },
      ],
    ]);
    expect(m.consumer.assignment()).toEqual([]);
    expect(m.consumer.epoch).toBe(0);
    expect(warnings).toEqual([expect.stringContaining("consumer poll timeout has expired")]);
    // Still stuck, two heartbeat intervals on: no heartbeat, no rejoin, no commit.
    const beats = m.coordinator.heartbeats.length;
    const commits = m.coordinator.commits.length;
    await advance(2 * HEARTBEAT_INTERVAL_MS, 250);
    expect(m.coordinator.heartbeats.length).toBe(beats);
    expect(m.coordinator.commits.length).toBe(commits);
    m.consumer.abort();
    m.release();
  });

  it("once the handler returns it rejoins with epoch 0 and the same id; nothing is committed under the old epoch", async () => {
    const m = await stuckMember();
    await advance(POLL_INTERVAL_MS + 200);
    expect(m.leaves()).toHaveLength(1);
    const leaveIndex = m.coordinator.commits.length;
    m.coordinator.epoch = 2;
    m.release();
    await advance(500);
    const leave = m.coordinator.heartbeats.indexOf(m.leaves()[0]!);
    const rejoin = m.coordinator.heartbeats[leave + 1]!;
    expect([rejoin.memberId, rejoin.memberEpoch, rejoin.ownedPartitions]).toEqual([m.memberId, 0, []]);
    expect(m.consumer.epoch).toBe(2);
    expect(m.consumer.assignment()).toHaveLength(2);
    await vi.waitFor(async () => {
      await vi.advanceTimersByTimeAsync(20);
      expect(Object.fromEntries(m.coordinator.committed)).toEqual({
        "orders\u00000": RECORDS,
        "orders\u00001": RECORDS,
      });
    });
    // The record in hand at the leave was handled again under the new membership (at least once).
    expect(m.handled.filter((r) => r === "0/1")).toHaveLength(2);
    expect(m.coordinator.commits.slice(leaveIndex).map((c) => c.memberEpoch)).not.toContain(1);
    expect(m.coordinator.commits.slice(leaveIndex).length).toBeGreaterThan(0);
    await m.consumer.close();
  });

  it("a static member leaves with -2 and its instance id, and rejoins with them", async () => {
    const m = await stuckMember("instance-a");
    await advance(POLL_INTERVAL_MS + 200);
    expect(m.leaves().map(({ memberEpoch, groupInstanceId }) => ({ memberEpoch, groupInstanceId }))).toEqual([
      { memberEpoch: -2, groupInstanceId: "instance-a" },
    ]);
    expect(warnings).toEqual([expect.stringContaining("memberEpoch -2")]);
    m.release();
    await advance(500);
    const rejoin = m.coordinator.heartbeats.find((h, i) => i > 0 && h.memberEpoch === 0)!;
    expect([rejoin.memberId, rejoin.groupInstanceId]).toEqual([m.memberId, "instance-a"]);
    m.consumer.abort();
  });

  it("a handler that returns within the interval, however long all of them take, never leaves", async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.heartbeatIntervalMs = HEARTBEAT_INTERVAL_MS;
    coordinator.assignment = [{ topic: "orders", partitions: [0] }];
    const consumer = consumerOn(coordinator, 1, 12);
    let handled = 0;
    // 12 records of 2 s each: 24 s in all, each well within the 3 s interval.
    await consumer.start(async () => {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      handled++;
    });
    await advance(26_000, 100);
    expect(handled).toBe(12);
    expect(coordinator.heartbeats.filter((h) => h.memberEpoch < 0)).toEqual([]);
    expect(consumer.epoch).toBe(1);
    expect(warnings).toEqual([]);
    await consumer.close();
  });
});

describe("the runner's poll timer (both protocols: what calls pollTimedOut)", () => {
  /** A runner over one partition whose eachBatch handler the test drives; pollTimedOut calls counted. */
  function runnerWith(eachBatch: RunOptions<string>["eachBatch"]) {
    const tp = { topic: "orders", partition: 0 };
    const owned = new Map([[keyOf(tp), newPartitionState(tp, 0, null)]]);
    const timeouts: number[] = [];
    let stopped = false;
    const runner = new PartitionRunner<string>(
      {
        owned,
        paused: new Set(),
        source: MemoryLog.filled({ orders: 1 }, 1, () => "v"),
        stopped: () => stopped,
        processed: async () => {},
        commitIfDue: async () => {},
        pause: () => {},
        fail: () => {},
        pollTimedOut: () => void timeouts.push(Date.now()),
      },
      { maxRecords: 10, maxInFlightRecords: 10, idleMs: 20, maxPollIntervalMs: POLL_INTERVAL_MS },
      { eachBatch },
    );
    const loop = runner.loop();
    const stop = async () => {
      stopped = true;
      runner.wake();
      await vi.advanceTimersByTimeAsync(50);
      await loop;
    };
    return { runner, timeouts, stop };
  }

  it("fires once at a stuck handler's deadline, again only after heartbeat() restarted it", async () => {
    const start = Date.now();
    let finish = () => {};
    let beat: () => Promise<void> = async () => {};
    const r = runnerWith(async ({ heartbeat }) => {
      beat = heartbeat;
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
    });
    await advance(POLL_INTERVAL_MS * 3);
    expect(r.timeouts.map((at) => at - start)).toEqual([POLL_INTERVAL_MS + 1]);
    expect(r.runner.live()).toBe(false);
    await beat(); // progress: live again, and the poll interval starts over
    const beatAt = Date.now();
    expect(r.runner.live()).toBe(true);
    await advance(POLL_INTERVAL_MS * 2);
    expect(r.timeouts).toHaveLength(2);
    expect(r.timeouts[1]! - beatAt).toBe(POLL_INTERVAL_MS + 1);
    finish();
    await r.stop();
  });

  it("never fires for a handler that returns in time, and is not left armed after the loop", async () => {
    const r = runnerWith(async () => {
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS - 100));
    });
    await advance(POLL_INTERVAL_MS * 3);
    expect(r.timeouts).toEqual([]);
    await r.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
