/**
 * `npm run bench`: starts the coordinator and the floor Worker on workerd (loopback only), measures every
 * figure of BENCHMARKS.md against the floor in the same run, prints the table and writes
 * bench/results/latest.json. Bounded: fixed rounds and durations, and it stops its workers itself.
 *
 *   npm run bench -- [--rounds 3] [--duration 2000] [--only commits,heartbeat,rebalance,classic,scale,share,groups]
 */
import { parseArgs } from "node:util";
import { classicFigures } from "./figures/classic";
import { commitFigures } from "./figures/commits";
import { manyGroupsFigures } from "./figures/groups";
import { heartbeatFigures } from "./figures/heartbeat";
import { rebalanceFigures } from "./figures/rebalance";
import { scaleFigures } from "./figures/scale";
import { shareFigures } from "./figures/share";
import { Http } from "./harness/load";
import { type Bench, Report } from "./harness/report";
import { COORDINATOR_VARS, startCoordinator, startWorker } from "./harness/workerd";

type Figure = (bench: Bench) => Promise<void>;
/** Plain polling waits whole heartbeat intervals; a short one keeps the run bounded (BENCHMARKS.md). */
const HEARTBEAT_INTERVAL_MS = 1000;

const FIGURES: Record<string, Figure> = {
  commits: commitFigures,
  heartbeat: heartbeatFigures,
  rebalance: (bench) => rebalanceFigures(bench, HEARTBEAT_INTERVAL_MS),
  classic: (bench) => classicFigures(bench, HEARTBEAT_INTERVAL_MS),
  scale: scaleFigures,
  share: shareFigures,
  groups: manyGroupsFigures,
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "3" },
      duration: { type: "string", default: "2000" },
      only: { type: "string" },
    },
  });
  const selected = values.only ? values.only.split(",") : Object.keys(FIGURES);
  const report = new Report();
  const floorWorker = await startWorker({ config: "bench/floor/wrangler.toml" });
  const coordinator = await startCoordinator({
    CONSUMER_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_INTERVAL_MS),
  });
  const bench: Bench = {
    coordinator: { url: coordinator.url, http: new Http(coordinator.url), rss: coordinator.rss },
    floor: { url: floorWorker.url, http: new Http(floorWorker.url) },
    rounds: Number(values.rounds),
    durationMs: Number(values.duration),
    report,
  };
  const started = performance.now();
  try {
    for (const name of selected) {
      const figure = FIGURES[name];
      if (!figure) throw new Error(`no figure ${name}; have ${Object.keys(FIGURES).join(", ")}`);
      const t0 = performance.now();
      try {
        await figure(bench);
      } catch (err) {
        report.skip(name, err instanceof Error ? err.message.slice(0, 300) : String(err));
      }
      console.error(`bench: ${name} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    bench.coordinator.http.close();
    bench.floor.http.close();
    await coordinator.dispose();
    await floorWorker.dispose();
  }
  report.print();
  report.write("bench/results/latest.json", {
    coordinatorVars: { ...COORDINATOR_VARS, CONSUMER_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_INTERVAL_MS) },
    rounds: bench.rounds,
    durationMs: bench.durationMs,
    figures: selected,
    seconds: Math.round((performance.now() - started) / 1000),
  });
}

await main();
