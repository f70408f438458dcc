/**
 * The consumer-protocol SDK against a scripted coordinator: a commit refused with STALE_MEMBER_EPOCH
 * is retried under the epoch the next heartbeat brings (Kafka's rule), every watch push makes the
 * member heartbeat at once (coalesced: one in flight, one queued), and a failed start leaves no
 * member joining in the background.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CommitStrategies } from "../../../src/client/commit-strategy.ts";
import { CohortConsumer } from "../../../src/client/consumer.ts";
import { CohortError } from "../../../src/client/errors.ts";
import { MemoryLog } from "../../../src/client/memory-log.ts";
import type { TopicPartition } from "../../../src/client/partitions.ts";
import { FakeWebSocket, ScriptedCoordinator } from "./scripted-coordinator.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function consumerOn(
  coordinator: ScriptedCoordinator,
  extra: { watch?: boolean; lost?: TopicPartition[][]; assigned?: number[][] },
) {
  const log = MemoryLog.filled({ orders: 2 }, 3, (_t, p, o) => `${p}-${o}`);
  return new CohortConsumer<string>({
    url: "http://cohort.test",
    fetch: coordinator.fetch,
    retry: { retries: 0 },
    groupId: "g",
    topics: { orders: 2 },
    source: log,
    commit: CommitStrategies.manual(),
    idleMs: 5,
    watch: extra.watch ?? false,
    listener: {
      onPartitionsLost: (ps) => void extra.lost?.push(ps),
      onPartitionsAssigned: (ps) => void extra.assigned?.push(ps.map((tp) => tp.partition)),
    },
  });
}

describe("commits under a stale epoch", () => {
  it("heartbeats to learn the new epoch and commits again under it; the membership stays", async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.assignment = [{ topic: "orders", partitions: [0, 1] }];
    const lost: TopicPartition[][] = [];
    const consumer = consumerOn(coordinator, { lost });
    await consumer.start(() => {});
    await vi.waitFor(() => expect(consumer.position("orders", 1)).toBe(3));
    // The coordinator has moved the member to epoch 2; its next heartbeat says so.
    coordinator.epoch = 2;
    coordinator.refuseCommit = (c) =>
      c.memberEpoch === 1 ? { status: 409, code: "STALE_MEMBER_EPOCH", kafkaCode: 113 } : undefined;
    const beatsBefore = coordinator.heartbeats.length;

    await consumer.commit();

    expect(coordinator.commits.map((c) => c.memberEpoch)).toEqual([1, 2]);
    expect(coordinator.heartbeats.length).toBe(beatsBefore + 1);
    expect([...coordinator.committed.values()]).toEqual([3, 3]);
    expect(consumer.epoch).toBe(2);
    expect(lost).toEqual([]);
    expect(consumer.assignment()).toHaveLength(2);
    consumer.abort();
  });

  it("STALE_MEMBER_EPOCH does not require a rejoin; FENCED_MEMBER_EPOCH does", () => {
    const stale = new CohortError({ code: "STALE_MEMBER_EPOCH", kafkaCode: 113, status: 409, message: "" });
    const fenced = new CohortError({ code: "FENCED_MEMBER_EPOCH", kafkaCode: 110, status: 409, message: "" });
    expect([stale.requiresRejoin, stale.retriable]).toEqual([false, false]);
    expect(fenced.requiresRejoin).toBe(true);
  });
});

describe("fenced while reconciling", () => {
  beforeEach(() => {
    FakeWebSocket.opened.length = 0;
    vi.stubGlobal("WebSocket", FakeWebSocket);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("a reconciliation that outlived its membership takes nothing; the rejoin reports nothing owned", async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.assignment = [{ topic: "orders", partitions: [0] }];
    const lost: TopicPartition[][] = [];
    const assigned: number[][] = [];
    const consumer = consumerOn(coordinator, { lost, assigned, watch: true });
    await consumer.start(() => {});
    await vi.waitFor(() => expect(FakeWebSocket.opened).toHaveLength(1));
    await sleep(20); // the socket is attached and the first assignment acknowledged
    const socket = FakeWebSocket.opened[0]!;
    const nudge = () => socket.push({ type: "assignment", memberEpoch: 1, assignment: { partitions: [] } });

    // The next heartbeat adds partition 1, whose committed offset is slow to come.
    let openGate = () => {};
    coordinator.fetchGate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    coordinator.epoch = 2;
    coordinator.assignment = [{ topic: "orders", partitions: [0, 1] }];
    nudge();
    await vi.waitFor(() => expect(consumer.epoch).toBe(2));
    // Then the member is fenced at epoch 2 (once): partition 0 is lost, and it rejoins.
    let fences = 1;
    coordinator.refuseHeartbeat = (hb) =>
      hb.memberEpoch === 2 && fences-- > 0
        ? { status: 409, code: "FENCED_MEMBER_EPOCH", kafkaCode: 110 }
        : undefined;
    nudge();
    await vi.waitFor(() => expect(lost).toEqual([[{ topic: "orders", partition: 0 }]]));
    await vi.waitFor(() => expect(coordinator.heartbeats.at(-1)?.memberEpoch).toBe(0));
    coordinator.fetchGate = undefined;
    openGate();

    await vi.waitFor(() => expect(consumer.assignment()).toHaveLength(2));
    // Partition 1 was not taken by the reconciliation of the lost membership, only by the new one.
    expect(assigned).toEqual([[0], [0, 1]]);
    const joins = coordinator.heartbeats.filter((hb) => hb.memberEpoch === 0);
    expect(joins.map((hb) => hb.ownedPartitions)).toEqual([[], []]);
    consumer.abort();
  });
});

describe("watch pushes", () => {
  beforeEach(() => {
    FakeWebSocket.opened.length = 0;
    vi.stubGlobal("WebSocket", FakeWebSocket);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  async function watched() {
    const coordinator = new ScriptedCoordinator();
    coordinator.assignment = [{ topic: "orders", partitions: [0, 1] }];
    const consumer = consumerOn(coordinator, { watch: true });
    await consumer.start(() => {});
    await vi.waitFor(() => expect(FakeWebSocket.opened).toHaveLength(1));
    await vi.waitFor(() => expect(consumer.assignment()).toHaveLength(2));
    await sleep(20); // the acknowledgement of the first assignment is done
    return { coordinator, consumer, socket: FakeWebSocket.opened[0]! };
  }

  it("a push identical to what the member owns still makes it heartbeat at once", async () => {
    const { coordinator, consumer, socket } = await watched();
    const before = coordinator.heartbeats.length;
    socket.push({ type: "assignment", memberEpoch: 1, assignment: { partitions: coordinator.assignment } });
    await vi.waitFor(() => expect(coordinator.heartbeats.length).toBe(before + 1));
    socket.push({
      type: "assignment",
      memberEpoch: 1,
      assignment: { partitions: coordinator.assignment },
      reconcile: true,
    });
    await vi.waitFor(() => expect(coordinator.heartbeats.length).toBe(before + 2));
    socket.push({ type: "something-else" });
    await sleep(30);
    expect(coordinator.heartbeats.length).toBe(before + 2);
    // Removed from the group: the notice makes it heartbeat, whose error makes it rejoin at once.
    let fences = 1;
    coordinator.refuseHeartbeat = (hb) =>
      hb.memberEpoch > 0 && fences-- > 0
        ? { status: 409, code: "UNKNOWN_MEMBER_ID", kafkaCode: 25 }
        : undefined;
    socket.push({ type: "fenced", code: "UNKNOWN_MEMBER_ID" });
    await vi.waitFor(() => expect(coordinator.heartbeats.length).toBeGreaterThanOrEqual(before + 4));
    expect(coordinator.heartbeats.slice(before + 2, before + 4).map((hb) => hb.memberEpoch)).toEqual([1, 0]);
    consumer.abort();
  });

  it("pushes during a heartbeat in flight queue exactly one more", async () => {
    const { coordinator, consumer, socket } = await watched();
    const before = coordinator.heartbeats.length;
    coordinator.hold();
    const push = { type: "assignment", memberEpoch: 1, assignment: { partitions: coordinator.assignment } };
    socket.push(push);
    await vi.waitFor(() => expect(coordinator.heldCount).toBe(1));
    for (let i = 0; i < 10; i++) socket.push(push);
    await sleep(30);
    expect(coordinator.heartbeats.length).toBe(before + 1); // one in flight, the rest share one queued
    coordinator.release();
    await vi.waitFor(() => expect(coordinator.heartbeats.length).toBe(before + 2));
    await sleep(30);
    expect(coordinator.heartbeats.length).toBe(before + 2);
    consumer.abort();
  });
});

describe("prototype-named topics", () => {
  it("are subscribed, owned, processed and committed like any other", async () => {
    const topics: Record<string, number> = Object.fromEntries([
      ["__proto__", 2],
      ["constructor", 1],
      ["toString", 1],
      ["hasOwnProperty", 1],
    ]);
    const coordinator = new ScriptedCoordinator();
    coordinator.assignment = Object.entries(topics).map(([topic, n]) => ({
      topic,
      partitions: [...Array(n).keys()],
    }));
    const consumer = new CohortConsumer<string>({
      url: "http://cohort.test",
      fetch: coordinator.fetch,
      retry: { retries: 0 },
      groupId: "g",
      topics,
      source: MemoryLog.filled(topics, 3, (t, p, o) => `${t}-${p}-${o}`),
      commit: CommitStrategies.manual(),
      idleMs: 5,
      watch: false,
    });
    const seen = new Set<string>();
    await consumer.start((r) => void seen.add(`${r.topic}/${r.partition}/${r.offset}`));
    expect(coordinator.heartbeats[0]?.memberEpoch).toBe(0);
    const subscribed = (coordinator.heartbeats[0] as unknown as { subscribedTopics: { name: string }[] })
      .subscribedTopics;
    expect(subscribed.map((t) => t.name).sort()).toEqual([
      "__proto__",
      "constructor",
      "hasOwnProperty",
      "toString",
    ]);
    expect(consumer.assignment()).toHaveLength(5);
    await vi.waitFor(() => expect(seen.size).toBe(15));
    await consumer.commit();
    expect([...coordinator.committed.entries()].sort()).toEqual(
      [
        "__proto__\u00000",
        "__proto__\u00001",
        "constructor\u00000",
        "hasOwnProperty\u00000",
        "toString\u00000",
      ].map((key) => [key, 3]),
    );
    expect(consumer.position("__proto__", 1)).toBe(3);
    expect([...(await consumer.committed()).keys()].sort()).toEqual([
      "__proto__/0",
      "__proto__/1",
      "constructor/0",
      "hasOwnProperty/0",
      "toString/0",
    ]);
    consumer.abort();
  });
});

describe("newly assigned partitions", () => {
  it("a retriable failure reading their committed offsets is retried; the consumer goes on", async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.assignment = [{ topic: "orders", partitions: [0, 1] }];
    coordinator.committed.set("orders\u00001", 2);
    coordinator.unavailableFetches = 2;
    const consumer = consumerOn(coordinator, {});
    await consumer.start(() => {});
    expect(consumer.assignment()).toHaveLength(2);
    await vi.waitFor(() => expect(consumer.position("orders", 1)).toBe(3));
    consumer.abort();
    await expect(consumer.done()).resolves.toBeUndefined();
  });
});

describe("start", () => {
  it("rejects with the failure itself and leaves no member joining in the background", async () => {
    const coordinator = new ScriptedCoordinator();
    let down = true;
    const consumer = new CohortConsumer<string>({
      url: "http://cohort.test",
      fetch: (input, init) =>
        down ? Promise.reject(new TypeError("fetch failed")) : coordinator.fetch(input, init),
      retry: { retries: 0 },
      groupId: "g",
      topics: { orders: 2 },
      source: new MemoryLog<string>(),
      watch: false,
    });
    const error = await consumer.start(() => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CohortError);
    expect(error).toMatchObject({ code: "NETWORK_ERROR", status: 0, retriable: true });
    down = false;
    await sleep(100);
    expect(coordinator.heartbeats).toEqual([]);
  });
});
