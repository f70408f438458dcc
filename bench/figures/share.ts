/**
 * Figure 7 (share groups, API.md §7): records handed out and accepted per second by one share group of
 * 16 consumers acquiring 100 records a call with the previous batch's acknowledgements piggybacked, and
 * unbatched (1 record a call), each against the floor's request rate in the same run and, for reference,
 * the floor with one write (an accept must be durable before the answer); the SQLite rows
 * written per 1,000 records delivered and accepted; how long after its lock expires a record reaches
 * another member's waiting acquire; the V8 heap of a group whose 1,000 partitions are each at the
 * in-flight cap; and the price of a million records.
 *
 * Runs on its own coordinator (fresh workerd with the inspector for the heap): `earliest` so a group
 * starts at offset 0 of a practically endless log, 1 s locks so the redelivery figure takes seconds,
 * and long sessions (members heartbeat only while they are set up).
 */
import { PRICES } from "../harness/cost";
import { closedLoop, Http, type LoadResult, median, pairedRatio, summarize } from "../harness/load";
import type { Bench, ObjectStats } from "../harness/report";
import { startCoordinator } from "../harness/workerd";

const TOPIC = "jobs";
const CONSUMERS = 16;
const PARTITIONS = 16;
/** The log end every consumer reports: far enough that the log never runs dry during a run. */
const LOG_END = 2 ** 50;
const LOCK_MS = 1000;
const REDELIVERY_ROUNDS = 5;
const HEAP_PARTITIONS = 1000;
const MAX_IN_FLIGHT = 2000;

export const SHARE_VARS = {
  SHARE_AUTO_OFFSET_RESET: "earliest",
  SHARE_RECORD_LOCK_DURATION_MS: String(LOCK_MS),
  SHARE_SESSION_TIMEOUT_MS: "1800000",
  SHARE_PARTITION_MAX_RECORD_LOCKS: String(MAX_IN_FLIGHT),
};

interface Range {
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
  deliveryCount: number;
}
interface AcquireReply {
  records: Range[];
  acknowledgements: { error: unknown }[];
}
interface Member {
  memberId: string;
  partitions: { topic: string; partition: number; logEndOffset: number }[];
  /** What the member was handed last and accepts with its next acquire. */
  held: Range[];
}

const offsets = (ranges: Range[]) => ranges.reduce((s, r) => s + r.lastOffset - r.firstOffset + 1, 0);
const accept = (ranges: Range[], type = "accept") =>
  ranges.map(({ topic, partition, firstOffset, lastOffset }) => ({
    topic,
    partition,
    firstOffset,
    lastOffset,
    type,
  }));

/** Joins `count` members, then heartbeats each once more so every one knows the settled assignment. */
export async function joinMembers(
  http: Http,
  groupId: string,
  count: number,
  partitions: number,
): Promise<Member[]> {
  const path = `/v1/groups/${groupId}/share/heartbeat`;
  const subscribedTopics = [{ name: TOPIC, partitions }];
  const joined: { memberId: string; memberEpoch: number }[] = [];
  for (let i = 0; i < count; i++) {
    joined.push(
      await http.json("POST", path, { memberId: `${groupId}-m${i}`, memberEpoch: 0, subscribedTopics }),
    );
  }
  const members: Member[] = [];
  for (const j of joined) {
    const reply = await http.json<{ assignment: { partitions: { topic: string; partitions: number[] }[] } }>(
      "POST",
      path,
      { memberId: j.memberId, memberEpoch: j.memberEpoch, subscribedTopics },
    );
    members.push({
      memberId: j.memberId,
      partitions: reply.assignment.partitions.flatMap((tp) =>
        tp.partitions.map((partition) => ({ topic: tp.topic, partition, logEndOffset: LOG_END })),
      ),
      held: [],
    });
  }
  return members;
}

/** One acquire of `max` records, accepting what the member held (piggybacked); returns records handed out. */
export async function acquireOnce(http: Http, groupId: string, m: Member, max: number): Promise<number> {
  const reply = await http.json<AcquireReply>("POST", `/v1/groups/${groupId}/share/acquire`, {
    memberId: m.memberId,
    maxRecords: max,
    maxWaitMs: 0,
    partitions: m.partitions,
    acknowledgements: accept(m.held),
  });
  if (reply.acknowledgements.some((a) => a.error !== null)) {
    throw new Error(
      `an acknowledgement failed: ${JSON.stringify(reply.acknowledgements.find((a) => a.error))}`,
    );
  }
  m.held = reply.records;
  return offsets(reply.records);
}

interface Throughput {
  cohort: LoadResult[];
  floor: LoadResult[];
  /** The floor with one small upsert per call: an accept must be durable, so one write per call is inherent. */
  floorWrite: LoadResult[];
  records: number;
  sent: number;
}

/**
 * An unmeasured round of each target before the measured ones: a fresh coordinator's first second of
 * writes runs 20–70% slower (JIT, the new SQLite file and its WAL), which the 300 ms warm-up of a round
 * does not cover.
 */
const WARMUP_ROUND_MS = 1000;

/** Accepts what each member still holds, so no lock outlasts the floor's rounds. */
export async function acceptHeld(http: Http, groupId: string, members: Member[]): Promise<void> {
  for (const m of members) {
    if (m.held.length === 0) continue;
    await http.json("POST", `/v1/groups/${groupId}/share/acknowledge`, {
      memberId: m.memberId,
      acknowledgements: accept(m.held),
    });
    m.held = [];
  }
}

/** Floors and share group in paired rounds at the same concurrency (16 callers, one per member). */
async function throughput(bench: Bench, http: Http, groupId: string, members: Member[], max: number) {
  const runs: Throughput = { cohort: [], floor: [], floorWrite: [], records: 0, sent: 0 };
  const floorBody = { memberId: "m", maxRecords: max, partitions: members[0]!.partitions };
  const floor = (durationMs: number) =>
    closedLoop({
      concurrency: CONSUMERS,
      durationMs,
      send: () =>
        bench.floor.http.json("POST", `/v1/groups/${groupId}/floor`, floorBody).then(() => undefined),
    });
  const floorWrite = (durationMs: number) =>
    closedLoop({
      concurrency: CONSUMERS,
      durationMs,
      send: (n) =>
        bench.floor.http.json("POST", `/v1/groups/${groupId}/floor/write`, { n }).then(() => undefined),
    });
  const cohort = async (durationMs: number) => {
    const result = await closedLoop({
      concurrency: CONSUMERS,
      durationMs,
      send: async (_n, caller) => {
        // Awaited first: `runs.records += await …` would read the total before the await and lose updates.
        const handed = await acquireOnce(http, groupId, members[caller]!, max);
        runs.records += handed;
        runs.sent++;
      },
    });
    // Accept what each member still holds before the floor's rounds outlast the locks.
    await acceptHeld(http, groupId, members);
    return result;
  };
  await floor(WARMUP_ROUND_MS);
  await floorWrite(WARMUP_ROUND_MS);
  await cohort(WARMUP_ROUND_MS);
  for (let round = 0; round < bench.rounds; round++) {
    runs.floor.push(await floor(bench.durationMs));
    runs.floorWrite.push(await floorWrite(bench.durationMs));
    runs.cohort.push(await cohort(bench.durationMs));
  }
  return runs;
}

const statsOf = (http: Http, groupId: string) =>
  http.json<ObjectStats>("GET", `/__bench/stats/${encodeURIComponent(groupId)}`);

/** Time from a record's acquisition to its arrival at a second member's waiting acquire, after its lock ends. */
async function redelivery(http: Http): Promise<number[]> {
  const groupId = "bench-share-redeliver";
  const [a, b] = await joinMembers(http, groupId, 2, 1);
  const delays: number[] = [];
  for (let round = 0; round < REDELIVERY_ROUNDS; round++) {
    const partitions = [{ topic: TOPIC, partition: 0, logEndOffset: round + 1 }];
    const sent = performance.now();
    const first = await http.json<AcquireReply>("POST", `/v1/groups/${groupId}/share/acquire`, {
      memberId: a!.memberId,
      maxRecords: 1,
      maxWaitMs: 0,
      partitions,
    });
    if (offsets(first.records) !== 1) throw new Error(`round ${round}: nothing to acquire`);
    const again = await http.json<AcquireReply>("POST", `/v1/groups/${groupId}/share/acquire`, {
      memberId: b!.memberId,
      maxRecords: 1,
      maxWaitMs: LOCK_MS * 5,
      partitions,
    });
    delays.push(performance.now() - sent);
    const got = again.records[0];
    if (!got || got.firstOffset !== first.records[0]!.firstOffset || got.deliveryCount !== 2) {
      throw new Error(
        `round ${round}: the expired record did not come back (${JSON.stringify(again.records)})`,
      );
    }
    await http.json("POST", `/v1/groups/${groupId}/share/acknowledge`, {
      memberId: b!.memberId,
      acknowledgements: accept(again.records),
    });
  }
  return delays;
}

/**
 * A group of 1,000 partitions filled to the in-flight cap on a fresh coordinator (with the inspector, and
 * locks that outlast the fill): acquired 100 at a time with every other range accepted, so each partition
 * holds alternating acquired and acknowledged ranges up to the cap. Returns the V8 heap growth.
 */
async function heapAtCap() {
  const worker = await startCoordinator({ ...SHARE_VARS, SHARE_RECORD_LOCK_DURATION_MS: "3600000" }, true);
  const http = new Http(worker.url, 8);
  try {
    const groupId = "bench-share-heap";
    await joinMembers(http, "bench-share-warm", 1, 1);
    const heap0 = await worker.heapAfterGc();
    const [m] = await joinMembers(http, groupId, 1, HEAP_PARTITIONS);
    await acquireOnce(http, groupId, m!, 1);
    let ranges = 0;
    let done = false;
    // Eight callers on the one member, each accepting every other batch it was handed.
    const caller = async () => {
      const own: Member = { ...m!, partitions: [], held: [] };
      let flip = false;
      while (!done) {
        const reply = await http.json<AcquireReply>("POST", `/v1/groups/${groupId}/share/acquire`, {
          memberId: own.memberId,
          maxRecords: 100,
          maxWaitMs: 0,
          acknowledgements: flip ? accept(own.held) : [],
        });
        flip = !flip;
        ranges += reply.records.length;
        own.held = reply.records;
        if (reply.records.length === 0) done = true;
      }
    };
    await Promise.all(Array.from({ length: 8 }, caller));
    const described = await http.json<{ partitions?: ({ startOffset: number } & Record<string, number>)[] }>(
      "GET",
      `/v1/groups/${groupId}`,
    );
    const parts = described.partitions ?? [];
    const inFlight = parts.reduce(
      (s, p) => s + (p.acquired ?? 0) + (p.available ?? 0) + (p.acknowledged ?? 0),
      0,
    );
    const heap1 = await worker.heapAfterGc();
    return { heapMb: (heap1 - heap0) / 2 ** 20, heap0, heap1, ranges, inFlight, partitions: parts.length };
  } finally {
    http.close();
    await worker.dispose();
  }
}

export async function shareFigures(bench: Bench): Promise<void> {
  const { report } = bench;
  const worker = await startCoordinator(SHARE_VARS);
  const http = new Http(worker.url, 32);
  try {
    const figure = "7 share group";
    const batchedGroup = "bench-share-100";
    const batchedMembers = await joinMembers(http, batchedGroup, CONSUMERS, PARTITIONS);
    const rows0 = await statsOf(http, batchedGroup);
    const batched = await throughput(bench, http, batchedGroup, batchedMembers, 100);
    const rows1 = await statsOf(http, batchedGroup);
    const recordsPerRequest = batched.records / batched.sent;
    const recordsPerSecond = summarize(batched.cohort).perSecond * recordsPerRequest;
    const batchedRatio = pairedRatio(batched.cohort, batched.floor, "perSecond");
    const batchedWriteRatio = pairedRatio(batched.cohort, batched.floorWrite, "perSecond");
    const rowsPer1000 = ((rows1.rowsWritten - rows0.rowsWritten) / batched.records) * 1000;
    report.raw["share.batched"] = { ...batched, recordsPerRequest, rowsPer1000 };
    report.add({
      figure,
      metric: "16 consumers × 100 records/acquire",
      value: recordsPerSecond,
      unit: "records/s",
      floor: summarize(batched.floor).perSecond,
      ratio: batchedRatio,
      target: "≥ 100,000 records/s",
      met: recordsPerSecond >= 100_000,
      note: `${Math.round(summarize(batched.cohort).perSecond)} acquires/s of ${recordsPerRequest.toFixed(1)} records; ratio is acquires/s to floor req/s; ${batchedWriteRatio.toFixed(2)}× the floor with one write (${Math.round(summarize(batched.floorWrite).perSecond)} req/s)`,
    });
    report.add({
      figure,
      metric: "rows written / 1,000 records delivered and accepted",
      value: rowsPer1000,
      unit: "rows",
      target: "≤ 20",
      met: rowsPer1000 <= 20,
    });

    const singleGroup = "bench-share-1";
    const singleMembers = await joinMembers(http, singleGroup, CONSUMERS, PARTITIONS);
    const single = await throughput(bench, http, singleGroup, singleMembers, 1);
    const singleRatio = pairedRatio(single.cohort, single.floor, "perSecond");
    const singleWriteRatio = pairedRatio(single.cohort, single.floorWrite, "perSecond");
    report.raw["share.unbatched"] = single;
    const singleRun = summarize(single.cohort);
    report.add({
      figure,
      metric: "16 consumers × 1 record/acquire",
      value: singleRun.perSecond,
      unit: "req/s",
      floor: summarize(single.floor).perSecond,
      ratio: singleRatio,
      target: "≥ 0.7× floor",
      met: singleRatio >= 0.7,
      note: `p50 ${singleRun.p50Ms.toFixed(1)} ms (floor ${summarize(single.floor).p50Ms.toFixed(1)} ms)`,
    });
    report.add({
      figure,
      metric: "16 consumers × 1 record/acquire vs the floor with one write",
      value: singleRun.perSecond,
      unit: "req/s",
      floor: summarize(single.floorWrite).perSecond,
      ratio: singleWriteRatio,
      note: `informational: each call accepts a record, which must be durable before the answer, so one write per call is inherent; p50 ${singleRun.p50Ms.toFixed(1)} ms (floor with one write ${summarize(single.floorWrite).p50Ms.toFixed(1)} ms)`,
    });

    const delays = await redelivery(http);
    const worst = Math.max(...delays);
    report.raw["share.redelivery"] = { lockMs: LOCK_MS, delays };
    report.add({
      figure,
      metric: `redelivery after a ${LOCK_MS} ms lock (worst of ${REDELIVERY_ROUNDS})`,
      value: worst,
      unit: "ms",
      target: `≤ lock + 100 ms (${LOCK_MS + 100})`,
      met: worst <= LOCK_MS + 100,
      note: `median ${median(delays).toFixed(0)} ms, from the first acquire's send to the second member's answer`,
    });

    const heap = await heapAtCap();
    report.raw["share.heap"] = heap;
    report.add({
      figure,
      metric: `V8 heap growth, ${HEAP_PARTITIONS} partitions at the in-flight cap`,
      value: heap.heapMb,
      unit: "MB",
      target: "≤ 32 MB",
      met: heap.heapMb <= 32 && heap.inFlight >= HEAP_PARTITIONS * MAX_IN_FLIGHT,
      note: `${heap.inFlight.toLocaleString("en-US")} offsets in flight in ${heap.ranges.toLocaleString("en-US")} acquired ranges (every other one accepted), ${heap.partitions} partitions; heap ${Math.round(heap.heap0 / 2 ** 20)} → ${Math.round(heap.heap1 / 2 ** 20)} MB`,
    });

    // A million records at the batched shape: requests (1 per recordsPerRequest), rows, busy duration.
    const requests = (PRICES.requestPerMillion / recordsPerRequest) * 1;
    const rowsWritten = (rowsPer1000 / 1000) * PRICES.rowWrittenPerMillion;
    const duration = (1 / recordsPerSecond) * PRICES.allocatedGb * PRICES.gbSecondPerMillion;
    const total = requests + rowsWritten + duration;
    report.raw["share.cost"] = { requests, rowsWritten, duration, total };
    report.add({
      figure,
      metric: "per million records (100/acquire)",
      value: total,
      unit: "USD",
      note: `requests $${requests.toFixed(4)} + rows $${rowsWritten.toFixed(4)} + duration $${duration.toFixed(4)}; a Cloudflare Queue: $1.20 (3 operations per message at $0.40 per million, developers.cloudflare.com/queues/platform/pricing)`,
    });
  } finally {
    http.close();
    await worker.dispose();
  }
}
