/**
 * Figures 1, 2 and 5 (commits): offset commits of one partition at concurrency 1/16/64 and batched
 * commits of 100 and 1,000 partitions, each against the floor, and the SQLite rows a commit writes.
 * Commits are "simple" (no member id), as a consumer that manages its own partitions sends them.
 * A second reference, the floor with one small upsert, shows what a durable write alone costs here.
 */
import { costPerMillion } from "../harness/cost";
import { closedLoop, type LoadResult, pairedRatio, type Summary, summarize } from "../harness/load";
import { type Bench, type Row, statsOf } from "../harness/report";

const TOPIC = "orders";

const commitBody = (n: number, partitions: number) => ({
  n,
  offsets: Array.from({ length: partitions }, (_, i) => ({
    topic: TOPIC,
    partition: partitions === 1 ? n % 64 : i,
    offset: n,
    logEndOffset: n + 10,
  })),
});

interface Versus {
  cohort: Summary;
  floor: Summary;
  floorWrite: Summary;
  /** Paired-round ratios cohort / floor. */
  ratio: { perSecond: number; p50Ms: number; p99Ms: number };
  writeRatio: number;
  sent: number;
}

/** Runs floor, floor+write and coordinator in turn, round by round, so drift hits all three alike. */
async function versus(
  bench: Bench,
  groupId: string,
  concurrency: number,
  partitions: number,
): Promise<Versus> {
  const runs: Record<"cohort" | "floor" | "floorWrite", LoadResult[]> = {
    cohort: [],
    floor: [],
    floorWrite: [],
  };
  const targets = [
    ["floor", bench.floor.http, `/v1/groups/${groupId}/floor`],
    ["floorWrite", bench.floor.http, `/v1/groups/${groupId}/floor/write`],
    ["cohort", bench.coordinator.http, `/v1/groups/${groupId}/offsets`],
  ] as const;
  for (let round = 0; round < bench.rounds; round++) {
    for (const [name, http, path] of targets) {
      runs[name].push(
        await closedLoop({
          concurrency,
          durationMs: bench.durationMs,
          send: (n) => http.json("POST", path, commitBody(n, partitions)).then(() => undefined),
        }),
      );
    }
  }
  return {
    cohort: summarize(runs.cohort),
    floor: summarize(runs.floor),
    floorWrite: summarize(runs.floorWrite),
    ratio: {
      perSecond: pairedRatio(runs.cohort, runs.floor, "perSecond"),
      p50Ms: pairedRatio(runs.cohort, runs.floor, "p50Ms"),
      p99Ms: pairedRatio(runs.cohort, runs.floor, "p99Ms"),
    },
    writeRatio: pairedRatio(runs.cohort, runs.floorWrite, "perSecond"),
    sent: runs.cohort.reduce((s, r) => s + r.sent, 0),
  };
}

const latencyRows = (figure: string, prefix: string, v: Versus): Row[] =>
  (["p50Ms", "p99Ms"] as const).map((q) => ({
    figure,
    metric: `${prefix}${q.slice(0, 3)}`,
    value: v.cohort[q],
    unit: "ms",
    floor: v.floor[q],
    ratio: v.ratio[q],
  }));

export async function commitFigures(bench: Bench): Promise<void> {
  const { report } = bench;
  const single: Record<number, Versus> = {};
  let rowsPerCommit = Number.NaN;
  for (const concurrency of [1, 16, 64]) {
    const groupId = `bench-commit-c${concurrency}`;
    const before = await statsOf(bench, groupId);
    const v = await versus(bench, groupId, concurrency, 1);
    const after = await statsOf(bench, groupId);
    // The first commit also creates the group row; over thousands of commits that is noise.
    rowsPerCommit = (after.rowsWritten - before.rowsWritten) / v.sent;
    single[concurrency] = v;
    report.raw[`commit.c${concurrency}`] = { ...v, rowsPerCommit };
    const figure = "1 commit, 1 partition";
    report.add({
      figure,
      metric: `c=${concurrency} throughput`,
      value: v.cohort.perSecond,
      unit: "req/s",
      floor: v.floor.perSecond,
      ratio: v.ratio.perSecond,
      ...(concurrency === 64 ? { target: "≥ 0.8× floor", met: v.ratio.perSecond >= 0.8 } : {}),
      note: `floor with one write: ${Math.round(v.floorWrite.perSecond)} req/s (cohort ${v.writeRatio.toFixed(2)}× it)`,
    });
    for (const row of latencyRows(figure, `c=${concurrency} `, v)) report.add(row);
  }

  const one = single[1]!;
  for (const partitions of [100, 1000]) {
    const groupId = `bench-batch-${partitions}`;
    const before = await statsOf(bench, groupId);
    const v = await versus(bench, groupId, 1, partitions);
    const after = await statsOf(bench, groupId);
    const rows = (after.rowsWritten - before.rowsWritten) / v.sent;
    report.raw[`batch.${partitions}`] = { ...v, rowsPerCommit: rows };
    const figure = `2 batched commit, ${partitions}`;
    const [p50, p99] = latencyRows(figure, "", v);
    const times = v.cohort.p50Ms / one.cohort.p50Ms;
    report.add({
      ...p50!,
      ...(partitions === 1000 ? { target: "≤ 5× 1-partition p50", met: times <= 5 } : {}),
      note: `${times.toFixed(1)}× the 1-partition commit's p50`,
    });
    report.add(p99!);
    report.add({
      figure,
      metric: "partition-offsets/s",
      value: v.cohort.perSecond * partitions,
      unit: "offsets/s",
    });
    report.add({
      figure: "5 storage",
      metric: `rows written / ${partitions}-partition commit`,
      value: rows,
      unit: "rows",
    });
  }

  report.add({ figure: "5 storage", metric: "rows written / commit", value: rowsPerCommit, unit: "rows" });
  const cost = costPerMillion({
    viaWebSocket: false,
    rowsWrittenPerOp: rowsPerCommit,
    busySecondsPerOp: 1 / single[64]!.cohort.perSecond,
  });
  report.raw["cost.commit"] = cost;
  report.add({
    figure: "5 cost",
    metric: "per million commits",
    value: cost.total,
    unit: "USD",
    note: `requests $${cost.requests.toFixed(2)} + rows $${cost.rowsWritten.toFixed(2)} + duration $${cost.duration.toFixed(2)}`,
  });
}
