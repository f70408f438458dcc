/**
 * Figure 4, classic protocol: 10 and 100 members join a group for one topic of 900 partitions (range
 * split by the leader); the time from the first join until every member has completed a sync in one
 * generation that holds them all, every partition assigned once, and describe says Stable; then the
 * same after one more member's join. Members heartbeat every second (they learn of a rebalance only
 * from a heartbeat), and GROUP_INITIAL_REBALANCE_DELAY_MS is 0.
 */
import { ClassicMember } from "../harness/classic-member";
import { Http, median, sleep } from "../harness/load";
import type { Bench } from "../harness/report";
import { stableWaiter } from "../harness/stable";

const PARTITIONS = 900;
/** Every member synced in one generation, every partition assigned once. */
const converged = (ms: ClassicMember[]) => {
  const generation = ms[0]?.generation;
  if (ms.some((m) => m.generation !== generation || m.generation < 0)) return false;
  return new Set(ms.flatMap((m) => m.owned)).size === PARTITIONS;
};

async function classicOnce(bench: Bench, http: Http, groupId: string, size: number, heartbeatMs: number) {
  const members: ClassicMember[] = [];
  const watch = stableWaiter(bench, groupId, () => converged(members));
  const make = () => new ClassicMember(http, groupId, "events", PARTITIONS, heartbeatMs, watch.check);
  for (let i = 0; i < size; i++) members.push(make());
  const t0 = performance.now();
  const first = watch.wait();
  for (const m of members) m.start();
  const t1 = await first;
  const extra = make();
  members.push(extra);
  const t2 = performance.now();
  const again = watch.wait();
  extra.start();
  const t3 = await again;
  await Promise.all(members.map((m) => m.stop()));
  return { firstJoinMs: t1 - t0, oneMoreMs: t3 - t2 };
}

export async function classicFigures(bench: Bench, heartbeatMs: number): Promise<void> {
  // Joins and syncs are long polls: one socket per member.
  const http = new Http(bench.coordinator.url, 256);
  try {
    for (const size of [10, 100]) {
      const runs = [];
      for (let r = 0; r < bench.rounds; r++) {
        runs.push(await classicOnce(bench, http, `bench-classic-${size}-${r}`, size, heartbeatMs));
        await sleep(100);
      }
      bench.report.raw[`classic.${size}`] = runs;
      const figure = `4 rebalance, classic, ${size} members × ${PARTITIONS}`;
      const first = median(runs.map((r) => r.firstJoinMs));
      const more = median(runs.map((r) => r.oneMoreMs));
      bench.report.add({
        figure,
        metric: `first join → all synced, Stable (heartbeat ${heartbeatMs} ms)`,
        value: first,
        unit: "ms",
        note: `${(first / heartbeatMs).toFixed(1)} heartbeat intervals`,
      });
      bench.report.add({
        figure,
        metric: "+1 member → all synced, Stable",
        value: more,
        unit: "ms",
        note: `${(more / heartbeatMs).toFixed(1)} heartbeat intervals`,
      });
    }
  } finally {
    http.close();
  }
}
