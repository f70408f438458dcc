/**
 * `npm run demo -- share`: a share group (API.md §7) of six workers on a topic of two partitions — more
 * workers than partitions, all busy. One worker is slow (its lock is renewed, nobody else gets its
 * record), one is flaky (it fails every first delivery: those records are redelivered), one crashes
 * holding records (they come back when their locks expire), a poison record fails everywhere until it
 * is archived at the delivery limit, and a malformed one is rejected. Then the archived list, a fix
 * "deployed" and a redrive. Runs unattended in about 30 s.
 */

import { describeArchived, describeShareOffsets } from "../src/cli/share-commands.ts";
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
const where = (r: ShareRecord<string>) => `${r.topic}/${r.partition}@${r.offset}`;

console.log("Starting a local cohort coordinator (workerd)…");
const coordinator = await startLocalCoordinator({
  SHARE_AUTO_OFFSET_RESET: "earliest",
  SHARE_RECORD_LOCK_DURATION_MS: String(LOCK_MS),
  SHARE_DELIVERY_COUNT_LIMIT: String(DELIVERY_LIMIT),
  SHARE_SESSION_TIMEOUT_MS: "6000",
  SHARE_HEARTBEAT_INTERVAL_MS: "500",
});
say(
  `coordinator on ${coordinator.url}; locks last ${LOCK_MS} ms, records are archived after ${DELIVERY_LIMIT} deliveries`,
);
const admin = new CohortAdmin({ url: coordinator.url });

// The log: 12 jobs per partition now, a producer adds 8 more. Workers read offsets through MemoryLog.
const log = MemoryLog.filled({ jobs: PARTITIONS }, 12, (t, p, o) => `${t.slice(0, 3)}-${p}-${o}`);
const producer = (async () => {
  for (let n = 0; n < 8; n++) {
    await sleep(600);
    log.append("jobs", n % PARTITIONS, `job-${n % PARTITIONS}-${log.logEndOffset("jobs", n % PARTITIONS)}`);
  }
})();

const processed = new Map<string, string>(); // value → worker that completed it
const perWorker = new Map<string, number>();
let fixed = false; // the poison record's bug, until a fix is "deployed"

type Behaviour = "steady" | "slow" | "flaky" | "crashing";
const workers = new Map<string, ShareConsumer<string>>();

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
    eachRecord: async (record) => {
      if (record.deliveryCount > 1)
        say(`${name} ← ${where(record)} ${record.value}, delivery ${record.deliveryCount}`);
      if (behaviour === "crashing" && first) {
        first = false;
        say(`${name} CRASHES holding ${worker.held} records (no acknowledgement, no leave)`);
        worker.abort();
        return new Promise<never>(() => {});
      }
      if (record.value === MALFORMED && !fixed) {
        say(`${name} rejects ${where(record)} ${record.value}: malformed → archived at once`);
        return record.reject();
      }
      if (record.value === POISON && !fixed) {
        say(
          `${name} fails on ${where(record)} ${record.value} (delivery ${record.deliveryCount} of ${DELIVERY_LIMIT})`,
        );
        throw new Error("poison");
      }
      if (behaviour === "flaky" && record.deliveryCount === 1) {
        say(`${name} (flaky) fails ${where(record)} ${record.value}: released for redelivery`);
        throw new Error("flaky");
      }
      if (behaviour === "slow" && first) {
        first = false;
        say(
          `${name} (slow) takes ${(LOCK_MS * 1.75) / 1000} s on ${where(record)}: longer than its ${LOCK_MS} ms lock`,
        );
        await sleep(LOCK_MS * 1.75);
        say(
          `${name} (slow) done with ${where(record)}, delivery ${record.deliveryCount}: renewed, nobody else got it`,
        );
      }
      await sleep(120);
      if (processed.has(record.value)) say(`  (${record.value} done again by ${name}: at-least-once)`);
      processed.set(record.value, name);
      perWorker.set(name, (perWorker.get(name) ?? 0) + 1);
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

const total = () => PARTITIONS * 12 + 8;
const pending = () =>
  total() - 2 - [...processed.keys()].filter((v) => v !== POISON && v !== MALFORMED).length;
for (let waited = 0; (pending() > 0 || waited < LOCK_MS * 3) && waited < 25_000; waited += 250)
  await sleep(250);
await producer;
say(
  `all jobs but two done: ${[...perWorker]
    .map(([w, n]) => `${w}=${n}`)
    .sort()
    .join(" ")} (w6 crashed)`,
);

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
