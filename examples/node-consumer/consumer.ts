/**
 * A Node consumer of cohort: joins the group "node-example" with the consumer protocol, reads a
 * simulated partitioned log (replace MemoryLog with your source: a Kafka REST proxy, Kinesis, Redis…),
 * commits after every 50 records, and on Ctrl-C commits what is pending and leaves the group.
 */

import { CohortConsumer, CommitStrategies, describePartitions, MemoryLog } from "../../src/client/index.ts";

const log = MemoryLog.filled({ orders: 4 }, 1_000, (_topic, partition, offset) => ({ partition, offset }));

const consumer = new CohortConsumer({
  url: process.env.COHORT_URL ?? "http://127.0.0.1:8787",
  token: process.env.COHORT_TOKEN,
  groupId: "node-example",
  topics: { orders: 4 },
  source: log,
  clientId: `node-${process.pid}`,
  commit: CommitStrategies.afterBatch(50),
  listener: {
    onPartitionsAssigned: (ps) => console.log("assigned", describePartitions(ps)),
    onPartitionsRevoked: (ps) => console.log("revoked", describePartitions(ps)),
    onPartitionsLost: (ps) => console.log("lost", describePartitions(ps)),
  },
});

let processed = 0;
await consumer.start(async (record) => {
  processed++;
  if (record.offset % 250 === 0) console.log(`partition ${record.partition} at offset ${record.offset}`);
});
console.log(`member ${consumer.memberId} (epoch ${consumer.epoch}); Ctrl-C to stop`);

const stopAfterMs = Number(process.env.STOP_AFTER_MS ?? 0);
const stop = async () => {
  await consumer.close();
  console.log(`closed after ${processed} records`);
};
process.once("SIGINT", stop);
if (stopAfterMs > 0) setTimeout(stop, stopAfterMs);
await consumer.done();
