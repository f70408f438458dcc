/**
 * Figure 4 (consumer protocol) and the rows a rebalance writes (figure 5): 10 and 100 members join a
 * group subscribed to one topic of 900 partitions; the time from the first join until every partition
 * is owned and the group is Stable, then from one more member's join until Stable again. With the
 * watch WebSocket (pushes, acknowledged at once) and with plain HTTP polling at heartbeatIntervalMs.
 */
import { ConsumerMember } from "../harness/consumer-member";
import { median, sleep } from "../harness/load";
import { type Bench, statsOf } from "../harness/report";
import { stableWaiter } from "../harness/stable";

const PARTITIONS = 900;
const TOPIC = "events";

interface RebalanceRun {
  firstJoinMs: number;
  oneMoreMs: number;
  rowsFirst: number;
  rowsOneMore: number;
}

/** Every partition owned exactly once, all members at one epoch. */
const converged = (ms: ConsumerMember[]) => {
  const epoch = ms[0]?.epoch;
  const seen = new Set<number>();
  for (const m of ms) {
    if (m.epoch !== epoch) return false;
    for (const t of m.owned) for (const p of t.partitions) seen.add(p);
  }
  return seen.size === PARTITIONS && ms.reduce((n, m) => n + m.ownedCount, 0) === PARTITIONS;
};

async function rebalanceOnce(
  bench: Bench,
  groupId: string,
  size: number,
  push: boolean,
): Promise<RebalanceRun> {
  const members: ConsumerMember[] = [];
  const watch = stableWaiter(bench, groupId, () => converged(members));
  const make = (i: number) =>
    new ConsumerMember(
      bench.coordinator.http,
      groupId,
      `${groupId}-m${i}`,
      { topic: TOPIC, partitions: PARTITIONS },
      watch.check,
    );
  for (let i = 0; i < size; i++) members.push(make(i));
  const url = push ? bench.coordinator.url : undefined;
  const rows0 = (await statsOf(bench, groupId)).rowsWritten;
  const t0 = performance.now();
  const first = watch.wait();
  await Promise.all(members.map((m) => m.join(url)));
  const t1 = await first;
  const rows1 = (await statsOf(bench, groupId)).rowsWritten;

  const extra = make(size);
  members.push(extra);
  const t2 = performance.now();
  const again = watch.wait();
  await extra.join(url);
  const t3 = await again;
  const rows2 = (await statsOf(bench, groupId)).rowsWritten;
  await Promise.all(members.map((m) => m.stop(true)));
  return { firstJoinMs: t1 - t0, oneMoreMs: t3 - t2, rowsFirst: rows1 - rows0, rowsOneMore: rows2 - rows1 };
}

export async function rebalanceFigures(bench: Bench, pollIntervalMs: number): Promise<void> {
  const { report } = bench;
  for (const push of [true, false]) {
    for (const size of [10, 100]) {
      // Polling waits whole heartbeat intervals: one round is enough to see it, and bounds the run.
      const rounds = push ? bench.rounds : 1;
      const runs: RebalanceRun[] = [];
      for (let r = 0; r < rounds; r++) {
        runs.push(await rebalanceOnce(bench, `bench-rb-${push ? "push" : "poll"}-${size}-${r}`, size, push));
        await sleep(100);
      }
      const mode = push ? "WebSocket push" : `HTTP polling every ${pollIntervalMs} ms`;
      const figure = `4 rebalance, ${size} members × ${PARTITIONS}`;
      const first = median(runs.map((r) => r.firstJoinMs));
      const more = median(runs.map((r) => r.oneMoreMs));
      report.raw[`rebalance.${push ? "push" : "poll"}.${size}`] = runs;
      report.add({
        figure,
        metric: `first join → Stable (${mode})`,
        value: first,
        unit: "ms",
        ...(push && size === 10 ? { target: "≤ 100 ms", met: first <= 100 } : {}),
        ...(push ? {} : { note: `${(first / pollIntervalMs).toFixed(1)} heartbeat intervals` }),
      });
      report.add({
        figure,
        metric: `+1 member → Stable (${mode})`,
        value: more,
        unit: "ms",
        ...(push ? {} : { note: `${(more / pollIntervalMs).toFixed(1)} heartbeat intervals` }),
      });
      if (push) {
        report.add({
          figure: "5 storage",
          metric: `rows written, ${size} members join`,
          value: median(runs.map((r) => r.rowsFirst)),
          unit: "rows",
        });
        report.add({
          figure: "5 storage",
          metric: `rows written, +1 member to ${size}`,
          value: median(runs.map((r) => r.rowsOneMore)),
          unit: "rows",
        });
      }
    }
  }
}
