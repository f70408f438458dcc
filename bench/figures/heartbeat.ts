/**
 * Figure 3 and the heartbeat half of figure 5: consumer-protocol heartbeats in a steady group (16
 * members × 900 partitions, every partition owned, group Stable), over HTTP and over the watch
 * WebSocket, each caller one member in a closed loop; against the floor's HTTP route and WebSocket.
 * A steady heartbeat carries only the member id and epoch, as a client sends when nothing changed.
 */

import { ConsumerMember } from "../harness/consumer-member";
import { costPerMillion } from "../harness/cost";
import { closedLoop, type LoadResult, pairedRatio, sleep, summarize } from "../harness/load";
import { type Bench, statsOf } from "../harness/report";

const MEMBERS = 16;
const PARTITIONS = 900;

/** A closed-loop caller per socket: send, wait for the reply, repeat. */
function socketCaller(send: (message: string) => void, listen: (h: (data: string) => void) => void) {
  let waiting: (() => void) | null = null;
  listen(() => {
    const w = waiting;
    waiting = null;
    w?.();
  });
  return (message: string) =>
    new Promise<void>((resolve) => {
      waiting = resolve;
      send(message);
    });
}

async function floorSockets(bench: Bench, groupId: string): Promise<((m: string) => Promise<void>)[]> {
  const url = `${bench.floor.url.replace(/^http/, "ws")}/v1/groups/${groupId}/floor/watch`;
  return Promise.all(
    Array.from({ length: MEMBERS }, async () => {
      const ws = new WebSocket(url);
      await new Promise<void>((resolve) => ws.addEventListener("open", () => resolve()));
      return socketCaller(
        (m) => ws.send(m),
        (h) => ws.addEventListener("message", (e) => h(String(e.data))),
      );
    }),
  );
}

export async function heartbeatFigures(bench: Bench): Promise<void> {
  const { report } = bench;
  const groupId = "bench-steady";
  const members = Array.from(
    { length: MEMBERS },
    (_, i) =>
      new ConsumerMember(
        bench.coordinator.http,
        groupId,
        `steady-${i}`,
        { topic: "steady", partitions: PARTITIONS },
        () => undefined,
      ),
  );
  await Promise.all(members.map((m) => m.join(bench.coordinator.url)));
  // Let reconciliation finish (pushes are acknowledged at once) until the group is Stable and every
  // member has seen its last push (a push may still be in flight when describe says Stable).
  let state = "";
  for (let i = 0; i < 100; i++) {
    const d = await bench.coordinator.http.json<{ state: string; members: { memberEpoch: number }[] }>(
      "GET",
      `/v1/groups/${groupId}`,
    );
    state = d.state;
    const epoch = d.members[0]?.memberEpoch;
    if (state === "Stable" && members.every((m) => m.epoch === epoch)) break;
    await sleep(50);
  }
  if (state !== "Stable") throw new Error(`steady group is ${state}`);
  for (const m of members) m.pause();

  const cohortWs = members.map((m) =>
    socketCaller(
      (msg) => m.sendOnSocket(msg),
      (h) => m.onSocketMessage(h),
    ),
  );
  const floorWs = await floorSockets(bench, groupId);
  const runs: Record<string, LoadResult[]> = { http: [], floorHttp: [], ws: [], floorWs: [] };
  const body = (i: number) => members[i]!.steadyBody();
  const loop = (send: (n: number, caller: number) => Promise<void>) =>
    closedLoop({ concurrency: MEMBERS, durationMs: bench.durationMs, send });
  const rows0 = (await statsOf(bench, groupId)).rowsWritten;
  let sent = 0;
  for (let round = 0; round < bench.rounds; round++) {
    runs.floorHttp!.push(
      await loop((_, c) =>
        bench.floor.http.json("POST", `/v1/groups/${groupId}/floor`, body(c)).then(() => undefined),
      ),
    );
    const http = await loop((_, c) =>
      bench.coordinator.http.json("POST", `/v1/groups/${groupId}/heartbeat`, body(c)).then(() => undefined),
    );
    runs.http!.push(http);
    runs.floorWs!.push(await loop((_, c) => floorWs[c]!(JSON.stringify({ type: "heartbeat", ...body(c) }))));
    const ws = await loop((_, c) => cohortWs[c]!(JSON.stringify({ type: "heartbeat", ...body(c) })));
    runs.ws!.push(ws);
    sent += http.sent + ws.sent;
  }
  const rowsPerBeat = ((await statsOf(bench, groupId)).rowsWritten - rows0) / sent;
  const stillStable = (await bench.coordinator.http.json<{ state: string }>("GET", `/v1/groups/${groupId}`))
    .state;
  await Promise.all(members.map((m) => m.stop(true)));

  for (const [via, floorKey] of [
    ["http", "floorHttp"],
    ["ws", "floorWs"],
  ] as const) {
    const cohort = summarize(runs[via]!);
    const floor = summarize(runs[floorKey]!);
    const ratio = pairedRatio(runs[via]!, runs[floorKey]!, "perSecond");
    report.raw[`heartbeat.${via}`] = { cohort, floor, ratio, rowsPerBeat, stillStable };
    const figure = `3 steady heartbeat, ${via === "http" ? "HTTP" : "WebSocket"}`;
    report.add({
      figure,
      metric: `c=${MEMBERS} throughput`,
      value: cohort.perSecond,
      unit: "req/s",
      floor: floor.perSecond,
      ratio,
      target: "≥ 0.9× floor",
      met: ratio >= 0.9,
    });
    for (const q of ["p50Ms", "p99Ms"] as const) {
      report.add({
        figure,
        metric: q.slice(0, 3),
        value: cohort[q],
        unit: "ms",
        floor: floor[q],
        ratio: pairedRatio(runs[via]!, runs[floorKey]!, q),
      });
    }
    const cost = costPerMillion({
      viaWebSocket: via === "ws",
      rowsWrittenPerOp: rowsPerBeat,
      busySecondsPerOp: 1 / cohort.perSecond,
    });
    report.raw[`cost.heartbeat.${via}`] = cost;
    report.add({
      figure: "5 cost",
      metric: `per million heartbeats (${via === "http" ? "HTTP" : "WebSocket"})`,
      value: cost.total,
      unit: "USD",
      note: `requests $${cost.requests.toFixed(4)} + rows $${cost.rowsWritten.toFixed(2)} + duration $${cost.duration.toFixed(2)}`,
    });
  }
  report.add({
    figure: "5 storage",
    metric: "rows written / steady heartbeat",
    value: rowsPerBeat,
    unit: "rows",
    target: "0",
    met: rowsPerBeat === 0,
    note: `group still ${stillStable} after the runs`,
  });
}
