/**
 * A V8 CPU profile of a workerd isolate around one measured closed loop, through its inspector: the
 * Profiler at 100 µs sampling, self time per function per request printed (top 45), busy against idle.
 * For the probes of bench/probe (commit-profile.ts, share-profile.ts). On a shared machine sampled time
 * is wall time: compare proportions, not absolute µs.
 */

/** Profiles `measure` on the isolate behind inspector `port`; `poke` keeps the isolate awake in pauses. */
export async function profileAround(
  port: number,
  poke: () => void,
  measure: () => Promise<{ sent: number; perSecond: number }>,
): Promise<void> {
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
  const poking = setInterval(poke, 50);
  await call("Runtime.enable");
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 100 });
  await call("Profiler.start");
  clearInterval(poking);
  const run = await measure();
  const poking2 = setInterval(poke, 50);
  const { profile } = await call("Profiler.stop");
  clearInterval(poking2);
  ws.close();
  const byId = new Map<number, any>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const self = new Map<number, number>();
  const dt: number[] = profile.timeDeltas;
  for (const [i, s] of (profile.samples as number[]).entries())
    self.set(s, (self.get(s) ?? 0) + (dt[i] ?? 0));
  const agg = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [nid, us] of self) {
    const cf = byId.get(nid).callFrame;
    const key = `${cf.functionName || "(anon)"} ${cf.url.split("/").pop()}:${cf.lineNumber}`;
    if (cf.functionName === "(idle)" || cf.functionName === "(program)") idle += us;
    else total += us;
    agg.set(key, (agg.get(key) ?? 0) + us);
  }
  const perRequest = (us: number) => (us / run.sent).toFixed(1);
  console.log(
    `requests ${run.sent} busy us/request ${perRequest(total)} idle+program us/req ${perRequest(idle)} req/s ${Math.round(run.perSecond)}`,
  );
  for (const [k, us] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 45)))
    console.log((us / run.sent).toFixed(2).padStart(7), k);
}
