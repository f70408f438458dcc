/**
 * Paired rounds of the read floor, the floor with one write and the single-partition simple commit
 * (the commit figure's load, at one concurrency), for ablations of the commit path: edit the source,
 * run `npx tsx bench/probe/commit-ablate.ts [concurrency] [rounds] [ms]`, read the ratios.
 */
import { closedLoop, Http, type LoadResult, pairedRatio, summarize } from "../harness/load";
import { startCoordinator, startWorker } from "../harness/workerd";

const [c = "64", r = "3", ms = "1500"] = process.argv.slice(2);
const concurrency = Number(c);
const rounds = Number(r);
const durationMs = Number(ms);

const body = (n: number) => ({
  n,
  offsets: [{ topic: "orders", partition: n % 64, offset: n, logEndOffset: n + 10 }],
});

const floorWorker = await startWorker({ config: "bench/floor/wrangler.toml" });
const coordinator = await startCoordinator();
const floor = new Http(floorWorker.url);
const cohort = new Http(coordinator.url);
const g = `ablate-c${concurrency}`;
const targets = [
  ["floor", floor, `/v1/groups/${g}/floor`],
  ["floorWrite", floor, `/v1/groups/${g}/floor/write`],
  ["cohort", cohort, `/v1/groups/${g}/offsets`],
] as const;
const runs: Record<string, LoadResult[]> = { floor: [], floorWrite: [], cohort: [] };
/** workerd CPU time (all threads) per request sent, µs, per target. */
const cpu: Record<string, { ms: number; sent: number }> = {
  floor: { ms: 0, sent: 0 },
  floorWrite: { ms: 0, sent: 0 },
  cohort: { ms: 0, sent: 0 },
};
try {
  for (const [, http, path] of targets)
    await closedLoop({
      concurrency,
      durationMs: 1000,
      send: (n) => http.json("POST", path, body(n)).then(() => undefined),
    });
  for (let round = 0; round < rounds; round++)
    for (const [name, http, path] of targets) {
      const proc = name === "cohort" ? coordinator : floorWorker;
      const t0 = proc.cpuMs();
      const run = await closedLoop({
        concurrency,
        durationMs,
        send: (n) => http.json("POST", path, body(n)).then(() => undefined),
      });
      cpu[name]!.ms += proc.cpuMs() - t0;
      cpu[name]!.sent += run.sent;
      runs[name]!.push(run);
    }
  const s = (k: string) => Math.round(summarize(runs[k]!).perSecond);
  console.log(
    JSON.stringify({
      label: process.env.LABEL ?? "",
      concurrency,
      floor: s("floor"),
      floorWrite: s("floorWrite"),
      cohort: s("cohort"),
      vsFloor: pairedRatio(runs.cohort!, runs.floor!, "perSecond").toFixed(2),
      vsWrite: pairedRatio(runs.cohort!, runs.floorWrite!, "perSecond").toFixed(2),
      cpuUsPerRequest: Object.fromEntries(
        Object.entries(cpu).map(([k, v]) => [k, Math.round((1000 * v.ms) / v.sent)]),
      ),
      rounds: runs.cohort!.map((x, i) => (x.perSecond / runs.floorWrite![i]!.perSecond).toFixed(2)),
    }),
  );
} finally {
  floor.close();
  cohort.close();
  await coordinator.dispose();
  await floorWorker.dispose();
}
