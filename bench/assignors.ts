/**
 * `npm run bench:assignors`: cohort's assignors over the ServerSideAssignorBenchmark grid, and
 * kafkajs's RoundRobinAssigner on the same homogeneous inputs. Writes bench/results/assignors.json
 * and prints the Markdown table kept in BENCHMARKS.md.
 */
import { writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { type Cluster, PartitionAssigners } from "kafkajs";
import { Bench } from "tinybench";
import { type Assignor, type GroupSpec, getAssignor } from "../src/assignors";
import { fullGroup, GRID, type GridPoint, incrementalGroup } from "./assignors-inputs";

interface Row {
  assignor: string;
  members: number;
  topics: number;
  partitions: number;
  subscription: GridPoint["subscription"];
  mode: "FULL" | "INCREMENTAL";
  medianMs: number;
  meanMs: number;
  p99Ms: number;
  samples: number;
}

const uniform = getAssignor("uniform")!;
const roundrobin = getAssignor("roundrobin")!;

function partitionTotal(group: GroupSpec): number {
  let total = 0;
  for (const n of group.topics.values()) total += n;
  return total;
}

/** kafkajs reads partitions from its cluster metadata; a stub serves them from the same spec. */
function kafkajsRoundRobin(group: GroupSpec) {
  const metadata = new Map(
    [...group.topics].map(([t, n]) => [t, Array.from({ length: n }, (_, p) => ({ partitionId: p }))]),
  );
  const cluster = {
    findTopicPartitionMetadata: (topic: string) => metadata.get(topic) ?? [],
  } as unknown as Cluster;
  const assigner = PartitionAssigners.roundRobin({ cluster, groupId: "bench", logger: undefined as never });
  const members = group.members.map((m) => ({ memberId: m.memberId, memberMetadata: Buffer.alloc(0) }));
  const topics = [...group.topics.keys()];
  return () => assigner.assign({ members, topics });
}

async function main(): Promise<void> {
  const bench = new Bench({ time: 400, warmupTime: 100, iterations: 5 });
  const rows: Omit<Row, "medianMs" | "meanMs" | "p99Ms" | "samples">[] = [];
  const add = (name: string, row: (typeof rows)[number], fn: () => unknown) => {
    rows.push(row);
    bench.add(name, fn);
  };
  const cases: [Assignor, GridPoint][] = GRID.map((point) => [uniform, point]);
  const largest = { members: 10_000, topics: 100, subscription: "homogeneous" } as const;
  for (const name of ["range", "sticky"]) cases.push([getAssignor(name)!, largest]);

  for (const [assignor, point] of cases) {
    const full = fullGroup(point);
    const incremental = incrementalGroup(point, assignor);
    const base = { assignor: assignor.name, ...point, partitions: partitionTotal(full) };
    add(`${assignor.name} ${label(point)} FULL`, { ...base, mode: "FULL" }, () => assignor.assign(full));
    add(`${assignor.name} ${label(point)} INCREMENTAL`, { ...base, mode: "INCREMENTAL" }, () =>
      assignor.assign(incremental),
    );
  }
  for (const point of GRID.filter((p) => p.subscription === "homogeneous")) {
    const full = fullGroup(point);
    const base = { ...point, partitions: partitionTotal(full), mode: "FULL" } as const;
    add(`roundrobin ${label(point)}`, { ...base, assignor: "roundrobin" }, () => roundrobin.assign(full));
    add(`kafkajs ${label(point)}`, { ...base, assignor: "kafkajs-roundrobin" }, kafkajsRoundRobin(full));
  }

  await bench.run();
  const results: Row[] = bench.tasks.map((task, i) => {
    const r = task.result;
    if (r.state !== "completed") throw new Error(`${task.name}: ${r.state}`);
    return {
      ...rows[i]!,
      medianMs: r.latency.p50,
      meanMs: r.latency.mean,
      p99Ms: r.latency.p99,
      samples: r.latency.samples?.length ?? r.totalTime / r.latency.mean,
    };
  });
  const machine = {
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    // Other work on the machine skews medians; record how busy it was.
    loadAverage: loadavg(),
  };
  writeFileSync(
    "bench/results/assignors.json",
    `${JSON.stringify({ date: new Date().toISOString(), machine, results }, null, 2)}\n`,
  );
  console.log(markdown(results));
}

const label = (p: GridPoint) => `${p.members}m ${p.topics}t ${p.subscription}`;
const ms = (x: number) => (x < 1 ? x.toFixed(3) : x.toFixed(2));

function markdown(results: Row[]): string {
  const find = (assignor: string, p: GridPoint, mode: string) =>
    results.find(
      (r) =>
        r.assignor === assignor &&
        r.members === p.members &&
        r.topics === p.topics &&
        r.subscription === p.subscription &&
        r.mode === mode,
    );
  const lines = [
    "| assignor | members | topics | partitions | subscription | FULL median ms | INCREMENTAL median ms |",
    "|---|---:|---:|---:|---|---:|---:|",
  ];
  for (const r of results.filter(
    (r) => r.mode === "FULL" && r.assignor !== "roundrobin" && r.assignor !== "kafkajs-roundrobin",
  )) {
    const inc = find(r.assignor, r, "INCREMENTAL");
    lines.push(
      `| ${r.assignor} | ${r.members} | ${r.topics} | ${r.partitions} | ${r.subscription} | ${ms(r.medianMs)} | ${inc ? ms(inc.medianMs) : "–"} |`,
    );
  }
  lines.push(
    "",
    "| members | topics | partitions | uniform ms | roundrobin ms | kafkajs RoundRobinAssigner ms | uniform / kafkajs | roundrobin / kafkajs |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const k of results.filter((r) => r.assignor === "kafkajs-roundrobin")) {
    const u = find("uniform", k, "FULL")!;
    const rr = find("roundrobin", k, "FULL")!;
    lines.push(
      `| ${k.members} | ${k.topics} | ${k.partitions} | ${ms(u.medianMs)} | ${ms(rr.medianMs)} | ${ms(k.medianMs)} | ${(u.medianMs / k.medianMs).toFixed(2)} | ${(rr.medianMs / k.medianMs).toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}

await main();
