/**
 * A CPU profile of the unbatched share acquire (16 consumers, 1 record a call, the previous accept
 * piggybacked; COHORT_BENCH_SHARE_COMMIT as given, default the group commit) or, FLOOR=1, of the read
 * floor at the same concurrency: workerd's V8 inspector, Profiler at 100 µs sampling around a 4 s
 * closed loop, self time per function per request.
 * `INSPECT_PORT=9912 npx tsx bench/probe/share-profile.ts`. On a shared machine sampled time is wall
 * time: compare proportions, not absolute µs.
 */
import { acceptHeld, acquireOnce, joinMembers, SHARE_VARS } from "../figures/share";
import { closedLoop, Http } from "../harness/load";
import { startCoordinator, startWorker } from "../harness/workerd";

const FLOOR = process.env.FLOOR === "1";
if (!process.env.INSPECT_PORT) throw new Error("set INSPECT_PORT");
const w = FLOOR
  ? await startWorker({ config: "bench/floor/wrangler.toml", inspect: true })
  : await startCoordinator(
      {
        ...SHARE_VARS,
        COHORT_BENCH_SHARE_COMMIT: process.env.COHORT_BENCH_SHARE_COMMIT ?? "group",
        // Locks outlast the profile's pauses (the inspector's round trips between the loops).
        SHARE_RECORD_LOCK_DURATION_MS: "60000",
      },
      true,
    );
const http = new Http(w.url, 32);
const members = FLOOR ? [] : await joinMembers(http, "prof", 16, 16);
const send = FLOOR
  ? () => http.json("POST", "/v1/groups/prof/floor", { memberId: "m", maxRecords: 1 }).then(() => undefined)
  : (_n: number, caller: number) => acquireOnce(http, "prof", members[caller]!, 1).then(() => undefined);
const path = FLOOR ? "/v1/groups/prof/floor" : "/v1/groups/prof/share/heartbeat";
const body = (_n: number) => (FLOOR ? {} : { memberId: "prof-m0", memberEpoch: 1 });
await closedLoop({ concurrency: 16, durationMs: 1000, send });
const port = Number(process.env.INSPECT_PORT);
const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as {
  webSocketDebuggerUrl: string;
}[];
const url = targets.find((t) => t.webSocketDebuggerUrl.endsWith("/core:user:"))!.webSocketDebuggerUrl;
const ws = new WebSocket(url);
await new Promise((ok) => ws.addEventListener("open", ok));
let id = 0;
const call = (method: string, params: object = {}) =>
  new Promise<any>((ok) => {
    const mine = ++id;
    ws.addEventListener("message", function l(ev) {
      const m = JSON.parse(String(ev.data));
      if (m.id !== mine) return;
      ws.removeEventListener("message", l);
      ok(m.result ?? {});
    });
    ws.send(JSON.stringify({ id: mine, method, params }));
  });
const poke = setInterval(() => http.json("POST", path, body(1)).catch(() => {}), 50);
await call("Runtime.enable");
await call("Profiler.enable");
await call("Profiler.setSamplingInterval", { interval: 100 });
await call("Profiler.start");
clearInterval(poke);
const run = await closedLoop({ concurrency: 16, durationMs: 4000, send });
if (!FLOOR) await acceptHeld(http, "prof", members);
const poke2 = setInterval(() => http.json("POST", path, body(1)).catch(() => {}), 50);
const { profile } = await call("Profiler.stop");
clearInterval(poke2);
const byId = new Map<number, any>();
for (const n of profile.nodes) byId.set(n.id, n);
const self = new Map<number, number>();
const dt: number[] = profile.timeDeltas;
for (const [i, s] of (profile.samples as number[]).entries()) self.set(s, (self.get(s) ?? 0) + (dt[i] ?? 0));
const agg = new Map<string, number>();
let total = 0,
  idle = 0;
for (const [nid, us] of self) {
  const n = byId.get(nid);
  const cf = n.callFrame;
  const key = `${cf.functionName || "(anon)"} ${cf.url.split("/").pop()}:${cf.lineNumber}`;
  if (cf.functionName === "(idle)" || cf.functionName === "(program)") idle += us;
  else total += us;
  agg.set(key, (agg.get(key) ?? 0) + us);
}
console.log(
  "requests",
  run.sent,
  "busy us/request",
  (total / run.sent).toFixed(1),
  "idle+program us/req",
  (idle / run.sent).toFixed(1),
  "req/s",
  Math.round(run.perSecond),
);
for (const [k, us] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 45))
  console.log((us / run.sent).toFixed(2).padStart(7), k);
ws.close();
http.close();
await w.dispose();
