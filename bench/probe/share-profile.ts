/**
 * A CPU profile of the unbatched share acquire (16 consumers, 1 record a call, the previous accept
 * piggybacked) or, FLOOR=1, of the read
 * floor at the same concurrency: workerd's V8 inspector, Profiler at 100 µs sampling around a 4 s
 * closed loop, self time per function per request.
 * `INSPECT_PORT=9912 npx tsx bench/probe/share-profile.ts`. On a shared machine sampled time is wall
 * time: compare proportions, not absolute µs.
 */
import { acceptHeld, acquireOnce, joinMembers, SHARE_VARS } from "../figures/share";
import { profileAround } from "../harness/cpu-profile";
import { closedLoop, Http } from "../harness/load";
import { startCoordinator, startWorker } from "../harness/workerd";

/** FLOOR=1: the read floor; FLOOR=write: the floor with one write. */
const FLOOR = process.env.FLOOR === "1" || process.env.FLOOR === "write";
const floorPath = process.env.FLOOR === "write" ? "/v1/groups/prof/floor/write" : "/v1/groups/prof/floor";
if (!process.env.INSPECT_PORT) throw new Error("set INSPECT_PORT");
const w = FLOOR
  ? await startWorker({ config: "bench/floor/wrangler.toml", inspect: true })
  : await startCoordinator(
      {
        ...SHARE_VARS,
        // Locks outlast the profile's pauses (the inspector's round trips between the loops).
        SHARE_RECORD_LOCK_DURATION_MS: "60000",
      },
      true,
    );
const http = new Http(w.url, 32);
const members = FLOOR ? [] : await joinMembers(http, "prof", 16, 16);
const send = FLOOR
  ? (n: number) => http.json("POST", floorPath, { memberId: "m", maxRecords: 1, n }).then(() => undefined)
  : (_n: number, caller: number) => acquireOnce(http, "prof", members[caller]!, 1).then(() => undefined);
const path = FLOOR ? floorPath : "/v1/groups/prof/share/heartbeat";
const body = (_n: number) => (FLOOR ? {} : { memberId: "prof-m0", memberEpoch: 1 });
await closedLoop({ concurrency: 16, durationMs: 1000, send });
await profileAround(
  Number(process.env.INSPECT_PORT),
  () => void http.json("POST", path, body(1)).catch(() => {}),
  async () => {
    const run = await closedLoop({ concurrency: 16, durationMs: 4000, send });
    if (!FLOOR) await acceptHeld(http, "prof", members);
    return run;
  },
);
http.close();
await w.dispose();
