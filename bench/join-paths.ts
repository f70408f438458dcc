/**
 * `npm run bench:join`: one member joining a settled consumer group of 1,000 members × 10,000
 * partitions (10 topics × 1,000), in plain Node on the pure core (`consumerHeartbeat` on a
 * `ConsumerGroup`, fake clock), for every server assignor with homogeneous and heterogeneous
 * subscriptions. The homogeneous `uniform` join is the same-run floor: each round times every case
 * once, in turn, and a case's ratio is the median of its per-round ratios to that round's floor.
 * Writes bench/results/join-paths.json and prints the Markdown table kept in BENCHMARKS.md.
 *
 *   npm run bench:join -- [--rounds 15] [--warmup 3] [--members 1000] [--topics 10] [--partitions 1000]
 */
import { writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { ASSIGNOR_NAMES } from "../src/assignors";
import { DEFAULT_CONFIG } from "../src/core/config";
import { ConsumerGroup, type ConsumerMember, type ConsumerRecord } from "../src/core/consumer/consumer-group";
import { consumerHeartbeat } from "../src/core/consumer/consumer-heartbeat";
import { computeTarget } from "../src/core/consumer/target-assignment";
// mulberry32, so every run builds the same groups.
import { prng } from "../test/unit/assignors/random-groups";

const NOW = 1_000_000;
const CONFIG = { ...DEFAULT_CONFIG, authMode: "none" as const };

interface Shape {
  members: number;
  topics: number;
  partitions: number;
}

interface Case {
  assignor: string;
  subscription: "homogeneous" | "heterogeneous";
}

/**
 * Heterogeneous: each member subscribes to a random 2–5 of the topics (the joining member to 3), so
 * the group holds hundreds of distinct subscriptions and every topic has a few hundred subscribers.
 */
function subscription(kind: Case["subscription"], names: readonly string[], rnd: (n: number) => number) {
  if (kind === "homogeneous") return [...names];
  const k = 2 + rnd(4);
  const picked = new Set<string>();
  while (picked.size < k) picked.add(names[rnd(names.length)]!);
  return [...picked].sort();
}

/** Member ids in no particular order, so Kafka member order (range, sticky) differs from join order. */
const memberId = (rnd: (n: number) => number, i: number) =>
  `${rnd(0x7fffffff).toString(36).padStart(6, "0")}-${i}`;

/** The settled group as a reload would restore it: every member Stable at the target epoch, owning its target. */
function settledGroup(shape: Shape, c: Case): { record: ConsumerRecord; rows: ConsumerMember[] } {
  const rnd = prng(0xc0b0 + shape.members);
  const names = Array.from({ length: shape.topics }, (_, t) => `topic-${t}`);
  const counts = Object.fromEntries(names.map((n) => [n, shape.partitions]));
  const rows: ConsumerMember[] = Array.from({ length: shape.members }, (_, i) => ({
    memberId: memberId(rnd, i),
    groupInstanceId: null,
    clientId: "bench",
    clientHost: "127.0.0.1",
    rebalanceTimeoutMs: 300_000,
    subscribedTopics: subscription(c.subscription, names, rnd),
    serverAssignor: c.assignor,
    memberEpoch: shape.members,
    previousMemberEpoch: shape.members - 1,
    state: "Stable",
    assigned: {},
    revoking: {},
    target: {},
    left: false,
  }));
  const targets = computeTarget(rows, counts, c.assignor);
  for (const m of rows) {
    m.target = targets.get(m.memberId)!;
    m.assigned = m.target;
  }
  const record: ConsumerRecord = {
    groupId: "bench",
    type: "consumer",
    emptySince: NOW,
    groupEpoch: shape.members,
    targetEpoch: shape.members,
    assignor: c.assignor,
    partitionCounts: counts,
    sessionTimeoutMs: CONFIG.consumerSessionTimeoutMs,
  };
  return { record, rows };
}

/**
 * Times one join into a fresh copy of the settled group; checks that it moved the epoch. Also returns
 * how many other members' targets the join moved: the part of the work no algorithm can skip.
 */
function timeJoin(
  base: { record: ConsumerRecord; rows: ConsumerMember[] },
  c: Case,
  shape: Shape,
): { ms: number; moved: number } {
  const group = new ConsumerGroup(structuredClone(base.record), structuredClone(base.rows), NOW);
  const names = Array.from({ length: shape.topics }, (_, t) => `topic-${t}`);
  const topics = c.subscription === "homogeneous" ? names : [names[1]!, names[4]!, names[7]!].sort();
  const before = group.groupEpoch;
  const t0 = performance.now();
  const { result } = consumerHeartbeat(
    group,
    "bench",
    {
      memberId: "joiner-0000",
      memberEpoch: 0,
      subscribedTopics: topics.map((name) => ({ name, partitions: shape.partitions })),
      ownedPartitions: [],
      serverAssignor: c.assignor,
    },
    NOW + 1,
    CONFIG,
    () => "unused",
  );
  const ms = performance.now() - t0;
  if (!result.ok) throw new Error(`${c.assignor} ${c.subscription}: ${result.error.message}`);
  if (group.targetEpoch !== before + 1) throw new Error("the join did not compute a new target");
  return { ms, moved: group.takeNotices().filter((n) => n.reconcile).length };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function main(): void {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "15" },
      warmup: { type: "string", default: "3" },
      members: { type: "string", default: "1000" },
      topics: { type: "string", default: "10" },
      partitions: { type: "string", default: "1000" },
      only: { type: "string" },
    },
  });
  const shape: Shape = {
    members: Number(values.members),
    topics: Number(values.topics),
    partitions: Number(values.partitions),
  };
  const assignors = values.only ? values.only.split(",") : ASSIGNOR_NAMES;
  const floor: Case = { assignor: "uniform", subscription: "homogeneous" };
  const cases: Case[] = [
    floor,
    ...assignors.flatMap((assignor) =>
      (["homogeneous", "heterogeneous"] as const)
        .map((subscription) => ({ assignor, subscription }))
        .filter((c) => c.assignor !== floor.assignor || c.subscription !== floor.subscription),
    ),
  ];
  const groups = cases.map((c) => settledGroup(shape, c));
  const load = [loadavg()[0]!];
  const samples = cases.map((): number[] => []);
  const moved = cases.map(() => 0);
  const ratios = cases.map((): number[] => []);
  const rounds = Number(values.rounds);
  for (let round = -Number(values.warmup); round < rounds; round++) {
    const joins = cases.map((c, i) => timeJoin(groups[i]!, c, shape));
    if (round < 0) continue;
    joins.forEach(({ ms, moved: n }, i) => {
      samples[i]!.push(ms);
      ratios[i]!.push(ms / joins[0]!.ms);
      moved[i] = n;
    });
  }
  load.push(loadavg()[0]!);
  const results = cases.map((c, i) => ({
    ...c,
    ...shape,
    medianMs: median(samples[i]!),
    minMs: Math.min(...samples[i]!),
    ratio: median(ratios[i]!),
    retargeted: moved[i]!,
    samples: samples[i]!.length,
  }));
  const machine = {
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    loadAverage1m: { start: load[0], end: load[1] },
  };
  writeFileSync(
    "bench/results/join-paths.json",
    `${JSON.stringify({ date: new Date().toISOString(), machine, results }, null, 2)}\n`,
  );
  const fmt = (x: number) => (x < 1 ? x.toFixed(3) : x.toFixed(2));
  const lines = [
    `${shape.members} members × ${shape.topics} topics × ${shape.partitions} partitions; ${rounds} rounds; load average ${load.map((l) => l.toFixed(1)).join(" → ")}`,
    "",
    "| assignor | subscription | join median ms | min ms | × homogeneous uniform (median of per-round ratios) | other members retargeted |",
    "|---|---|---:|---:|---:|---:|",
    ...results.map(
      (r) =>
        `| ${r.assignor} | ${r.subscription} | ${fmt(r.medianMs)} | ${fmt(r.minMs)} | ${r.ratio.toFixed(2)}× | ${r.retargeted} |`,
    ),
  ];
  console.log(lines.join("\n"));
}

main();
