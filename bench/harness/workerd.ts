/**
 * Starts a Worker on workerd for the benchmarks: bundles its entry with esbuild (as wrangler would) and
 * runs it under Miniflare with the Durable Object bindings, vars and compatibility date of its wrangler
 * config, on a loopback port. One Miniflare instance is one workerd process, so its RSS can be read.
 */
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

export interface RunningWorker {
  url: string;
  /** Resident set size of this worker's workerd process, in bytes. */
  rss(): number;
  /** CPU time (user + system, all threads) this worker's workerd process has used, in ms. */
  cpuMs(): number;
  /**
   * V8 heap in use after a forced full GC (inspector `HeapProfiler.collectGarbage`, then
   * `Runtime.getHeapUsage`), in bytes; only for workers started with `inspect: true`.
   */
  heapAfterGc(): Promise<number>;
  dispose(): Promise<void>;
}

export interface WorkerSpec {
  /** The wrangler config whose bindings, vars and compatibility settings are used. */
  config: string;
  /** The module to bundle (defaults to the config's `main`). */
  entry?: string;
  /** Vars overridden for this run (e.g. AUTH_MODE=none). */
  vars?: Record<string, string>;
  /** Opens workerd's V8 inspector on a loopback port, for `heapAfterGc()`. */
  inspect?: boolean;
}

async function bundle(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    logLevel: "error",
  });
  return out.outputFiles[0]!.text;
}

/** Every running workerd process, from /proc: its pid, parent and process group. */
export function workerdProcesses(): { pid: number; ppid: number; pgid: number }[] {
  const out: { pid: number; ppid: number; pgid: number }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      if (!stat.slice(stat.indexOf("(") + 1, close).startsWith("workerd")) continue;
      const [, ppid, pgid] = stat.slice(close + 2).split(" ");
      out.push({ pid: Number(name), ppid: Number(ppid), pgid: Number(pgid) });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** The workerd processes that are children of this Node process (Miniflare spawns workerd directly). */
function workerdChildren(): Set<number> {
  return new Set(
    workerdProcesses()
      .filter((p) => p.ppid === process.pid)
      .map((p) => p.pid),
  );
}

/** CPU time (user + system) a process has used, in ms, from /proc (clock ticks of 10 ms). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : Number.NaN;
}

export async function startWorker(spec: WorkerSpec): Promise<RunningWorker> {
  const configPath = resolve(spec.config);
  const { workerOptions: configured, main } = unstable_getMiniflareWorkerOptions(configPath);
  // Without Workers Static Assets (the console's CSS and script, the API reference): locally they put
  // miniflare's asset router in front of every request, a hop that halved the share figures here, while
  // on Cloudflare the /v1 routes run the Worker first (`run_worker_first` in wrangler.toml). The floor
  // Worker has none either, so both sides of each ratio take the same path.
  const { assets: _assets, ...workerOptions } = configured as typeof configured & { assets?: unknown };
  const entry = resolve(spec.entry ?? main ?? "");
  const script = await bundle(entry);
  const before = workerdChildren();
  const inspectorPort = spec.inspect
    ? Number(process.env.INSPECT_PORT) || 9300 + Math.floor(Math.random() * 600)
    : undefined;
  const bindings = { ...(workerOptions.bindings ?? {}), ...(spec.vars ?? {}) };
  // No persistence path: storage lives in a temporary directory that dispose() removes.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      ...workerOptions,
      bindings,
      ...(inspectorPort ? { inspectorPort } : {}),
      modules: [{ type: "ESModule", path: entry, contents: script }],
    } as Parameters<typeof convertV4MiniflareOptions>[0]),
  );
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const pid = [...workerdChildren()].find((p) => !before.has(p));
  return {
    url,
    rss: () => (pid === undefined ? Number.NaN : rssOf(pid)),
    cpuMs: () => (pid === undefined ? Number.NaN : cpuMsOf(pid)),
    heapAfterGc: () => (inspectorPort ? heapAfterGc(inspectorPort, url) : Promise.resolve(Number.NaN)),
    dispose: () => mf.dispose(),
  };
}

/** Forces a full GC in the worker's isolate through the V8 inspector and returns the heap still used. */
async function heapAfterGc(port: number, workerUrl: string): Promise<number> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  // The user worker (and its Durable Objects) is the isolate named "core:user:".
  const url = targets.find((t) => t.webSocketDebuggerUrl.endsWith("/core:user:"))?.webSocketDebuggerUrl;
  if (!url) throw new Error("no inspector target");
  const ws = new WebSocket(url);
  await new Promise((ok, fail) => {
    ws.addEventListener("open", ok);
    ws.addEventListener("error", fail);
  });
  let id = 0;
  const call = (method: string) =>
    new Promise<Record<string, unknown>>((ok) => {
      const mine = ++id;
      ws.addEventListener("message", function listen(ev) {
        const msg = JSON.parse(String(ev.data)) as { id?: number; result?: Record<string, unknown> };
        if (msg.id !== mine) return;
        ws.removeEventListener("message", listen);
        ok(msg.result ?? {});
      });
      ws.send(JSON.stringify({ id: mine, method }));
    });
  // workerd runs inspector commands only when the isolate next takes its lock: requests wake it.
  const poke = setInterval(() => {
    fetch(`${workerUrl}/`)
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
  }, 100);
  try {
    // workerd's inspector answers nothing before Runtime.enable.
    await call("Runtime.enable");
    await call("HeapProfiler.enable");
    await call("HeapProfiler.collectGarbage");
    await call("HeapProfiler.collectGarbage");
    return (await call("Runtime.getHeapUsage")).usedSize as number;
  } finally {
    clearInterval(poke);
    ws.close();
  }
}

/** The coordinator's settings for the run: no auth (loopback only), no initial rebalance delay. */
export const COORDINATOR_VARS = { AUTH_MODE: "none", GROUP_INITIAL_REBALANCE_DELAY_MS: "0" };

/** The production Worker plus the bench-only stats route, with COORDINATOR_VARS and `vars` set. */
export const startCoordinator = (
  vars: Record<string, string> = {},
  inspect = false,
): Promise<RunningWorker> =>
  startWorker({
    config: "wrangler.toml",
    entry: "bench/harness/coordinator-entry.ts",
    vars: { ...COORDINATOR_VARS, ...vars },
    inspect,
  });
