/**
 * `npm run demo -- share`: a share group (API.md §7) of six workers on a topic of two partitions — more
 * workers than partitions, all busy. One worker is slow (its lock is renewed, nobody else gets its
 * record), one is flaky (it fails every first delivery: those records are redelivered), one crashes
 * holding records (they come back when their locks end), a poison record fails everywhere until it
 * is archived at the delivery limit, and a malformed one is rejected. Then the members, the offsets
 * and the archived list, a fix "deployed" and a redrive. Runs unattended in about 15 s.
 */

import { describeArchived, describeShareMembers, describeShareOffsets } from "../src/cli/share-commands.ts";
import { CohortAdmin, MemoryLog, ShareConsumer, type ShareRecord } from "../src/client/index.ts";
import { startLocalCoordinator } from "./local-coordinator.ts";

const LOCK_MS = 2_000;
const DELIVERY_LIMIT = 3;
const PARTITIONS = 2;
const GROUP = "demo-jobs";
const POISON = "job-1-4";
const MALFORMED = "job-0-9";
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const started = Date.now();
const say = (text: string) =>
  console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${text}`);
const where = (r: ShareRecord<string>) => `${r.topic}/${r.partition}@${r.offset} ${r.value}`;

console.log("Starting a local cohort coordinator (workerd)…");
const coordinator = await startLocalCoordinator({
  SHARE_AUTO_OFFSET_RESET: "earliest",
  SHARE_RECORD_LOCK_DURATION_MS: String(LOCK_MS),
  SHARE_DELIVERY_COUNT_LIMIT: String(DELIVERY_LIMIT),
  SHARE_SESSION_TIMEOUT_MS: "15000",
  SHARE_HEARTBEAT_INTERVAL_MS: "500",
});
say(
  `coordinator on ${coordinator.url}; locks last ${LOCK_MS} ms, a record is archived after ${DELIVERY_LIMIT} deliveries`,
);
const admin = new CohortAdmin({ url: coordinator.url });

// The log: 12 jobs per partition now, a producer adds 8 more. Workers read offsets through MemoryLog.
const log = MemoryLog.filled({ jobs: PARTITIONS }, 12, (_t, p, o) => `job-${p}-${o}`);
const producer = (async () => {
  for (let n = 0; n < 8; n++) {
    await sleep(600);
    const p = n % PARTITIONS;
    log.append("jobs", p, `job-${p}-${log.logEndOffset("jobs", p)}`);
  }
})();
const TOTAL = PARTITIONS * 12 + 8;

const processed = new Map<string, string>(); // value → the worker that completed it
const perWorker = new Map<string, number>();
const thrown = new Set<string>(); // values a handler threw on: released, so redelivered at once
let fixed = false; // the poison and malformed records' bug, until a fix is "deployed"

type Behaviour = "steady" | "slow" | "flaky" | "crashing";
const workers = new Map<string, ShareConsumer<string>>();

function fail(name: string, record: ShareRecord<string>, why: string): never {
  say(`${name} fails ${where(record)}: ${why}`);
  thrown.add(record.value);
  throw new Error(why);
}

async function handle(name: string, behaviour: Behaviour, first: boolean, record: ShareRecord<string>) {
  if (record.deliveryCount > 1) {
    const why = thrown.has(record.value) ? "" : " (its lock ended: w6 crashed holding it)";
    say(`${name} ← ${where(record)}, delivery ${record.deliveryCount}${why}`);
  }
  if (record.value === MALFORMED && !fixed) {
    say(`${name} rejects ${where(record)}: malformed → archived at once`);
    return record.reject();
  }
  if (record.value === POISON && !fixed)
    fail(name, record, `poison (delivery ${record.deliveryCount} of ${DELIVERY_LIMIT})`);
  if (behaviour === "flaky" && record.deliveryCount === 1)
    fail(name, record, "flaky: released for redelivery");
  if (behaviour === "slow" && first) {
    say(`${name} (slow) takes ${(LOCK_MS * 1.75) / 1000} s on ${where(record)}, longer than its lock`);
    await sleep(LOCK_MS * 1.75);
    say(
      `${name} (slow) done with ${where(record)}, delivery ${record.deliveryCount}: renewed, nobody else got it`,
    );
  }
  await sleep(120);
  if (processed.has(record.value)) say(`  (${record.value} done again by ${name}: at-least-once)`);
  processed.set(record.value, name);
  perWorker.set(name, (perWorker.get(name) ?? 0) + 1);
}

async function startWorker(name: string, behaviour: Behaviour): Promise<void> {
  const worker = new ShareConsumer<string>({
    url: coordinator.url,
    groupId: GROUP,
    topics: { jobs: PARTITIONS },
    source: log,
    clientId: name,
    maxRecords: 2,
    maxWaitMs: 500,
  });
  workers.set(name, worker);
  let first = true;
  await worker.run({
    eachRecord: (record) => {
      const isFirst = first;
      first = false;
      if (behaviour === "crashing") {
        say(`${name} CRASHES holding ${worker.held} records (no acknowledgement, no leave)`);
        worker.abort();
        return new Promise<never>(() => {});
      }
      return handle(name, behaviour, isFirst, record);
    },
  });
}

say("six workers join a topic of two partitions");
await Promise.all([
  startWorker("w1", "steady"),
  startWorker("w2", "steady"),
  startWorker("w3", "steady"),
  startWorker("w4", "slow"),
  startWorker("w5", "flaky"),
  startWorker("w6", "crashing"),
]);

const done = () => [...processed.keys()].filter((v) => v !== POISON && v !== MALFORMED).length;
for (let waited = 0; (done() < TOTAL - 2 || waited < LOCK_MS * 3) && waited < 25_000; waited += 250)
  await sleep(250);
await producer;
say(
  `all jobs but two done: ${[...perWorker]
    .map(([w, n]) => `${w}=${n}`)
    .sort()
    .join(" ")} (w6 crashed)`,
);

console.log(`\n$ cohort share-groups describe ${GROUP} --members`);
console.log((await describeShareMembers(admin, GROUP)).text);
console.log("(two partitions, each shared by three workers; w6 stays listed until its session expires)");
console.log(`\n$ cohort share-groups describe ${GROUP}`);
console.log((await describeShareOffsets(admin, GROUP)).text);
console.log(`\n$ cohort share-groups describe ${GROUP} --archived`);
console.log(`${(await describeArchived(admin, GROUP)).text}\n`);

say("a fix is deployed; the dead letters are redriven");
fixed = true;
console.log(`$ cohort share-groups redrive ${GROUP} --topic jobs`);
const { redriven } = await admin.redrive(GROUP, { topic: "jobs" });
console.log(`Redrove ${redriven} archived offsets: available again, delivery count 0.\n`);
for (let waited = 0; !(processed.has(POISON) && processed.has(MALFORMED)) && waited < 10_000; waited += 100)
  await sleep(100);
say(`${POISON} done by ${processed.get(POISON)}, ${MALFORMED} by ${processed.get(MALFORMED)}`);

await Promise.all([...workers].filter(([name]) => name !== "w6").map(([, w]) => w.close()));
console.log(`\n$ cohort share-groups describe ${GROUP}`);
console.log((await describeShareOffsets(admin, GROUP)).text);
await coordinator.stop();
say("done");
