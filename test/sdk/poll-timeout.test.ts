/**
 * A handler that outlasts the poll interval (rebalanceTimeoutMs, Kafka's max.poll.interval.ms), on
 * the real coordinator. As Kafka's consumer, the member leaves at once — classic LeaveGroup, consumer
 * protocol memberEpoch −1 — so its partitions move while the handler is still stuck, long before its
 * session would end; it commits nothing more under the old generation or epoch, and once the handler
 * returns it rejoins and goes on, every record ending up committed. A static classic member sends no
 * leave: its partitions stay with it and come back when it rejoins.
 */

import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { CohortAdmin } from "../../src/client/admin.ts";
import { CommitStrategies } from "../../src/client/commit-strategy.ts";
import type { CohortConsumer, ConsumerOptions } from "../../src/client/consumer.ts";
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

/** Classic sessions far longer than anything here waits: only a leave can move partitions in time. */
const CLASSIC_SESSION_MS = 30_000;
const POLL_INTERVAL_MS = 1_000;
/** The stuck handler gives up after this, well short of the classic session. */
const STUCK_CAP_MS = 20_000;

const PARTITIONS = TOPICS.orders;

/** Every partition's committed offset is its log end: every record processed is covered. */
async function allCommitted(c: CohortConsumer<string>, log: MemoryLog<string>): Promise<boolean> {
  const committed = await c.committed();
  return Array.from({ length: PARTITIONS }, (_, p) => p).every(
    (p) => committed.get(`orders/${p}`) === log.logEndOffset("orders", p),
  );
}

/** The SDK's warnings (Kafka's "consumer poll timeout has expired"), kept out of the output. */
let warnings: string[] = [];
beforeEach(() => {
  warnings = [];
  vi.spyOn(console, "warn").mockImplementation((message: unknown) => void warnings.push(String(message)));
});
afterEach(() => {
  vi.restoreAllMocks();
});
const warnedOnce = () =>
  expect(warnings).toEqual([expect.stringContaining("consumer poll timeout has expired")]);

const isLeave = (s: Sent) =>
  s.path.endsWith("/classic/leave") ||
  (s.path.endsWith("/heartbeat") && typeof s.body.memberEpoch === "number" && s.body.memberEpoch < 0);

/**
 * Two members, `slow` and `steady`, share orders (4 partitions); once both are settled, the slow
 * member's next record blocks until `release()` (or STUCK_CAP_MS).
 */
async function slowAndSteady(prefix: string, options: Partial<ConsumerOptions<string>>) {
  const group = freshGroup(prefix);
  const log = newLog();
  const { fetch, sent } = recorded();
  const lost: TopicPartition[][] = [];
  const processedBy = { slow: 0, steady: 0 };
  let armed = false;
  let stuckSince = 0;
  let returned = false;
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const shared = { commit: CommitStrategies.afterEach(), ...options };
  const slow = consumer(group, log, {
    ...shared,
    fetch,
    rebalanceTimeoutMs: POLL_INTERVAL_MS,
    listener: { onPartitionsLost: (ps) => void lost.push(ps) },
  });
  const steady = consumer(group, log, shared);
  await slow.start(async () => {
    if (armed && stuckSince === 0) {
      stuckSince = Date.now();
      await Promise.race([released, sleep(STUCK_CAP_MS)]);
      returned = true;
    }
    processedBy.slow++;
  });
  await steady.start(() => {
    processedBy.steady++;
  });
  const everythingCommitted = () => allCommitted(steady, log);
  await until(
    "both settled with everything committed",
    async () => slow.assignment().length === 2 && steady.assignment().length === 2 && everythingCommitted(),
  );
  const before = { memberId: slow.memberId, epoch: slow.epoch, sentCount: sent.length };
  const appendAll = (n: number) => {
    for (let p = 0; p < PARTITIONS; p++)
      for (let i = 0; i < n; i++) log.append("orders", p, `late-${p}-${i}`);
  };
  const stick = async () => {
    armed = true;
    appendAll(1);
    await until("the slow handler is stuck", () => stuckSince > 0);
  };
  return {
    group,
    slow,
    steady,
    sent,
    lost,
    processedBy,
    before,
    stick,
    appendAll,
    everythingCommitted,
    release,
    stuckFor: () => Date.now() - stuckSince,
    returned: () => returned,
  };
}

/** What the slow member committed after its leave (or, with none, after `from`) under its old fence. */
function oldFenceCommitsAfterLeave(sent: Sent[], from: number, before: { memberId: string; epoch: number }) {
  const leave = sent.findIndex((s, i) => i >= from && isLeave(s));
  return sent
    .slice(leave < 0 ? from : leave)
    .filter(
      (s) =>
        s.path.endsWith("/offsets") &&
        s.body.memberId === before.memberId &&
        (s.body.generationId === before.epoch || s.body.memberEpoch === before.epoch),
    );
}

/** After its rejoin the slow member handles new records again, and every record ends committed. */
async function goesOn(t: Awaited<ReturnType<typeof slowAndSteady>>) {
  const slowBefore = t.processedBy.slow;
  t.appendAll(5);
  await until("every record committed", t.everythingCommitted);
  expect(t.processedBy.slow).toBeGreaterThan(slowBefore);
  await closeAll(t.slow, t.steady);
}

async function closeAll(...consumers: CohortConsumer<string>[]) {
  await Promise.all(consumers.map((c) => c.close()));
}

it("classic: a handler past the poll interval makes its member leave at once; its partitions move long before the session ends", async () => {
  const t = await slowAndSteady("poll-leave-classic", {
    protocol: "classic",
    sessionTimeoutMs: CLASSIC_SESSION_MS,
    heartbeatIntervalMs: 300,
  });
  await t.stick();
  // Without the leave, the coordinator would wait out the 30 s session before moving anything.
  await until(
    "the steady member owns every partition",
    () => t.steady.assignment().length === PARTITIONS,
    12_000,
  );
  expect(t.stuckFor()).toBeLessThan(CLASSIC_SESSION_MS / 2);
  expect(t.returned()).toBe(false);
  const described = await admin.describeGroup(t.group);
  expect(described.members.map((m) => m.memberId)).toEqual([t.steady.memberId]);
  // Lost, not revoked; and nothing committed under the old generation once it left.
  expect(t.lost.flat()).toHaveLength(2);
  warnedOnce();
  expect(t.sent.slice(t.before.sentCount).filter((s) => s.path.endsWith("/classic/leave"))).toHaveLength(1);
  expect(oldFenceCommitsAfterLeave(t.sent, t.before.sentCount, t.before)).toEqual([]);

  // Back from the handler: a new member, sharing the partitions again, and nothing is left behind.
  t.release();
  await until("the slow member rejoined", () => t.slow.assignment().length === 2 && t.slow.epoch >= 0);
  expect(t.slow.memberId).not.toBe(t.before.memberId);
  await goesOn(t);
});

it("consumer protocol: the member leaves with epoch -1 on poll timeout (not fenced by its session), rejoins with epoch 0 and goes on", async () => {
  const t = await slowAndSteady("poll-leave-consumer", { watch: false });
  await t.stick();
  await until(
    "the steady member owns every partition",
    () => t.steady.assignment().length === PARTITIONS,
    12_000,
  );
  expect(t.returned()).toBe(false);
  // The project's session is 1.5 s, so what removed the member is what tells: a leave, not a fencing.
  const { events } = await admin.events(t.group, { limit: 1000 });
  const removals = events.filter(
    (e) => e.memberId === t.before.memberId && (e.type === "member_left" || e.type === "member_fenced"),
  );
  expect(removals.map((e) => [e.type, e.detail])).toEqual([["member_left", { reason: "leave" }]]);
  expect(t.lost.flat()).toHaveLength(2);
  warnedOnce();
  const leaves = t.sent.slice(t.before.sentCount).filter(isLeave);
  expect(leaves.map((s) => s.body)).toEqual([{ memberId: t.before.memberId, memberEpoch: -1 }]);
  expect(oldFenceCommitsAfterLeave(t.sent, t.before.sentCount, t.before)).toEqual([]);

  t.release();
  await until("the slow member rejoined", () => t.slow.assignment().length === 2);
  // KIP-848: the same member id (the client's own), a new epoch, joined with epoch 0.
  expect(t.slow.memberId).toBe(t.before.memberId);
  const rejoin = t.sent.findIndex((s, i) => i > t.sent.indexOf(leaves[0]!) && s.path.endsWith("/heartbeat"));
  expect(t.sent[rejoin]?.body.memberEpoch).toBe(0);
  await goesOn(t);
});

it("classic static member: no leave on poll timeout, its partitions stay its own and come back when it rejoins", async () => {
  const group = freshGroup("poll-static-classic");
  const log = newLog();
  const { fetch, sent } = recorded();
  const lost: TopicPartition[][] = [];
  let armed = false;
  let stuck = 0;
  const options = {
    protocol: "classic" as const,
    sessionTimeoutMs: CLASSIC_SESSION_MS,
    heartbeatIntervalMs: 300,
    commit: CommitStrategies.afterEach(),
  };
  const slow = consumer(group, log, {
    ...options,
    fetch,
    groupInstanceId: "slow-instance",
    rebalanceTimeoutMs: POLL_INTERVAL_MS,
    listener: { onPartitionsLost: (ps) => void lost.push(ps) },
  });
  const steady = consumer(group, log, options);
  await slow.start(async () => {
    if (armed && stuck++ === 0) await sleep(3 * POLL_INTERVAL_MS);
  });
  await steady.start(() => {});
  await until("both settled", () => slow.assignment().length === 2 && steady.assignment().length === 2);
  const owned = slow.assignment();
  const from = sent.length;
  // Stuck for three poll intervals: the steady member never gets more than its own two.
  let most = 0;
  const watching = setInterval(() => {
    most = Math.max(most, steady.assignment().length);
  }, 20);
  armed = true;
  for (let p = 0; p < PARTITIONS; p++) log.append("orders", p, "late");
  await until("the slow member's partitions were lost", () => lost.length > 0, 10_000);
  await until("the slow member is back with its partitions", () => slow.assignment().length === 2, 15_000);
  clearInterval(watching);
  expect(most).toBe(2);
  expect(slow.assignment()).toEqual(owned);
  expect(sent.slice(from).filter((s) => s.path.endsWith("/classic/leave"))).toEqual([]);
  warnedOnce();
  await until("every record committed", () => allCommitted(steady, log));
  await closeAll(slow, steady);
});
