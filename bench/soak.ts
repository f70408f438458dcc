/**
 * `npm run soak`: a bounded reliability run on loopback. It starts `wrangler dev` persisting to a temp
 * directory, measures the runtime's own ceiling (GET /health, closed loop), then drives one consumer
 * group of SOAK_MEMBERS well-behaved KIP-848 members heartbeating at 1 Hz: steady for SOAK_STEADY_S,
 * churn (5% die silently and as many join every 2 s) for SOAK_CHURN_S, then SOAK_KILLS SIGKILLs of the
 * whole runtime with a restart on the same state while offset writers commit. It prints (and writes to
 * bench/results/soak-latest.json) requests/s and its ratio to the /health ceiling, p50/p99, errors by
 * code, convergence times, acknowledged commits lost, recovery time per kill, and workerd's RSS.
 * Every loop is bounded in count and time; the run stops by itself (~3–4 minutes with the defaults).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { closedLoop, Http, sleep } from "./harness/load";
import { SoakMember } from "./soak/member";
import { Recorder, round } from "./soak/recorder";
import { freePort, LocalRuntime } from "./soak/runtime";
import { Writers } from "./soak/writers";

const int = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
};
const CONFIG = {
  members: int("SOAK_MEMBERS", 300),
  partitions: int("SOAK_PARTITIONS", 1200),
  steadyS: int("SOAK_STEADY_S", 60),
  churnS: int("SOAK_CHURN_S", 20),
  churnEveryMs: 2000,
  churnFraction: 0.05,
  kills: int("SOAK_KILLS", 2),
  writers: int("SOAK_WRITERS", 8),
  sessionMs: int("SOAK_SESSION_MS", 10_000),
  heartbeatMs: 1000,
  convergeTimeoutMs: 60_000,
};
const GROUP = "soak";
const TOPIC = { name: "soak", partitions: CONFIG.partitions };

const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);

async function main(): Promise<void> {
  const persist = mkdtempSync(join(tmpdir(), "cohort-soak-"));
  const runtime = new LocalRuntime(await freePort(), persist, {
    AUTH_MODE: "none",
    CONSUMER_HEARTBEAT_INTERVAL_MS: String(CONFIG.heartbeatMs),
    CONSUMER_SESSION_TIMEOUT_MS: String(CONFIG.sessionMs),
  });
  active = runtime;
  const report: Record<string, unknown> = {
    config: CONFIG,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    loadavgAtStart: loadavg(),
  };
  const rss: { phase: string; processes: { role: string; mb: number }[] }[] = [];
  const sampleRss = (phase: string) =>
    rss.push({
      phase,
      processes: runtime.workerd().map((p) => ({ role: p.role, mb: round(p.rss / 2 ** 20) })),
    });
  const loads: number[] = [];
  const loadTimer = setInterval(() => loads.push(loadavg()[0]!), 5000);
  const members: SoakMember[] = [];
  let http: Http | null = null;
  try {
    report.startMs = round(await runtime.start());
    sampleRss("started");
    http = new Http(runtime.url, 1024);

    // The runtime's own ceiling on this machine, now: the same loopback path with no cohort work.
    const health = new Http(runtime.url, 32);
    const ceiling = await closedLoop({
      concurrency: 32,
      durationMs: 5000,
      warmupMs: 500,
      send: async () => {
        await health.call("GET", "/health");
      },
    });
    health.close();
    report.healthCeiling = {
      perSecond: round(ceiling.perSecond),
      p50Ms: round(ceiling.p50Ms, 1),
      p99Ms: round(ceiling.p99Ms, 1),
    };
    log(`/health ceiling: ${round(ceiling.perSecond)} req/s`);

    const recorder = new Recorder();
    const live = () => members.filter((m) => m.alive);
    let nextId = 0;
    const spawnMember = (delayMs: number) => {
      const m = new SoakMember(http!, GROUP, `soak-${nextId++}`, TOPIC, recorder, CONFIG.sessionMs);
      members.push(m);
      m.start(delayMs);
    };
    const doubleOwned = { samples: 0, violations: 0, byPhase: {} as Record<string, number> };
    // Only members certainly still in the group count: a member whose session may have expired is a
    // zombie whose view is stale by Kafka's rules (its partitions may already be someone else's).
    const checkDisjoint = () => {
      const seen = new Set<number>();
      let dup = 0;
      const now = performance.now();
      const holder = new Map<number, SoakMember>();
      for (const m of live().filter((x) => x.inSession(now)))
        for (const tp of m.owned)
          for (const p of tp.partitions) {
            const other = holder.get(p);
            if (!other) {
              holder.set(p, m);
              seen.add(p);
              continue;
            }
            if (dup++ === 0)
              recorder.note(
                `partition ${p} told to ${other.memberId} (epoch ${other.epoch}, last answered heartbeat sent ${round(now - other.lastOkSentAt)} ms ago) and ${m.memberId} (epoch ${m.epoch}, ${round(now - m.lastOkSentAt)} ms ago)`,
              );
          }
      doubleOwned.samples++;
      if (dup > 0) {
        doubleOwned.violations++;
        doubleOwned.byPhase[recorder.phaseName] = (doubleOwned.byPhase[recorder.phaseName] ?? 0) + 1;
      }
      return seen.size;
    };
    const disjointTimer = setInterval(checkDisjoint, 500);

    /** Members' own views balanced and complete, and the coordinator says Stable with exactly them. */
    const converged = async (): Promise<boolean> => {
      const alive = live();
      const counts = alive.map((m) => m.ownedCount);
      if (checkDisjoint() !== CONFIG.partitions || Math.max(...counts) - Math.min(...counts) > 1)
        return false;
      const d = await http!.call("GET", `/v1/groups/${GROUP}`);
      if (d.status !== 200) return false;
      const body = JSON.parse(d.body) as { state: string; members: unknown[] };
      return body.state === "Stable" && body.members.length === alive.length;
    };
    const waitConverged = async (from: number): Promise<number | null> => {
      while (performance.now() - from < CONFIG.convergeTimeoutMs) {
        try {
          if (await converged()) return round(performance.now() - from);
        } catch {
          // The runtime is restarting.
        }
        await sleep(250);
      }
      return null;
    };

    // Join: every member within one heartbeat interval.
    recorder.phase("join");
    const joinStart = performance.now();
    for (let i = 0; i < CONFIG.members; i++) spawnMember((i / CONFIG.members) * CONFIG.heartbeatMs);
    report.joinConvergeMs = await waitConverged(joinStart);
    log(`joined ${CONFIG.members}: converged in ${report.joinConvergeMs} ms`);

    recorder.phase("steady");
    for (let s = 0; s < CONFIG.steadyS; s += 5) {
      await sleep(Math.min(5, CONFIG.steadyS - s) * 1000);
      if (s % 20 === 0) sampleRss(`steady ${s}s`);
    }
    sampleRss("steady end");
    log("steady done");

    recorder.phase("churn");
    const steps = Math.floor((CONFIG.churnS * 1000) / CONFIG.churnEveryMs);
    const perStep = Math.max(1, Math.round(CONFIG.members * CONFIG.churnFraction));
    let died = 0;
    for (let step = 0; step < steps; step++) {
      const alive = live();
      for (let k = 0; k < perStep; k++) alive.splice(Math.floor(Math.random() * alive.length), 1)[0]?.die();
      for (let k = 0; k < perStep; k++) spawnMember(Math.random() * 200);
      died += perStep;
      await sleep(CONFIG.churnEveryMs);
    }
    const churnEnd = performance.now();
    recorder.phase("after churn");
    report.churn = { steps, diedPerStep: perStep, died, joined: died };
    report.churnConvergeMs = await waitConverged(churnEnd);
    sampleRss("after churn");
    log(`churn: ${died} died, ${died} joined; converged ${report.churnConvergeMs} ms after the last step`);

    // Kills: writers commit throughout; each kill is SIGKILL of wrangler and workerd, then a restart.
    recorder.phase("kills");
    const writers = new Writers(http, "soak-writers", "w", CONFIG.writers);
    writers.start();
    const kills: Record<string, unknown>[] = [];
    for (let k = 0; k < CONFIG.kills; k++) {
      await sleep(5000);
      const ackedBefore = [...writers.acked];
      const rssBefore = runtime.workerd();
      const t0 = performance.now();
      await runtime.kill();
      // Any acknowledgement from here on came from the restarted runtime.
      const killed = performance.now();
      const restartMs = await runtime.start();
      let firstAck: number | null = null;
      while (firstAck === null && performance.now() - t0 < 30_000) {
        firstAck = writers.firstAckAfter(killed);
        if (firstAck === null) await sleep(20);
      }
      // Every commit acknowledged so far (before the kill included) must be there after the restart.
      const check = await writers.lost();
      const converge = await waitConverged(t0);
      kills.push({
        kill: k + 1,
        rssBeforeMb: rssBefore.map((p) => ({ role: p.role, mb: round(p.rss / 2 ** 20) })),
        restartToHealthMs: round(restartMs),
        killToFirstCommitMs: firstAck === null ? null : round(firstAck - t0),
        killToConvergedMs: converge,
        ackedBeforeKill: ackedBefore.reduce((a, b) => a + b, 0),
        acknowledgedLost: check.lost,
      });
      sampleRss(`after kill ${k + 1}`);
      log(
        `kill ${k + 1}: health after ${round(restartMs)} ms, first commit after ${firstAck === null ? "—" : round(firstAck - t0)} ms, lost ${check.lost}`,
      );
    }
    await sleep(2000);
    await writers.stop();
    const final = await writers.lost();
    report.kills = kills;
    report.writers = {
      commitsAcknowledged: writers.commits,
      acknowledgedLost: final.lost,
      lostPartitions: final.partitions,
      errors: Object.fromEntries(writers.errors),
      unanswered: writers.unanswered,
    };
    recorder.end();
    clearInterval(disjointTimer);
    report.phases = recorder.summaries();
    const steady = recorder.summaries().find((p) => p.phase === "steady")!;
    report.steadyRatioToHealth = round(steady.perSecond / ceiling.perSecond, 3);
    report.offeredPerSecond = round((CONFIG.members * 1000) / CONFIG.heartbeatMs);
    report.doubleOwnedSamples = doubleOwned;
    report.notes = recorder.notes;
  } finally {
    clearInterval(loadTimer);
    for (const m of members) m.die();
    http?.close();
    sampleRss("end");
    await runtime.stop();
    rmSync(persist, { recursive: true, force: true });
  }
  report.rss = rss;
  report.loadavg = { start: report.loadavgAtStart, samples: loads, end: loadavg() };
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/soak-latest.json", `${JSON.stringify(report, null, 2)}\n`);
  printReport(report);
}

function printReport(r: Record<string, any>): void {
  const lines = [
    `machine: ${r.machine.cpus} × ${r.machine.model}; load average ${r.loadavg.start.join(" ")} → ${r.loadavg.end.join(" ")}`,
    `/health ceiling: ${r.healthCeiling.perSecond} req/s (p50 ${r.healthCeiling.p50Ms} ms, p99 ${r.healthCeiling.p99Ms} ms)`,
    `members: ${r.config.members} at 1 Hz (offered ${r.offeredPerSecond} req/s); steady ratio to /health: ${r.steadyRatioToHealth}`,
    "phase         s      req   req/s   p50 ms  p99 ms  max ms  errors  unreachable",
    ...r.phases.map(
      (p: any) =>
        `${p.phase.padEnd(12)} ${String(p.seconds).padStart(5)} ${String(p.requests).padStart(7)} ${String(p.perSecond).padStart(7)} ${String(p.p50Ms).padStart(8)} ${String(p.p99Ms).padStart(7)} ${String(p.maxMs).padStart(7)}  ${JSON.stringify(p.errors)}  ${JSON.stringify(p.unreachable)}`,
    ),
    `converged after join: ${r.joinConvergeMs} ms; after churn: ${r.churnConvergeMs} ms (sessions ${r.config.sessionMs} ms)`,
    ...r.kills.map(
      (k: any) =>
        `kill ${k.kill}: /health back ${k.restartToHealthMs} ms, first commit ${k.killToFirstCommitMs} ms, group converged ${k.killToConvergedMs} ms, acknowledged commits lost ${k.acknowledgedLost}`,
    ),
    `writers: ${r.writers.commitsAcknowledged} commits acknowledged, ${r.writers.acknowledgedLost} lost; errors ${JSON.stringify(r.writers.errors)}; unanswered ${r.writers.unanswered}`,
    `partition told to two members both certainly in the group: ${r.doubleOwnedSamples.violations} of ${r.doubleOwnedSamples.samples} samples ${JSON.stringify(r.doubleOwnedSamples.byPhase)}`,
    `workerd RSS (MB): ${r.rss.map((s: any) => `${s.phase}: ${s.processes.map((p: any) => `${p.role} ${p.mb}`).join(", ")}`).join("; ")}`,
  ];
  console.log(lines.join("\n"));
  if (r.notes?.length) console.log(`notes:\n${r.notes.map((n: string) => `  ${n}`).join("\n")}`);
}

const log = (message: string) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${message}`);

// A hard bound on the whole run, whatever happens; the runtime never outlives the run.
let active: LocalRuntime | null = null;
const abort = (why: string) => {
  console.error(`soak: ${why}; aborting`);
  active?.killNow();
  process.exit(2);
};
const guard = setTimeout(() => abort("exceeded 8 minutes"), 8 * 60_000);
process.on("SIGINT", () => abort("interrupted"));
process.on("SIGTERM", () => abort("terminated"));
guard.unref();

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
