/**
 * Probe: the many-groups figure's open-loop ramp at RATE groups/s (each group's 2 members join one
 * after the other), optionally heartbeating every HB ms (PROBE_HB_INTERVAL_MS, PROBE_SESSION_MS set
 * the coordinator's), with the 32 shards warmed first, created during the ramp ("during", directory
 * off) or left cold; prints latency by 250 ms of send time and workerd's thread states.
 *   npx tsx bench/probe/ramp-probe.ts on|off [N=200] [RATE=33] [warm|during|cold] [SOCKETS=128] [HB=0]
 */

import { readdirSync, readFileSync } from "node:fs";
import { Http, percentile, sleep } from "../harness/load";
import { startCoordinator, workerdProcesses } from "../harness/workerd";

/** Samples the state (R running, S sleeping, D disk wait) of every workerd thread every 10 ms. */
function threadStates() {
  const pid = workerdProcesses().find((p) => p.ppid === process.pid)!.pid;
  const counts = new Map<string, Map<string, number>>();
  const timer = setInterval(() => {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const name = st.slice(st.indexOf("(") + 1, st.lastIndexOf(")"));
        const state = st.slice(st.lastIndexOf(")") + 2, st.lastIndexOf(")") + 3);
        const key = tid === String(pid) ? "main" : name;
        const m = counts.get(key) ?? new Map<string, number>();
        m.set(state, (m.get(state) ?? 0) + 1);
        counts.set(key, m);
      } catch {}
    }
  }, 10);
  return () => {
    clearInterval(timer);
    return [...counts].map(([k, m]) => `${k}: ${[...m].map(([s, n]) => `${s}${n}`).join(" ")}`).join("; ");
  };
}

const mode = process.argv[2] ?? "on";
const n = Number(process.argv[3] ?? 200);
const rate = Number(process.argv[4] ?? 33);
const warm = process.argv[5] === "warm";
const during = process.argv[5] === "during"; // create the 32 shards (stats) while the ramp starts
const sockets = Number(process.argv[6] ?? 128);
const hbMs = Number(process.argv[7] ?? 0);
const vars: Record<string, string> = {
  CONSUMER_HEARTBEAT_INTERVAL_MS: process.env.PROBE_HB_INTERVAL_MS ?? "20000",
  ...(process.env.PROBE_SESSION_MS ? { CONSUMER_SESSION_TIMEOUT_MS: process.env.PROBE_SESSION_MS } : {}),
};
if (mode === "off") vars.COHORT_BENCH_NO_DIRECTORY = "1";
const w = await startCoordinator(vars);
const http = new Http(w.url, sockets);
try {
  if (warm) await http.json("GET", "/__bench/directory");
  const stopStates = threadStates();
  const hbLat: number[] = [];
  let stopHb = false;
  let hbErrors = 0;
  const beats: Promise<void>[] = [];
  const lat: number[][] = [];
  const events: [number, number][] = [];
  const started = performance.now();
  const joins: Promise<void>[] = [];
  let inflight = 0;
  let maxInflight = 0;
  const join = async (g: string, m: string) => {
    inflight++;
    maxInflight = Math.max(maxInflight, inflight);
    const t = performance.now();
    const reply = await http.json<{ memberEpoch: number; assignment: { partitions: unknown[] } }>(
      "POST",
      `/v1/groups/${g}/heartbeat`,
      {
        memberId: `${g}-${m}`,
        memberEpoch: 0,
        subscribedTopics: [{ name: "orders", partitions: 4 }],
        ownedPartitions: [],
      },
    );
    if (hbMs > 0)
      beats.push(
        (async () => {
          while (!stopHb) {
            await sleep(hbMs * (0.9 + 0.2 * Math.random()));
            if (stopHb) return;
            const t1 = performance.now();
            const r = await http.call("POST", `/v1/groups/${g}/heartbeat`, {
              memberId: `${g}-${m}`,
              memberEpoch: reply.memberEpoch,
              ownedPartitions: reply.assignment.partitions,
            });
            hbLat.push(performance.now() - t1);
            if (r.status !== 200) hbErrors++;
          }
        })(),
      );
    inflight--;
    events.push([t - started, performance.now() - t]);
    return performance.now() - t;
  };
  let statsMs = 0;
  const duringP = during
    ? (async () => {
        const t = performance.now();
        await http.json("GET", "/__bench/directory");
        statsMs = performance.now() - t;
      })()
    : Promise.resolve();
  for (let i = 0; i < n; i++) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    const g = `ramp-${i}`;
    joins.push(
      (async () => {
        lat[i] = [await join(g, "a"), await join(g, "b")];
      })(),
    );
  }
  await Promise.all(joins);
  stopHb = true;
  await Promise.all(beats);
  console.log(
    `  heartbeats: ${hbLat.length} (${hbErrors} not 200), p50 ${percentile(hbLat, 0.5).toFixed(1)} ms; thread states (10 ms samples): ${stopStates()}`,
  );
  await duringP;
  if (during) console.log(`  32 shards created during the ramp in ${statsMs.toFixed(0)} ms`);
  const buckets = new Map<number, number[]>();
  for (const [at, ms] of events) {
    const b = Math.floor(at / 250);
    buckets.set(b, [...(buckets.get(b) ?? []), ms]);
  }
  console.log(
    `  timeline (250 ms buckets by send time, p50/max ms): ${[...buckets.keys()]
      .sort((a, b) => a - b)
      .slice(0, 16)
      .map((b) => `${percentile(buckets.get(b)!, 0.5).toFixed(0)}/${Math.max(...buckets.get(b)!).toFixed(0)}`)
      .join(" ")}`,
  );
  const all = lat.flat();
  const f = (x: number[]) => `p50 ${percentile(x, 0.5).toFixed(1)} p99 ${percentile(x, 0.99).toFixed(1)}`;
  console.log(
    `mode=${mode} n=${n} rate=${rate}/s warm=${warm} sockets=${sockets} in ${((performance.now() - started) / 1000).toFixed(1)} s, max in flight ${maxInflight}`,
  );
  console.log(
    `  all joins: ${f(all)}; per 50 groups p50: ${Array.from({ length: Math.ceil(n / 50) }, (_, k) => percentile(lat.slice(k * 50, k * 50 + 50).flat(), 0.5).toFixed(0)).join(" ")}`,
  );
} finally {
  http.close();
  await w.dispose();
}
