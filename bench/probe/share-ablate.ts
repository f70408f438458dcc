/**
 * Paired rounds of the read floor, the floor with one write and the unbatched share acquire (16
 * consumers, 1 record a call, the previous record's accept piggybacked) on one coordinator per write
 * mode of COHORT_BENCH_SHARE_COMMIT (src/group-shell.ts), all in the same run: the group commit's
 * ablation. Prints req/s, ratios, workerd CPU µs per request and requests per commit per target.
 *
 *   npx tsx bench/probe/share-ablate.ts [modes=each,group] [rounds=3] [ms=1500] [callers=16]
 */
import { acceptHeld, acquireOnce, joinMembers, type Member, SHARE_VARS } from "../figures/share";
import { closedLoop, Http, type LoadResult, pairedRatio, summarize } from "../harness/load";
import { type RunningWorker, startCoordinator, startWorker } from "../harness/workerd";

const [m = "each,group", r = "3", ms = "1500", c = "16"] = process.argv.slice(2);
const modes = m.split(",");
const rounds = Number(r);
const durationMs = Number(ms);
/** Members joined (one per partition) and callers of the closed loop (each its own member). */
const CONSUMERS = 16;
const callers = Number(c);
const g = "share-ablate";

interface Target {
  name: string;
  proc: RunningWorker;
  send: (n: number, caller: number) => Promise<void>;
  batches?: () => Promise<number>;
}

const floorWorker = await startWorker({ config: "bench/floor/wrangler.toml" });
const floor = new Http(floorWorker.url);
const opened: { proc: RunningWorker; http: Http }[] = [];
const targets: Target[] = [
  {
    name: "floor",
    proc: floorWorker,
    send: () => floor.json("POST", `/v1/groups/${g}/floor`, { memberId: "m", maxRecords: 1 }).then(() => {}),
  },
  {
    name: "floorWrite",
    proc: floorWorker,
    send: (n) => floor.json("POST", `/v1/groups/${g}/floor/write`, { n }).then(() => {}),
  },
];
const members = new Map<string, Member[]>();
try {
  for (const mode of modes) {
    const proc = await startCoordinator({ ...SHARE_VARS, COHORT_BENCH_SHARE_COMMIT: mode });
    const http = new Http(proc.url, 32);
    opened.push({ proc, http });
    const joined = await joinMembers(http, g, CONSUMERS, CONSUMERS);
    members.set(mode, joined);
    targets.push({
      name: mode,
      proc,
      send: (_n, caller) => acquireOnce(http, g, joined[caller]!, 1).then(() => {}),
      batches: () =>
        http.json<{ shareBatches: number }>("GET", `/__bench/stats/${g}`).then((s) => s.shareBatches),
    });
  }
  /** Accepts what a mode's members hold, so no 1 s lock expires while the other targets run. */
  const settle = async (name: string) => {
    const held = members.get(name);
    const http = opened[modes.indexOf(name)]?.http;
    if (held && http) await acceptHeld(http, g, held);
  };
  const runs: Record<string, LoadResult[]> = {};
  const cpu: Record<string, { ms: number; sent: number; batches: number }> = {};
  for (const t of targets) {
    runs[t.name] = [];
    cpu[t.name] = { ms: 0, sent: 0, batches: 0 };
    await closedLoop({ concurrency: callers, durationMs: 1000, send: t.send });
    await settle(t.name);
  }
  for (let round = 0; round < rounds; round++) {
    for (const t of targets) {
      const b0 = (await t.batches?.()) ?? 0;
      const t0 = t.proc.cpuMs();
      const run = await closedLoop({ concurrency: callers, durationMs, send: t.send });
      cpu[t.name]!.ms += t.proc.cpuMs() - t0;
      cpu[t.name]!.sent += run.sent;
      cpu[t.name]!.batches += ((await t.batches?.()) ?? 0) - b0;
      runs[t.name]!.push(run);
      await settle(t.name);
    }
  }
  const out: Record<string, unknown> = {
    load: (await import("node:fs")).readFileSync("/proc/loadavg", "utf8").trim(),
  };
  for (const t of targets) {
    const c = cpu[t.name]!;
    out[t.name] = {
      perSecond: Math.round(summarize(runs[t.name]!).perSecond),
      p50Ms: Number(summarize(runs[t.name]!).p50Ms.toFixed(1)),
      vsFloor: pairedRatio(runs[t.name]!, runs.floor!, "perSecond").toFixed(2),
      vsWrite: pairedRatio(runs[t.name]!, runs.floorWrite!, "perSecond").toFixed(2),
      cpuUsPerRequest: Math.round((1000 * c.ms) / c.sent),
      ...(t.batches ? { requestsPerCommit: c.batches > 0 ? (c.sent / c.batches).toFixed(1) : "n/a" } : {}),
    };
  }
  console.log(JSON.stringify(out, null, 1));
} finally {
  floor.close();
  for (const o of opened) {
    o.http.close();
    await o.proc.dispose();
  }
  await floorWorker.dispose();
}
