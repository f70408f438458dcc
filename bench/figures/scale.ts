/**
 * Figure 6: one group object holding 10,000 members × 100,000 partitions (one topic), built over HTTP
 * by real joins (16 at a time), acknowledged by heartbeats until Stable, then the memory it takes and
 * the steady heartbeat latency at that size. Memory is the V8 heap in use after a forced full GC
 * (through workerd's inspector) in the coordinator's own workerd process, a fresh one with one small
 * group warmed up, before and after; the RSS growth (which also holds garbage not yet collected,
 * SQLite's page cache and allocator slack) is given beside it as an upper bound.
 */
import { closedLoop, Http } from "../harness/load";
import type { Bench } from "../harness/report";
import { startCoordinator } from "../harness/workerd";

const MEMBERS = 10_000;
const PARTITIONS = 100_000;
/** Joins and acknowledgements stop here even if not all members are in, to keep the run bounded. */
const BUILD_BUDGET_MS = 90_000;
const ACK_BUDGET_MS = 30_000;

interface Reply {
  memberEpoch: number;
  assignment: { partitions: { topic: string; partitions: number[] }[] };
}

export async function scaleFigures(bench: Bench): Promise<void> {
  const { report } = bench;
  // Long sessions: the build takes longer than the default 45 s and members heartbeat only at the end.
  const worker = await startCoordinator({ CONSUMER_SESSION_TIMEOUT_MS: "1800000" }, true);
  const http = new Http(worker.url, 32);
  const groupId = "bench-scale";
  const path = `/v1/groups/${groupId}/heartbeat`;
  try {
    const warm = {
      memberId: "warm",
      memberEpoch: 0,
      subscribedTopics: [{ name: "w", partitions: 10 }],
      ownedPartitions: [],
    };
    await http.json("POST", "/v1/groups/bench-warm/heartbeat", warm);
    const heap0 = await worker.heapAfterGc();
    const rss0 = worker.rss();
    const epochs = new Map<string, Reply>();
    const started = performance.now();
    let next = 0;
    const joiner = async () => {
      while (next < MEMBERS && performance.now() - started < BUILD_BUDGET_MS) {
        const memberId = `s-${next++}`;
        const reply = await http.json<Reply>("POST", path, {
          memberId,
          memberEpoch: 0,
          subscribedTopics: [{ name: "big", partitions: PARTITIONS }],
          ownedPartitions: [],
        });
        epochs.set(memberId, reply);
      }
    };
    await Promise.all(Array.from({ length: 16 }, joiner));
    const buildMs = performance.now() - started;
    // Acknowledging heartbeats, each reporting what the member was last given, in rounds until the
    // group is Stable: a member learns of partitions released after its own ack at its next round.
    const ids = [...epochs.keys()];
    const ackStart = performance.now();
    let ackRounds = 0;
    let state = "";
    while (state !== "Stable" && performance.now() - ackStart < ACK_BUDGET_MS) {
      ackRounds++;
      let i = 0;
      const acker = async () => {
        while (i < ids.length && performance.now() - ackStart < ACK_BUDGET_MS) {
          const memberId = ids[i++]!;
          const last = epochs.get(memberId)!;
          const reply = await http.json<Reply>("POST", path, {
            memberId,
            memberEpoch: last.memberEpoch,
            ownedPartitions: last.assignment.partitions,
          });
          epochs.set(memberId, reply);
        }
      };
      await Promise.all(Array.from({ length: 16 }, acker));
      state = (await http.json<{ state: string }>("GET", `/v1/groups/${groupId}`)).state;
    }
    const ackMs = performance.now() - ackStart;
    const heap1 = await worker.heapAfterGc();
    const rss1 = worker.rss();
    const described = await http.json<{ state: string; members: unknown[] }>("GET", `/v1/groups/${groupId}`);
    const latency = await closedLoop({
      concurrency: 16,
      durationMs: bench.durationMs,
      send: (n) => {
        const memberId = ids[n % ids.length]!;
        return http
          .json<Reply>("POST", path, { memberId, memberEpoch: epochs.get(memberId)!.memberEpoch })
          .then(() => undefined);
      },
    });
    const owned = [...epochs.values()].reduce(
      (s, r) => s + r.assignment.partitions.reduce((t, p) => t + p.partitions.length, 0),
      0,
    );
    const deltaMb = (rss1 - rss0) / 2 ** 20;
    const heapMb = (heap1 - heap0) / 2 ** 20;
    report.raw.scale = {
      members: ids.length,
      buildMs,
      joinsPerSecond: ids.length / (buildMs / 1000),
      owned,
      ackRounds,
      ackMs,
      state: described.state,
      heapBefore: heap0,
      heapAfter: heap1,
      rssBefore: rss0,
      rssAfter: rss1,
      latency,
    };
    const figure = `6 scale, ${ids.length.toLocaleString("en-US")} members × ${PARTITIONS.toLocaleString("en-US")}`;
    report.add({
      figure,
      metric: "V8 heap growth after GC",
      value: heapMb,
      unit: "MB",
      target: "≤ 64 MB",
      met: ids.length === MEMBERS && heapMb <= 64,
      note: `heap ${Math.round(heap0 / 2 ** 20)} → ${Math.round(heap1 / 2 ** 20)} MB; group ${described.state} after ${ackRounds} ack rounds (${(ackMs / 1000).toFixed(1)} s), ${owned.toLocaleString("en-US")} partitions owned`,
    });
    report.add({
      figure,
      metric: "workerd RSS growth",
      value: deltaMb,
      unit: "MB",
      note: `RSS ${Math.round(rss0 / 2 ** 20)} → ${Math.round(rss1 / 2 ** 20)} MB (upper bound: garbage, SQLite cache)`,
    });
    report.add({
      figure,
      metric: "build by HTTP joins",
      value: buildMs / 1000,
      unit: "s",
      note: `${Math.round(ids.length / (buildMs / 1000))} joins/s`,
    });
    report.add({ figure, metric: "steady heartbeat p50", value: latency.p50Ms, unit: "ms" });
    report.add({
      figure,
      metric: "steady heartbeat p99",
      value: latency.p99Ms,
      unit: "ms",
      note: `${Math.round(latency.perSecond)} req/s at c=16`,
    });
  } finally {
    http.close();
    await worker.dispose();
  }
}
