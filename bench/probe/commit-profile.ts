/**
 * A CPU profile of the single-partition simple commit (or, FLOOR=1, of the floor with one write) at
 * c=64: workerd's V8 inspector, Profiler at 100 µs sampling around a 4 s closed loop, self time per
 * function per request. `INSPECT_PORT=9911 npx tsx bench/probe/commit-profile.ts`. On a shared
 * machine sampled time is wall time: compare proportions, not absolute µs.
 */
import { closedLoop, Http } from "../harness/load";
import { startCoordinator, startWorker } from "../harness/workerd";

const FLOOR = process.env.FLOOR === "1";
if (!process.env.INSPECT_PORT) throw new Error("set INSPECT_PORT");
const w = FLOOR
  ? await startWorker({ config: "bench/floor/wrangler.toml", inspect: true })
  : await startCoordinator({}, true);
const http = new Http(w.url);
const body = (n: number) => ({
  n,
  offsets: [{ topic: "orders", partition: n % 64, offset: n, logEndOffset: n + 10 }],
});
const path = FLOOR ? "/v1/groups/prof/floor/write" : "/v1/groups/prof/offsets";
await closedLoop({
  concurrency: 64,
  durationMs: 1000,
  send: (n) => http.json("POST", path, body(n)).then(() => undefined),
});
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
const run = await closedLoop({
  concurrency: 64,
  durationMs: 4000,
  send: (n) => http.json("POST", path, body(n)).then(() => undefined),
});
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
