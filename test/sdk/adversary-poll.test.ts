/**
 * Adversarial tests of a static consumer-protocol member (groupInstanceId) whose handler outlasts the
 * poll interval (rebalanceTimeoutMs), through the SDK on the real coordinator. As Kafka's consumer, it
 * leaves temporarily (memberEpoch −2 with its instance id), reports its partitions lost, commits nothing
 * more under its old epoch, and rejoins once the handler returns. Throughout, the two consumers are
 * never both holding a partition, the history records the departure once (`static_leave`, no later
 * fencing when the reservation ends), and every record ends up committed.
 */

import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { CohortAdmin } from "../../src/client/admin.ts";
import { CommitStrategies } from "../../src/client/commit-strategy.ts";
import type { CohortConsumer } from "../../src/client/consumer.ts";
import type { MemoryLog } from "../../src/client/memory-log.ts";
import type { TopicPartition } from "../../src/client/partitions.ts";
import {
  consumer,
  freshGroup,
  newLog,
  recorded,
  type Sent,
  sleep,
  TOPICS,
  until,
  workerFetch,
} from "./sdk-helpers";

const admin = new CohortAdmin({ url: "http://cohort.test", fetch: workerFetch });
const POLL_INTERVAL_MS = 1_000;
const INSTANCE = "slow-static-instance";

beforeEach(() => {
  vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function allCommitted(c: CohortConsumer<string>, log: MemoryLog<string>): Promise<boolean> {
  const committed = await c.committed();
  return Array.from({ length: TOPICS.orders }, (_, p) => p).every(
    (p) => committed.get(`orders/${p}`) === log.logEndOffset("orders", p),
  );
}

/**
 * A static slow member and a dynamic steady one share orders (4 partitions); the slow member's next
 * record blocks until `release()`. A sampler checks every 10 ms that no partition is held by both.
 */
async function staticSlowAndSteady(prefix: string) {
  const group = freshGroup(prefix);
  const log = newLog();
  const { fetch, sent } = recorded();
  const lost: TopicPartition[][] = [];
  let armed = false;
  let stuck = false;
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const shared = { commit: CommitStrategies.afterEach(), watch: false };
  const slow = consumer(group, log, {
    ...shared,
    fetch,
    groupInstanceId: INSTANCE,
    rebalanceTimeoutMs: POLL_INTERVAL_MS,
    listener: { onPartitionsLost: (ps) => void lost.push(ps) },
  });
  const steady = consumer(group, log, shared);
  await slow.start(async () => {
    if (armed && !stuck) {
      stuck = true;
      await Promise.race([released, sleep(20_000)]);
    }
  });
  await steady.start(() => {});
  await until("both settled", () => slow.assignment().length === 2 && steady.assignment().length === 2);
  const overlaps: string[] = [];
  const sampler = setInterval(() => {
    const mine = new Set(slow.assignment().map((tp) => tp.partition));
    for (const tp of steady.assignment()) if (mine.has(tp.partition)) overlaps.push(`orders/${tp.partition}`);
  }, 10);
  const before = {
    memberId: slow.memberId,
    epoch: slow.epoch,
    owned: slow.assignment(),
    sentCount: sent.length,
  };
  const stick = async () => {
    armed = true;
    for (let p = 0; p < TOPICS.orders; p++) log.append("orders", p, `late-${p}`);
    await until("the slow handler is stuck", () => stuck);
  };
  const leaves = () =>
    sent
      .slice(before.sentCount)
      .filter(
        (s) =>
          s.path.endsWith("/heartbeat") && typeof s.body.memberEpoch === "number" && s.body.memberEpoch < 0,
      );
  const finish = async () => {
    for (let p = 0; p < TOPICS.orders; p++) for (let i = 0; i < 3; i++) log.append("orders", p, `after-${i}`);
    await until("every record committed", () => allCommitted(steady, log));
    clearInterval(sampler);
  };
  const close = () => Promise.all([slow.close(), steady.close()]);
  return { group, slow, steady, sent, lost, overlaps, before, stick, release, leaves, finish, close };
}

/** The departures (member_left / member_fenced) of a member id, as [type, reason]. */
async function departuresOf(group: string, memberId: string) {
  const { events } = await admin.events(group, { limit: 1000 });
  return events
    .filter((e) => e.memberId === memberId && (e.type === "member_left" || e.type === "member_fenced"))
    .map((e) => [e.type, (e.detail as { reason?: string }).reason]);
}

/** Offsets the slow member committed between its leave and its rejoin (memberEpoch 0). */
function commitsWhileGone(t: Awaited<ReturnType<typeof staticSlowAndSteady>>): Sent[] {
  const leave = t.sent.indexOf(t.leaves()[0] as Sent);
  const rejoin = t.sent.findIndex(
    (s, i) => i > leave && s.path.endsWith("/heartbeat") && s.body.memberEpoch === 0,
  );
  return t.sent
    .slice(leave, rejoin < 0 ? undefined : rejoin)
    .filter((s) => s.path.endsWith("/offsets") && s.body.memberId === t.before.memberId);
}

it("stuck past the poll interval and released at once: leaves with -2 and its instance, reports its partitions lost, commits nothing while gone, comes back", async () => {
  const t = await staticSlowAndSteady("adv-poll-back");
  await t.stick();
  await until("the slow member left temporarily", () => t.leaves().length > 0, 10_000);
  // Back at once: well inside the 1.5 s session the reservation lasts.
  t.release();
  expect(t.leaves().map((s) => s.body)).toEqual([
    { memberId: t.before.memberId, memberEpoch: -2, groupInstanceId: INSTANCE },
  ]);
  await until("the slow member is back with two partitions", () => t.slow.assignment().length === 2, 10_000);
  expect(
    t.lost
      .flat()
      .map((tp) => tp.partition)
      .sort(),
  ).toEqual(t.before.owned.map((tp) => tp.partition).sort());
  expect(commitsWhileGone(t)).toEqual([]);
  await t.finish();
  expect(t.overlaps).toEqual([]);
  const departures = await departuresOf(t.group, t.before.memberId);
  expect(departures[0]).toEqual(["member_left", "static_leave"]);
  expect(departures.filter(([type]) => type === "member_fenced")).toEqual([]);
  await t.close();
});

it("stuck until its reservation expires: the other member takes everything, the instance rejoins fresh, the departure is recorded once", async () => {
  const t = await staticSlowAndSteady("adv-poll-expire");
  await t.stick();
  await until("the slow member left temporarily", () => t.leaves().length > 0, 10_000);
  // The reservation lasts the session (1.5 s in this project); then the steady member gets it all.
  await until("the steady member owns every partition", () => t.steady.assignment().length === 4, 15_000);
  const described = await admin.describeGroup(t.group);
  expect(described.members.map((m) => m.memberId)).toEqual([t.steady.memberId]);
  t.release();
  await until("the slow member rejoined", () => t.slow.assignment().length === 2, 15_000);
  const rejoined = await admin.describeGroup(t.group);
  expect(rejoined.members.filter((m) => m.groupInstanceId === INSTANCE)).toHaveLength(1);
  expect(t.lost.flat()).toHaveLength(2);
  expect(commitsWhileGone(t)).toEqual([]);
  await t.finish();
  expect(t.overlaps).toEqual([]);
  expect(await departuresOf(t.group, t.before.memberId)).toEqual([["member_left", "static_leave"]]);
  await t.close();
});
