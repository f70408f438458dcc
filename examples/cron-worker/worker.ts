/**
 * A Cron-triggered Worker that consumes for a few seconds per invocation. Static membership
 * (groupInstanceId) makes each invocation take back the same partitions without a rebalance, and
 * close() commits what was processed and leaves temporarily so the partitions stay reserved until the
 * next run. Records come from an HTTP log API (e.g. a Kafka REST proxy) behind LOG_URL.
 */

import { CohortConsumer, CommitStrategies, type RecordSource } from "../../src/client/index.ts";

interface Env {
  COHORT: Fetcher; // a service binding to the cohort Worker
  COHORT_TOKEN: string;
  LOG_URL: string;
  INSTANCE: string; // "cron-a", "cron-b", … one per deployed copy
}

/** Reads records over HTTP: GET {LOG_URL}/topics/{t}/partitions/{p}?offset=…&max=… */
function httpSource(base: string): RecordSource<unknown> {
  return {
    async fetch(topic, partition, fromOffset, maxRecords) {
      const url = `${base}/topics/${topic}/partitions/${partition}?offset=${fromOffset}&max=${maxRecords}`;
      const response = await fetch(url);
      if (!response.ok) throw new Error(`log API answered ${response.status}`);
      return (await response.json()) as Awaited<ReturnType<RecordSource<unknown>["fetch"]>>;
    },
  };
}

export default {
  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
    const consumer = new CohortConsumer({
      url: "https://cohort", // the host is ignored by the service binding
      fetch: (input, init) => env.COHORT.fetch(input, init),
      token: env.COHORT_TOKEN,
      groupId: "orders-cron",
      groupInstanceId: env.INSTANCE,
      topics: { orders: 12 },
      source: httpSource(env.LOG_URL),
      commit: CommitStrategies.afterBatch(100),
      watch: false, // a short-lived invocation heartbeats over HTTP only
    });
    await consumer.start(async (record) => {
      console.log(`orders/${record.partition}@${record.offset}`, record.value);
    });
    // Work for 20 s of the invocation, then commit and leave (temporarily: static member).
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    ctx.waitUntil(consumer.close());
  },
};
