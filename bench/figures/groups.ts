/**
 * Figure 8: many groups (issue 13). GROUPS groups of 2 consumer members join on one local runtime,
 * spread over RAMP_MS (the fleet: 2,000 groups over 60 s), each member heartbeating every
 * HEARTBEAT_MS; join latency of the first 100 groups against the last 100, the directory's updates
 * per shard and per second, then the first page of GET /v1/groups at 2,000 groups and, after
 * offsets-only groups fill it up, at 10,000. The join ramp runs again on a fresh runtime with the
 * directory's RPCs switched off (COHORT_BENCH_NO_DIRECTORY=1, bench only), so what the directory
 * costs can be told from what the local runtime does with more objects.
 *
 * Both runs first call every shard once (creating the 32 objects) before the ramp: on one local
 * runtime, creating them stalls the whole process, which is not what a join costs. Each run reports
 * workerd's CPU over the ramp (its isolate is one thread: near 1 core, or near its share of a loaded
 * machine, the runtime is saturated and latency is queueing), CPU per request at the start and the
 * end, the bench client's own CPU and the machine's load average.
 */
import { loadavg } from "node:os";
import { Http, percentile, sleep } from "../harness/load";
import type { Bench } from "../harness/report";
import { type RunningWorker, startCoordinator } from "../harness/workerd";

const GROUPS = 2_000;
const RAMP_MS = 60_000;
const HEARTBEAT_MS = 20_000;
/** Joins not sent by then (the runtime fell behind) are dropped and the figure says how many ran. */
const RAMP_BUDGET_MS = 90_000;
const FILL_TO = 10_000;
const LIST_SAMPLES = 25;
const EDGE = 100;

interface Reply {
  memberId: string;
  memberEpoch: number;
  assignment: { partitions: { topic: string; partitions: number[] }[] };
}

interface RampResult {
  joined: number;
  first: number[];
  last: number[];
  heartbeats: number;
  heartbeatErrors: number;
  seconds: number;
  directory?: { updates: number[]; lists: number[] };
  listAt2k?: number[];
  listAt10k?: number[];
  /** The 32 shards' first call (before the ramp, in both modes), ms. */
  warmShardsMs: number;
  cpu: CpuUse;
}

/** Where the CPU went during the ramp (the joins and heartbeats, not the listing afterwards). */
interface CpuUse {
  /** workerd's CPU time over the ramp's wall time (1 = one core busy; its isolate runs on one thread). */
  workerd: number;
  /** The same over the busiest 10 s. */
  workerdPeak10s: number;
  /** workerd CPU ms per request answered (joins and heartbeats), in the ramp's first and last 10 s. */
  msPerRequestFirst10s: number;
  msPerRequestLast10s: number;
  /** The bench's own Node process (client, heartbeat loop) over the ramp's wall time. */
  client: number;
  /** The machine's 1-minute load average when the ramp started and when it ended (2 cores). */
  loadStart: number;
  loadEnd: number;
}

interface Sample {
  at: number;
  workerdMs: number;
  clientMs: number;
  answered: number;
}

const clientCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function cpuUse(samples: Sample[], loadStart: number): CpuUse {
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const wall = last.at - first.at;
  const at = (t: number) => samples.find((x) => x.at >= t) ?? last;
  let peak = 0;
  for (const x of samples) {
    const y = at(x.at + 10_000);
    if (y.at - x.at >= 9_000) peak = Math.max(peak, (y.workerdMs - x.workerdMs) / (y.at - x.at));
  }
  const perRequest = (a: Sample, b: Sample) =>
    (b.workerdMs - a.workerdMs) / Math.max(1, b.answered - a.answered);
  const tenIn = at(first.at + 10_000);
  const tenBefore = [...samples].reverse().find((x) => x.at <= last.at - 10_000) ?? first;
  return {
    workerd: (last.workerdMs - first.workerdMs) / wall,
    workerdPeak10s: peak,
    msPerRequestFirst10s: perRequest(first, tenIn),
    msPerRequestLast10s: perRequest(tenBefore, last),
    client: (last.clientMs - first.clientMs) / wall,
    loadStart,
    loadEnd: loadavg()[0]!,
  };
}

async function ramp(worker: RunningWorker, withListing: boolean): Promise<RampResult> {
  const http = new Http(worker.url, 128);
  // The 32 shard objects are created here, before the ramp and in both modes: creating them is a
  // once-per-deployment cost (each its own object on Cloudflare), which on one local runtime stalls
  // every object in the process for 0.1–0.4 s and, inside the ramp, queued the first groups' joins.
  const w0 = performance.now();
  await http.json("GET", "/__bench/directory");
  const warmShardsMs = performance.now() - w0;
  let answered = 0;
  const samples: Sample[] = [];
  const sample = () =>
    samples.push({ at: performance.now(), workerdMs: worker.cpuMs(), clientMs: clientCpuMs(), answered });
  const loadStart = loadavg()[0]!;
  const joinMs: number[][] = [];
  const stop = { now: false };
  let heartbeats = 0;
  let heartbeatErrors = 0;
  const beating: Promise<void>[] = [];
  const member = async (groupId: string, memberId: string): Promise<number> => {
    const t0 = performance.now();
    let last = await http.json<Reply>("POST", `/v1/groups/${groupId}/heartbeat`, {
      memberId,
      memberEpoch: 0,
      subscribedTopics: [{ name: "orders", partitions: 4 }],
      ownedPartitions: [],
    });
    const took = performance.now() - t0;
    answered++;
    beating.push(
      (async () => {
        while (!stop.now) {
          await sleep(HEARTBEAT_MS * (0.9 + 0.2 * Math.random()));
          if (stop.now) return;
          const reply = await http.call("POST", `/v1/groups/${groupId}/heartbeat`, {
            memberId,
            memberEpoch: last.memberEpoch,
            ownedPartitions: last.assignment.partitions,
          });
          heartbeats++;
          answered++;
          if (reply.status === 200) last = JSON.parse(reply.body) as Reply;
          else heartbeatErrors++;
        }
      })(),
    );
    return took;
  };
  const started = performance.now();
  sample();
  const sampler = setInterval(sample, 1000);
  const joins: Promise<void>[] = [];
  for (let i = 0; i < GROUPS; i++) {
    const due = started + (i * RAMP_MS) / GROUPS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (performance.now() - started > RAMP_BUDGET_MS) break;
    const groupId = `many-${String(i).padStart(5, "0")}`;
    joins.push(
      (async () => {
        joinMs[i] = [await member(groupId, `${groupId}-a`), await member(groupId, `${groupId}-b`)];
      })(),
    );
  }
  await Promise.all(joins);
  clearInterval(sampler);
  sample();
  const seconds = (performance.now() - started) / 1000;
  const result: RampResult = {
    joined: joinMs.filter(Boolean).length,
    first: joinMs.slice(0, EDGE).flat(),
    last: joinMs.slice(Math.max(EDGE, joinMs.length - EDGE)).flat(),
    heartbeats,
    heartbeatErrors,
    seconds,
    warmShardsMs,
    cpu: cpuUse(samples, loadStart),
  };
  if (withListing) {
    const stats = await http.json<{ updates: number; lists: number }[]>("GET", "/__bench/directory");
    result.directory = { updates: stats.map((s) => s.updates), lists: stats.map((s) => s.lists) };
    result.listAt2k = await firstPages(http);
  }
  stop.now = true;
  if (withListing) {
    // Offsets-only groups (one commit each) bring the directory to FILL_TO groups.
    let next = result.joined;
    const filler = async () => {
      while (next < FILL_TO) {
        const groupId = `fill-${String(next++).padStart(5, "0")}`;
        await http.json("POST", `/v1/groups/${groupId}/offsets`, {
          offsets: [{ topic: "orders", partition: 0, offset: 1 }],
        });
      }
    };
    await Promise.all(Array.from({ length: 32 }, filler));
    await sleep(2000);
    result.listAt10k = await firstPages(http);
  }
  await Promise.all(beating);
  http.close();
  return result;
}

/** Latencies of the first page (limit 1000, the default), one at a time. */
async function firstPages(http: Http): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < LIST_SAMPLES; i++) {
    const t0 = performance.now();
    const page = await http.json<{ groups: unknown[] }>("GET", "/v1/groups");
    out.push(performance.now() - t0);
    if (page.groups.length === 0) throw new Error("the first page is empty");
  }
  return out.slice(5); // the first requests warm the shards up
}

export async function manyGroupsFigures(bench: Bench): Promise<void> {
  const { report } = bench;
  const vars = { CONSUMER_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS) };
  const on = await startCoordinator(vars);
  let withDirectory: RampResult;
  try {
    withDirectory = await ramp(on, true);
  } finally {
    await on.dispose();
  }
  const off = await startCoordinator({ ...vars, COHORT_BENCH_NO_DIRECTORY: "1" });
  let without: RampResult;
  try {
    without = await ramp(off, false);
  } finally {
    await off.dispose();
  }
  report.raw.manyGroups = { withDirectory, without };
  const figure = `8 many groups, ${withDirectory.joined.toLocaleString("en-US")} × 2 members`;
  for (const [label, r] of [
    ["", withDirectory],
    [", directory off", without],
  ] as const) {
    const p50first = percentile(r.first, 0.5);
    const p50last = percentile(r.last, 0.5);
    report.add({
      figure,
      metric: `join p50 / p99, first ${EDGE} groups${label}`,
      value: p50first,
      unit: "ms",
      note: `p99 ${percentile(r.first, 0.99).toFixed(1)} ms`,
    });
    report.add({
      figure,
      metric: `join p50 / p99, last ${EDGE} groups${label}`,
      value: p50last,
      unit: "ms",
      target: "p50 ≤ 1.5× the first 100's",
      met: r.joined === GROUPS && p50last <= 1.5 * p50first,
      note: `p99 ${percentile(r.last, 0.99).toFixed(1)} ms; ×${(p50last / p50first).toFixed(2)} the first; ${r.joined} groups in ${r.seconds.toFixed(0)} s, ${r.heartbeats} heartbeats (${r.heartbeatErrors} errors)`,
    });
    const c = r.cpu;
    report.add({
      figure,
      metric: `workerd CPU over the ramp${label}`,
      value: c.workerd,
      unit: "cores",
      note: `busiest 10 s ${c.workerdPeak10s.toFixed(2)}; ${c.msPerRequestFirst10s.toFixed(2)} → ${c.msPerRequestLast10s.toFixed(2)} ms per request (first → last 10 s); bench client ${c.client.toFixed(2)} cores; load ${c.loadStart.toFixed(1)} → ${c.loadEnd.toFixed(1)} (2 cores); shards warmed in ${r.warmShardsMs.toFixed(0)} ms before the ramp`,
    });
  }
  const dir = withDirectory.directory!;
  const perShard = dir.updates.map((u) => u / withDirectory.seconds);
  report.add({
    figure,
    metric: "directory updates/s per shard (max)",
    value: Math.max(...perShard),
    unit: "req/s",
    note: `mean ${(perShard.reduce((a, b) => a + b, 0) / perShard.length).toFixed(2)}/s over ${perShard.length} shards; ${dir.updates.reduce((a, b) => a + b, 0)} updates for ${withDirectory.joined} groups`,
  });
  for (const [at, samples] of [
    ["2,000", withDirectory.listAt2k!],
    ["10,000", withDirectory.listAt10k!],
  ] as const) {
    const p50 = percentile(samples, 0.5);
    report.add({
      figure,
      metric: `GET /v1/groups first page p50 at ${at} groups`,
      value: p50,
      unit: "ms",
      target: "≤ 50 ms",
      met: p50 <= 50,
      note: `p99 ${percentile(samples, 0.99).toFixed(1)} ms (1,000 groups, ${samples.length} samples)`,
    });
  }
}
