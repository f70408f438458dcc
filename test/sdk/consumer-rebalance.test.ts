/**
 * Rebalance behaviour of the SDK consumer on the real coordinator: revocation before reassignment,
 * a fenced member's commit refused and the member rejoining, static membership, and the classic
 * protocol with the leader running the assignor.
 */

import { expect, it } from "vitest";
import { CommitStrategies } from "../../src/client/commit-strategy.ts";
import { CohortError } from "../../src/client/errors.ts";
import type { FetchLike } from "../../src/client/http.ts";
import { describePartitions, type TopicPartition } from "../../src/client/partitions.ts";
import { consumer, freshGroup, newLog, sleep, until, workerFetch } from "./sdk-helpers";

it("a's onPartitionsRevoked completes before b is assigned those partitions", async () => {
  const group = freshGroup("revoke");
  const log = newLog();
  const events: string[] = [];
  const listener = (name: string) => ({
    onPartitionsAssigned: (ps: TopicPartition[]) =>
      void events.push(`${name} assigned ${describePartitions(ps)}`),
    onPartitionsRevoked: async (ps: TopicPartition[]) => {
      events.push(`${name} revoking ${describePartitions(ps)}`);
      await sleep(300); // slow cleanup: the coordinator must wait for it
      events.push(`${name} revoked ${describePartitions(ps)}`);
    },
  });
  const a = consumer(group, log, { listener: listener("a"), commit: CommitStrategies.afterEach() });
  await a.start(() => sleep(2));
  expect(events).toEqual(["a assigned orders:0,1,2,3"]);
  const b = consumer(group, log, { listener: listener("b"), commit: CommitStrategies.afterEach() });
  await b.start(() => sleep(2));
  await until("b owns two partitions", () => b.assignment().length === 2);

  const revoking = events.findIndex((e) => e.startsWith("a revoking"));
  const revoked = events.findIndex((e) => e.startsWith("a revoked"));
  const bAssigned = events.findIndex((e) => e.startsWith("b assigned orders"));
  expect(revoking).toBeGreaterThan(0);
  expect(revoked).toBe(revoking + 1);
  expect(bAssigned).toBeGreaterThan(revoked);
  expect(events[bAssigned]!.replace("b assigned", "")).toBe(events[revoked]!.replace("a revoked", ""));
  expect(a.assignment().length).toBe(2);
  await Promise.all([a.close(), b.close()]);
});

it("a fenced consumer's pending commit is refused; it reports the partitions lost and rejoins", async () => {
  const group = freshGroup("fenced");
  const log = newLog();
  let partitioned = false;
  // A network partition for the consumer's heartbeats only: the coordinator stops hearing from it.
  const flaky: FetchLike = (input, init) =>
    partitioned && String(input).endsWith("/heartbeat")
      ? Promise.reject(new TypeError("network down"))
      : workerFetch(input, init);
  const lost: TopicPartition[][] = [];
  const c = consumer(group, log, {
    fetch: flaky,
    watch: false,
    commit: CommitStrategies.manual(),
    listener: { onPartitionsLost: (ps) => void lost.push(ps) },
  });
  await c.start(() => sleep(2));
  await until("some records processed", () => (c.position("orders", 0) ?? 0) > 3);
  const { memberId } = c;
  expect(c.epoch).toBeGreaterThan(0);

  partitioned = true;
  await sleep(2_200); // past CONSUMER_SESSION_TIMEOUT_MS=1500: the coordinator's alarm fences the member
  const refused = await c.commit().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(refused).toBeInstanceOf(CohortError);
  expect(["UNKNOWN_MEMBER_ID", "FENCED_MEMBER_EPOCH"]).toContain((refused as CohortError).code);
  expect(lost).toEqual([[0, 1, 2, 3].map((partition) => ({ topic: "orders", partition }))]);
  expect((await c.committed()).size).toBe(0); // nothing of the refused commit was stored

  partitioned = false;
  await until("the consumer rejoined with its partitions", () => c.assignment().length === 4 && c.epoch > 0);
  expect(c.memberId).toBe(memberId);
  // Member again: a commit under the new epoch is accepted.
  await until("records processed after rejoining", () => (c.position("orders", 1) ?? 0) > 0);
  const position = c.position("orders", 1);
  await c.commit();
  expect((await c.committed()).get("orders/1")).toBeGreaterThanOrEqual(position!);
  await c.close();
});

it("a static member restarted with the same groupInstanceId gets its partitions back", async () => {
  const group = freshGroup("static");
  const log = newLog();
  const a = consumer(group, log, { groupInstanceId: "worker-a" });
  const b = consumer(group, log, { groupInstanceId: "worker-b" });
  await a.start(() => {});
  await b.start(() => {});
  await until("both own partitions", () => a.assignment().length === 2 && b.assignment().length === 2);
  const before = describePartitions(a.assignment());
  await a.close(); // a static member leaves temporarily (epoch -2): its partitions stay reserved
  const again = consumer(group, log, { groupInstanceId: "worker-a" });
  await again.start(() => {});
  await until("the restarted instance owns partitions", () => again.assignment().length === 2);
  expect(describePartitions(again.assignment())).toBe(before);
  await Promise.all([again.close(), b.close()]);
});

it("classic protocol: the leader's assignor splits the partitions; commits carry the generation", async () => {
  const group = freshGroup("classic");
  const log = newLog();
  const options = { protocol: "classic" as const, sessionTimeoutMs: 3_000, heartbeatIntervalMs: 200 };
  const seen = new Set<string>();
  const a = consumer(group, log, { ...options, commit: CommitStrategies.afterBatch(5) });
  const b = consumer(group, log, { ...options, commit: CommitStrategies.afterBatch(5) });
  const handler = (r: { partition: number; offset: number }) => void seen.add(`${r.partition}/${r.offset}`);
  await Promise.all([a.start(handler), b.start(handler)]);
  await until("both hold two partitions", () => a.assignment().length === 2 && b.assignment().length === 2);
  await until("every record processed", () => seen.size === 100);
  await Promise.all([a.close(), b.close()]);
  const committed = await a.committed();
  expect([...committed.values()]).toEqual([25, 25, 25, 25]);
});
