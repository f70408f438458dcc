/**
 * Two SDK consumers share a topic on the real coordinator; one is killed (abort: no commit, no leave).
 * The other takes over from the committed offsets once the coordinator fences the dead member, and the
 * records processed twice are exactly those the killed consumer had processed but not committed —
 * a number each commit strategy bounds.
 */

import { describe, expect, it } from "vitest";
import { CohortAdmin } from "../../src/client/admin.ts";
import { CommitStrategies, type CommitStrategy } from "../../src/client/commit-strategy.ts";
import type { CohortConsumer } from "../../src/client/consumer.ts";
import {
  consumer,
  freshGroup,
  Ledger,
  newLog,
  RECORDS_PER_PARTITION,
  sleep,
  TOPICS,
  until,
  workerFetch,
} from "./sdk-helpers";

const admin = new CohortAdmin({ url: "http://cohort.test", fetch: workerFetch });
const TOTAL = TOPICS.orders * RECORDS_PER_PARTITION;

interface Case {
  name: string;
  strategy: CommitStrategy;
  /** Most records the killed consumer may leave processed but uncommitted. */
  bound: (partitionsOwned: number) => number;
  /** Manual strategy: commit after this many records. */
  manualEvery?: number;
}

const cases: Case[] = [
  { name: "afterEach", strategy: CommitStrategies.afterEach(), bound: (owned) => owned },
  { name: "afterBatch(4)", strategy: CommitStrategies.afterBatch(4), bound: () => 4 },
  // periodic: at most what is processed in one interval (one record per ≥ 5 ms here, so < 100 in 250 ms).
  { name: "periodic(250)", strategy: CommitStrategies.periodic(250), bound: () => 60 },
  // manual: a commit from inside the handler covers the records before the one being handled, so the
  // record that triggered a commit is committed by the next one: at most 3 + 1 are pending at a crash.
  { name: "manual (commit every 3)", strategy: CommitStrategies.manual(), bound: () => 4, manualEvery: 3 },
];

describe.each(cases)("takeover after a crash with $name", ({ strategy, bound, manualEvery }) => {
  it("resumes from committed offsets; duplicates are exactly the uncommitted work of the dead consumer", async () => {
    const group = freshGroup("takeover");
    const log = newLog();
    const ledger = new Ledger();
    const consumers: Record<string, CohortConsumer<string>> = {};
    for (const name of ["a", "b"]) {
      let sinceCommit = 0;
      const c = consumer(group, log, { commit: strategy, clientId: name });
      consumers[name] = c;
      await c.start(async (record) => {
        await sleep(5);
        ledger.record(name, record.partition, record.offset);
        if (manualEvery && ++sinceCommit >= manualEvery) {
          sinceCommit = 0;
          await c.commit().catch(() => {});
        }
      });
    }
    const [a, b] = [consumers.a!, consumers.b!];
    await until(
      "both consumers own partitions and have made progress",
      () => a.assignment().length === 2 && b.assignment().length === 2 && ledger.distinct >= 24,
    );

    a.abort();
    await sleep(50); // the record a was handling when it died completes, uncommitted
    const aPartitions = a.assignment().map((tp) => tp.partition);
    // What a had done at the moment it died, and what the coordinator had from it.
    const aLast = new Map(ledger.last.get("a"));
    const committed = await b.committed();
    const uncommitted = aPartitions.reduce((sum, p) => {
      const processedUpTo = (aLast.get(p) ?? -1) + 1;
      const committedAt = Math.max(0, committed.get(`orders/${p}`) ?? 0);
      return sum + processedUpTo - committedAt;
    }, 0);

    await until(
      "b took over every partition and processed every record",
      () => b.assignment().length === 4 && ledger.distinct === TOTAL,
    );
    expect(ledger.duplicates).toBe(uncommitted);
    expect(uncommitted).toBeLessThanOrEqual(bound(aPartitions.length));
    await b.close();
    // close() committed everything and left: the lag is zero and the group has no members.
    const lag = await admin.lag(group);
    expect(lag.totalLag).toBe(0);
    expect(lag.partitions.map((p) => p.committedOffset)).toEqual([25, 25, 25, 25]);
    await until("b left", async () => (await admin.describeGroup(group)).members.length === 0);
  });
});
