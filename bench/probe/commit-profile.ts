/**
 * A CPU profile of the single-partition simple commit (or, FLOOR=1, of the floor with one write) at
 * c=64: workerd's V8 inspector, Profiler at 100 µs sampling around a 4 s closed loop, self time per
 * function per request. `INSPECT_PORT=9911 npx tsx bench/probe/commit-profile.ts`. On a shared
 * machine sampled time is wall time: compare proportions, not absolute µs.
 */
import { profileAround } from "../harness/cpu-profile";
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
await profileAround(
  Number(process.env.INSPECT_PORT),
  () => void http.json("POST", path, body(1)).catch(() => {}),
  () =>
    closedLoop({
      concurrency: 64,
      durationMs: 4000,
      send: (n) => http.json("POST", path, body(n)).then(() => undefined),
    }),
);
http.close();
await w.dispose();
