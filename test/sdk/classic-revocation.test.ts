/**
 * The classic SDK consumer's revocation, as Kafka's onJoinPrepare does it: the pending offsets are
 * committed under the old generation before `onPartitionsRevoked` runs, and the member keeps
 * heartbeating while the listener runs, so the rebalance timeout, not the session timeout, bounds it.
 * onPartitionsAssigned likewise runs with heartbeats going on.
 */

import { expect, it } from "vitest";
import { CohortAdmin } from "../../src/client/admin.ts";
import { CommitStrategies } from "../../src/client/commit-strategy.ts";
import type { TopicPartition } from "../../src/client/partitions.ts";
import {
  consumer,
  freshGroup,
  newLog,
  RECORDS_PER_PARTITION,
  sleep,
  until,
  workerFetch,
} from "./sdk-helpers";

const admin = new CohortAdmin({ url: "http://cohort.test", fetch: workerFetch });
// Session 1.5 s (the project's minimum is 0.5 s); the listeners take 3 s; the rebalance timeout is 15 s.
const CLASSIC = {
  protocol: "classic" as const,
  sessionTimeoutMs: 1_500,
  heartbeatIntervalMs: 250,
  rebalanceTimeoutMs: 15_000,
};
const SLOW_REVOCATION_MS = 3_000;

it("a slow onPartitionsRevoked outlasting the session keeps the membership; offsets are committed first", async () => {
  const group = freshGroup("classic-revoke");
  const log = newLog();
  const committedAtRevocation: Map<string, number>[] = [];
  const revoked: TopicPartition[][] = [];
  const lost: TopicPartition[][] = [];
  let a: ReturnType<typeof consumer> | undefined;
  a = consumer(group, log, {
    ...CLASSIC,
    clientId: "a",
    // Nothing is committed except by the revocation itself.
    commit: CommitStrategies.manual(),
    listener: {
      onPartitionsRevoked: async (ps) => {
        revoked.push(ps);
        committedAtRevocation.push(await a!.committed());
        await sleep(SLOW_REVOCATION_MS);
      },
      onPartitionsLost: (ps) => void lost.push(ps),
    },
  });
  await a.start(() => {});
  await until("a processed every record", () =>
    [0, 1, 2, 3].every((p) => a!.position("orders", p) === RECORDS_PER_PARTITION),
  );
  const { memberId } = a;
  expect((await a.committed()).size).toBe(0);

  const seenByB: number[] = [];
  let slowAssignment = true;
  const b = consumer(group, log, {
    ...CLASSIC,
    clientId: "b",
    commit: CommitStrategies.afterEach(),
    // b's first onPartitionsAssigned outlasts its session too: heartbeats go on meanwhile.
    listener: {
      onPartitionsAssigned: async (ps) => {
        if (ps.length === 0 || !slowAssignment) return;
        slowAssignment = false;
        await sleep(SLOW_REVOCATION_MS);
      },
    },
  });
  const bStarted = b.start((record) => void seenByB.push(record.offset));
  await until("b joined", () => b.memberId !== "");
  const bMemberId = b.memberId;
  await bStarted;
  await until(
    "a and b hold two partitions each",
    () => a!.assignment().length === 2 && b.assignment().length === 2,
    30_000,
  );

  // The revocation committed every processed offset before the listener ran.
  expect(revoked).toHaveLength(1);
  expect([...committedAtRevocation[0]!.entries()].sort()).toEqual(
    [0, 1, 2, 3].map((p) => [`orders/${p}`, RECORDS_PER_PARTITION]),
  );
  // Still the same member: its session never expired while the listener ran.
  expect(a.memberId).toBe(memberId);
  expect(b.memberId).toBe(bMemberId);
  expect(lost).toEqual([]);
  expect(slowAssignment).toBe(false);
  const described = await admin.describeGroup(group);
  expect(described.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort());
  // The next owner resumes exactly after the committed offsets: b processes nothing twice.
  for (const tp of b.assignment()) expect(b.position(tp.topic, tp.partition)).toBe(RECORDS_PER_PARTITION);
  const [mine] = b.assignment();
  log.append(mine!.topic, mine!.partition, "new");
  await until("b processed the new record", () => seenByB.length === 1);
  expect(seenByB).toEqual([RECORDS_PER_PARTITION]);
  await Promise.all([a.close(), b.close()]);
});

it("a rebalance that starts while onPartitionsAssigned runs keeps the member's session; it rejoins after", async () => {
  const group = freshGroup("classic-assign");
  const log = newLog();
  const a = consumer(group, log, { ...CLASSIC, clientId: "a" });
  await a.start(() => {});
  let assigning: string | undefined;
  let slow = true;
  const b = consumer(group, log, {
    ...CLASSIC,
    clientId: "b",
    listener: {
      onPartitionsAssigned: async (ps) => {
        if (ps.length === 0 || !slow) return;
        slow = false;
        assigning = b.memberId;
        await sleep(SLOW_REVOCATION_MS);
      },
    },
  });
  const bStarted = b.start(() => {});
  await until("b runs its slow onPartitionsAssigned", () => assigning !== undefined, 30_000);
  // c joins meanwhile: b hears REBALANCE_IN_PROGRESS while its listener still runs.
  const c = consumer(group, log, { ...CLASSIC, clientId: "c" });
  await Promise.all([bStarted, c.start(() => {})]);
  await until(
    "a, b and c all own partitions",
    () => [a, b, c].every((m) => m.assignment().length > 0),
    30_000,
  );
  expect(b.memberId).toBe(assigning);
  const described = await admin.describeGroup(group);
  expect(described.members.map((m) => m.memberId).sort()).toEqual(
    [a.memberId, b.memberId, c.memberId].sort(),
  );
  await Promise.all([a.close(), b.close(), c.close()]);
});
