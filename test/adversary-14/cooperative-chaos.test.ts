/**
 * Classic cooperative-sticky (KIP-429) under churn, observed as a black box: members join and leave at
 * the same moment, one crashes (abort) in the middle of the rebalance, and eager members (offering
 * ["cooperative-sticky", "range"], as during an upgrade) mix with cooperative ones. Invariants: no
 * partition is handled by two members at once, every record is handled at least once, committed
 * offsets never move backward, live members never see their partitions lost, and a cooperative member
 * never revokes a partition it keeps.
 */

import { expect, it } from "vitest";
import { CommitStrategies } from "../../src/client/commit-strategy.ts";
import type { CohortConsumer } from "../../src/client/consumer.ts";
import { MemoryLog } from "../../src/client/memory-log.ts";
import { keyOf, type TopicPartition } from "../../src/client/partitions.ts";
import { consumer, freshGroup, sleep, until } from "../sdk/sdk-helpers";
import { admin, CallLog, expectNoOverlap } from "./black-box";

const TOPICS = { orders: 6 };
const RECORDS = 40;
const COOPERATIVE = ["cooperative-sticky"];
const UPGRADING = ["cooperative-sticky", "range"];

interface Member {
  name: string;
  c: CohortConsumer<string>;
  revoked: string[][];
  lost: string[][];
  assigned: string[][];
}

const keys = (ps: TopicPartition[]) => ps.map(keyOf).sort();

function harness() {
  const group = freshGroup("adv-coop");
  const log = MemoryLog.filled(TOPICS, RECORDS, (t, p, o) => `${t}-${p}-${o}`);
  const calls = new CallLog();
  const member = (name: string, assignors: string[]): Member => {
    const m: Member = { name, revoked: [], lost: [], assigned: [], c: undefined as never };
    m.c = consumer(group, log, {
      protocol: "classic",
      topics: TOPICS,
      assignors,
      clientId: name,
      sessionTimeoutMs: 1_500,
      heartbeatIntervalMs: 200,
      rebalanceTimeoutMs: 3_000,
      commit: CommitStrategies.afterEach(),
      maxRecords: 3,
      listener: {
        onPartitionsAssigned: (ps) => void m.assigned.push(keys(ps)),
        onPartitionsRevoked: (ps) => void m.revoked.push(keys(ps)),
        onPartitionsLost: (ps) => void m.lost.push(keys(ps)),
      },
    });
    return m;
  };
  const handler = (m: Member) => (r: { partition: number; offset: number }) =>
    calls.around(m.name, r.partition, r.offset, () => sleep(4));
  // Committed offsets polled throughout: none may ever move backward (no seek happens here).
  const backwards: string[] = [];
  const last = new Map<number, number>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const { offsets } = await admin().fetchOffsets(group, ["orders"]);
      for (const o of offsets) {
        if ((last.get(o.partition) ?? -1) > o.offset)
          backwards.push(`${o.partition}: ${last.get(o.partition)} → ${o.offset}`);
        last.set(o.partition, o.offset);
      }
      await sleep(40);
    }
  })();
  const allHandled = () =>
    Array.from({ length: 6 }, (_, p) => calls.missing(p, RECORDS).length).every((n) => n === 0);
  const stopPolling = async () => {
    polling = false;
    await poller;
  };
  return { group, calls, member, handler, backwards, allHandled, stopPolling };
}

/** Until the group has settled: every partition owned exactly once, balanced (the sticky assignor's goal). */
async function settled(members: Member[]) {
  const fair = Math.floor(6 / members.length);
  await until(
    "every partition owned exactly once, balanced",
    () => {
      const owned = members.flatMap((m) => keys(m.c.assignment()));
      const balanced = members.every(
        (m) => m.c.assignment().length - fair <= 1 && m.c.assignment().length >= fair,
      );
      return balanced && owned.length === 6 && new Set(owned).size === 6;
    },
    25_000,
  );
}

it("concurrent joins and a leave, then a crash mid-rebalance: never two handlers on one partition", async () => {
  const h = harness();
  const a = h.member("a", COOPERATIVE);
  const b = h.member("b", COOPERATIVE);
  await Promise.all([a.c.start(h.handler(a)), b.c.start(h.handler(b))]);
  await settled([a, b]);

  // c and d join while b leaves, all at once; a crashes as soon as the rebalance is under way.
  const c = h.member("c", COOPERATIVE);
  const d = h.member("d", COOPERATIVE);
  const joining = Promise.all([c.c.start(h.handler(c)), d.c.start(h.handler(d))]);
  const leaving = b.c.close();
  await sleep(150);
  a.c.abort();
  await Promise.all([joining, leaving]);
  await settled([c, d]);
  await until("every record handled", h.allHandled, 25_000);
  await h.stopPolling();
  await Promise.all([c.c.close(), d.c.close()]);

  expectNoOverlap(h.calls);
  expect(h.backwards).toEqual([]);
  expect([c.lost, d.lost]).toEqual([[], []]); // alive members lose nothing; a crashed one is not told
});

it("eager (upgrading) and cooperative members mixed: no double handling, cooperative keepers never revoke", async () => {
  const h = harness();
  const coop = h.member("coop", COOPERATIVE);
  const eager = h.member("eager", UPGRADING);
  await coop.c.start(h.handler(coop));
  await until("coop owns all", () => coop.c.assignment().length === 6);
  await eager.c.start(h.handler(eager));
  await settled([coop, eager]);
  const coopKept = keys(coop.c.assignment());

  // A third, cooperative, member joins; then the eager one leaves.
  const third = h.member("third", COOPERATIVE);
  await third.c.start(h.handler(third));
  await settled([coop, eager, third]);
  const afterJoin = keys(coop.c.assignment());
  await eager.c.close();
  await settled([coop, third]);
  await until("every record handled", h.allHandled, 25_000);
  await h.stopPolling();
  const coopEnd = keys(coop.c.assignment());
  const revokedByCoop = coop.revoked.flat(); // before close(), which revokes everything it owns
  await Promise.all([coop.c.close(), third.c.close()]);

  expectNoOverlap(h.calls);
  expect(h.backwards).toEqual([]);
  expect([coop.lost, eager.lost, third.lost]).toEqual([[], [], []]);
  // What coop kept through each rebalance it never revoked along the way (only what moved away).
  for (const p of coopKept.filter((x) => afterJoin.includes(x) && coopEnd.includes(x)))
    expect(revokedByCoop).not.toContain(p);
  // The eager member revoked everything it owned at the third's join (eager, as Kafka's upgrade path).
  expect(eager.revoked.length).toBeGreaterThan(0);
});

it("a member offering only an eager assignor cannot join a cooperative-only group and disturbs nobody", async () => {
  const h = harness();
  const coop = h.member("coop", COOPERATIVE);
  await coop.c.start(h.handler(coop));
  await until("coop owns all", () => coop.c.assignment().length === 6);
  const generation = coop.c.epoch;
  const intruder = h.member("range-only", ["range"]);
  await expect(intruder.c.start(h.handler(intruder))).rejects.toMatchObject({
    code: "INCONSISTENT_GROUP_PROTOCOL",
  });
  await until("every record handled", h.allHandled, 25_000);
  await h.stopPolling();
  expect(coop.c.epoch).toBe(generation);
  expect(coop.revoked).toEqual([]);
  await coop.c.close();
  expect(h.backwards).toEqual([]);
});
