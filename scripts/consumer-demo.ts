/**
 * `npm run demo` (or `npm run demo -- consumer`): a local coordinator, a simulated partitioned log with
 * a producer, and SDK consumers that join, crash, get fenced and restart with static membership —
 * printing live which consumer owns which partitions, and the lag table at the end. Runs unattended in
 * about half a minute.
 */

import { describeOffsets } from "../src/cli/commands.ts";
import { CohortConsumer, describePartitions, MemoryLog } from "../src/client/index.ts";
import { startLocalCoordinator } from "./local-coordinator.ts";

const SESSION_TIMEOUT_MS = 2_000;
const TOPICS = { orders: 6 };
const GROUP = "demo-billing";
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const started = Date.now();
const say = (text: string) =>
  console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${text}`);

console.log("Starting a local cohort coordinator (workerd)…");
const coordinator = await startLocalCoordinator({
  CONSUMER_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
  CONSUMER_HEARTBEAT_INTERVAL_MS: "500",
});
say(`coordinator on ${coordinator.url}`);

// The simulated log: a producer appends to random partitions; consumers read through MemoryLog.fetch.
const log = new MemoryLog<string>();
let producing = true;
const producer = (async () => {
  for (let n = 0; producing; n++) {
    log.append("orders", n % TOPICS.orders, `order-${n}`);
    await sleep(15);
  }
})();

const consumers = new Map<string, CohortConsumer<string>>();
function startConsumer(name: string, groupInstanceId?: string): Promise<void> {
  const consumer = new CohortConsumer<string>({
    url: coordinator.url,
    groupId: GROUP,
    topics: TOPICS,
    source: log,
    clientId: name,
    groupInstanceId,
    idleMs: 50,
    listener: {
      onPartitionsRevoked: (ps) =>
        say(`${name}: revoked ${describePartitions(ps)} (offsets committed first)`),
      onPartitionsLost: (ps) => say(`${name}: LOST ${describePartitions(ps)}`),
    },
  });
  consumers.set(name, consumer);
  return consumer.start(() => sleep(2)); // "processing" a record takes 2 ms
}

// Prints the ownership whenever it changes.
let shown = "";
const watcher = setInterval(() => {
  const line = [...consumers]
    .map(([name, c]) => `${name}=[${describePartitions(c.assignment()).replace("orders:", "")}]`)
    .join("  ");
  if (line !== shown) say(`owners  ${line}`);
  shown = line;
}, 100);

say("c1 joins");
await startConsumer("c1");
await sleep(1_500);
say("c2 joins");
await startConsumer("c2");
await sleep(1_500);
say("c3 joins with static membership (groupInstanceId worker-3)");
await startConsumer("c3", "worker-3");
await sleep(2_000);

say(
  `c2 is killed (no commit, no leave): its partitions move once the coordinator fences it (~${SESSION_TIMEOUT_MS} ms)`,
);
consumers.get("c2")!.abort();
consumers.delete("c2");
await sleep(SESSION_TIMEOUT_MS + 2_000);

say("c3 restarts (static leave, then rejoin as worker-3): it gets the same partitions back, no rebalance");
const before = describePartitions(consumers.get("c3")!.assignment());
await consumers.get("c3")!.close();
consumers.delete("c3");
await startConsumer("c3", "worker-3");
await sleep(1_000);
say(`c3 owned ${before} before and ${describePartitions(consumers.get("c3")!.assignment())} now`);

say("the producer stops; consumers catch up and close (committing what they processed)");
producing = false;
await producer;
await sleep(2_000);
clearInterval(watcher);
const admin = consumers.get("c1")!.admin;
await Promise.all([...consumers.values()].map((c) => c.close()));

console.log("\n$ cohort groups describe demo-billing");
console.log((await describeOffsets(admin, GROUP)).text);
console.log(
  "(worker-3 left as a static member: it keeps its partitions reserved until its session expires)\n",
);
await coordinator.stop();
say("done");
