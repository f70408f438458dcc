/**
 * Paired rounds of the read floor, the floor with one write and the unbatched share acquire (16
 * consumers, 1 record a call, the previous accept piggybacked: figure 7's load), for ablations of the
 * share path: edit the source, run `npx tsx bench/probe/share-ablate.ts [rounds] [ms]`, read the ratios
 * and the CPU each request costs the workerd process (all threads) and the load generator.
 */
import { acceptHeld, acquireOnce, joinMembers, SHARE_VARS } from "../figures/share";
import { closedLoop, Http, type LoadResult, pairedRatio, summarize } from "../harness/load";
import { startCoordinator, startWorker } from "../harness/workerd";

const [r = "3", ms = "1500"] = process.argv.slice(2);
const rounds = Number(r);
const durationMs = Number(ms);
const CONSUMERS = 16;

const floorWorker = await startWorker({ config: "bench/floor/wrangler.toml" });
const coordinator = await startCoordinator({ ...SHARE_VARS, SHARE_RECORD_LOCK_DURATION_MS: "60000" });
const floor = new Http(floorWorker.url, 32);
const cohort = new Http(coordinator.url, 32);
const g = "ablate-share";
const members = await joinMembers(cohort, g, CONSUMERS, CONSUMERS);
type Send = (n: number, caller: number) => Promise<void>;
const targets: [string, Send][] = [
  [
    "floor",
    () => floor.json("POST", `/v1/groups/${g}/floor`, { memberId: "m", maxRecords: 1 }).then(() => {}),
  ],
  ["floorWrite", (n) => floor.json("POST", `/v1/groups/${g}/floor/write`, { n }).then(() => {})],
  ["cohort", (_n, caller) => acquireOnce(cohort, g, members[caller]!, 1).then(() => {})],
];
const runs: Record<string, LoadResult[]> = { floor: [], floorWrite: [], cohort: [] };
const cpu: Record<string, { workerd: number; node: number; sent: number }> = Object.fromEntries(
  targets.map(([name]) => [name, { workerd: 0, node: 0, sent: 0 }]),
);
const nodeMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
try {
  for (const [, send] of targets) await closedLoop({ concurrency: CONSUMERS, durationMs: 1000, send });
  await acceptHeld(cohort, g, members);
  for (let round = 0; round < rounds; round++)
    for (const [name, send] of targets) {
      const proc = name === "cohort" ? coordinator : floorWorker;
      const w0 = proc.cpuMs();
      const n0 = nodeMs();
      const run = await closedLoop({ concurrency: CONSUMERS, durationMs, send });
      const c = cpu[name]!;
      c.workerd += proc.cpuMs() - w0;
      c.node += nodeMs() - n0;
      c.sent += run.sent;
      runs[name]!.push(run);
      if (name === "cohort") await acceptHeld(cohort, g, members);
    }
  const s = (k: string) => Math.round(summarize(runs[k]!).perSecond);
  const us = (k: string, of: "workerd" | "node") => Math.round((cpu[k]![of] * 1000) / cpu[k]!.sent);
  console.log(
    JSON.stringify({
      label: process.env.LABEL ?? "",
      floor: s("floor"),
      floorWrite: s("floorWrite"),
      cohort: s("cohort"),
      vsFloor: pairedRatio(runs.cohort!, runs.floor!, "perSecond").toFixed(2),
      vsFloorWrite: pairedRatio(runs.cohort!, runs.floorWrite!, "perSecond").toFixed(2),
      workerdUs: {
        floor: us("floor", "workerd"),
        floorWrite: us("floorWrite", "workerd"),
        cohort: us("cohort", "workerd"),
      },
      nodeUs: {
        floor: us("floor", "node"),
        floorWrite: us("floorWrite", "node"),
        cohort: us("cohort", "node"),
      },
    }),
  );
} finally {
  floor.close();
  cohort.close();
  await floorWorker.dispose();
  await coordinator.dispose();
}
