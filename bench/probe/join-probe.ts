/**
 * Probe (issue 13's attribution of the many-groups figure): N new groups × 2 members join one after
 * another (or C at a time), with the directory on or off, the 32 shards warmed first or not; prints
 * each join's latency, workerd's CPU per join and per steady heartbeat, and (PROBE_FAULT=hang|throw,
 * bench/probe/probe-entry.ts) does the same while every shard hangs or fails.
 *   npx tsx bench/probe/join-probe.ts on|off [N=100] [C=1] [warm]
 */

import { readFileSync } from "node:fs";
import { Http, percentile } from "../harness/load";
import { COORDINATOR_VARS, startWorker, workerdProcesses } from "../harness/workerd";

const cpuMs = () =>
  workerdProcesses()
    .filter((p) => p.ppid === process.pid)
    .reduce((sum, p) => {
      const st = readFileSync(`/proc/${p.pid}/stat`, "utf8");
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      return sum + (Number(f[11]) + Number(f[12])) * 10;
    }, 0);

const mode = process.argv[2] ?? "on"; // on | off
const n = Number(process.argv[3] ?? 100);
const conc = Number(process.argv[4] ?? 1);
const warm = process.argv[5] === "warm";

const vars: Record<string, string> = { CONSUMER_HEARTBEAT_INTERVAL_MS: "20000" };
if (mode === "off") vars.COHORT_BENCH_NO_DIRECTORY = "1";
const fault = process.env.PROBE_FAULT;
if (fault) vars.COHORT_TEST_HOOKS = "1";
const w = await startWorker({
  config: "wrangler.toml",
  entry: "bench/probe/probe-entry.ts",
  vars: { ...COORDINATOR_VARS, ...vars },
});
const http = new Http(w.url, 16);
try {
  if (warm) {
    const t0 = performance.now();
    await http.json("GET", "/__bench/directory");
    console.log(`warm shards: ${(performance.now() - t0).toFixed(1)} ms`);
  }
  if (fault) console.log(`fault ${fault}: ${(await http.call("GET", `/__probe/fault/${fault}`)).body}`);
  // a warm-up request to the worker itself
  const t0 = performance.now();
  await http.call("GET", "/v1/groups/warm-0/offsets");
  console.log(`first worker request: ${(performance.now() - t0).toFixed(1)} ms`);
  const lat: number[][] = [];
  const replies = new Map<string, { memberEpoch: number; assignment: { partitions: unknown[] } }>();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const g = `probe-${i}`;
      const row: number[] = [];
      for (const m of ["a", "b"]) {
        const t = performance.now();
        replies.set(
          `${g}-${m}`,
          await http.json<{ memberEpoch: number; assignment: { partitions: unknown[] } }>(
            "POST",
            `/v1/groups/${g}/heartbeat`,
            {
              memberId: `${g}-${m}`,
              memberEpoch: 0,
              subscribedTopics: [{ name: "orders", partitions: 4 }],
              ownedPartitions: [],
            },
          ),
        );
        row.push(performance.now() - t);
      }
      lat[i] = row;
    }
  };
  const cpu0 = cpuMs();
  const s = performance.now();
  await Promise.all(Array.from({ length: conc }, worker));
  const secs = (performance.now() - s) / 1000;
  await new Promise((r) => setTimeout(r, 300));
  const cpu = cpuMs() - cpu0;
  const a = lat.map((r) => r[0]!);
  const b = lat.map((r) => r[1]!);
  const f = (x: number[]) =>
    `p50 ${percentile(x, 0.5).toFixed(1)} p90 ${percentile(x, 0.9).toFixed(1)} p99 ${percentile(x, 0.99).toFixed(1)} max ${Math.max(...x).toFixed(1)}`;
  console.log(`mode=${mode} n=${n} c=${conc} warm=${warm} in ${secs.toFixed(1)} s`);
  console.log(`  workerd CPU: ${cpu} ms for ${2 * n} joins = ${(cpu / (2 * n)).toFixed(2)} ms/join`);
  console.log(`  first member : ${f(a)}`);
  console.log(`  second member: ${f(b)}`);
  console.log(
    `  first 10 groups (a,b): ${lat
      .slice(0, 10)
      .map((r) => r.map((x) => x.toFixed(0)).join("/"))
      .join(" ")}`,
  );
  console.log(
    `  deciles of a: ${[0, 10, 20, 30, 40, 50, 60, 70, 80, 90]
      .map((k) => {
        const sl = a.slice((k * n) / 100, ((k + 10) * n) / 100);
        return percentile(sl, 0.5).toFixed(0);
      })
      .join(" ")}`,
  );
  if (fault) await http.call("GET", "/__probe/fault/none");
  {
    const cpu1 = cpuMs();
    const hb: number[] = [];
    let errs = 0;
    let k = 0;
    const beat = async () => {
      while (k < 2 * n) {
        const j = k++;
        const g = `probe-${j >> 1}`;
        const t = performance.now();
        await http
          .json("POST", `/v1/groups/${g}/heartbeat`, {
            memberId: `${g}-${j & 1 ? "b" : "a"}`,
            memberEpoch: replies.get(`${g}-${j & 1 ? "b" : "a"}`)!.memberEpoch,
            ownedPartitions: replies.get(`${g}-${j & 1 ? "b" : "a"}`)!.assignment.partitions,
          })
          .catch((e) => {
            errs++;
            if (errs < 3) console.log(String(e));
          });
        hb.push(performance.now() - t);
      }
    };
    await Promise.all(Array.from({ length: conc }, beat));
    await new Promise((r) => setTimeout(r, 300));
    console.log(
      `  heartbeats: p50 ${percentile(hb, 0.5).toFixed(1)} ms; workerd CPU ${((cpuMs() - cpu1) / hb.length).toFixed(2)} ms/heartbeat (${errs} errors)`,
    );
  }
  if (mode === "on") {
    await new Promise((r) => setTimeout(r, 1000));
    const st = await http.json<{ updates: number; listed: number }[]>("GET", "/__bench/directory");
    console.log(
      `  directory: updates ${st.reduce((x, y) => x + y.updates, 0)} listed ${st.reduce((x, y) => x + y.listed, 0)}`,
    );
  }
} finally {
  http.close();
  await w.dispose();
}
