/**
 * Commits under a fence that no longer holds, sent as a zombie or a delayed retry would: a classic
 * generation the group has moved past, a consumer-protocol epoch older than the member's, a member that
 * left. The coordinator must refuse them (API.md §3) and change nothing; the SDK's commit(offsets)
 * outside a membership must refuse too rather than commit without a fence.
 */

import { expect, it } from "vitest";
import { CommitStrategies } from "../../src/client/commit-strategy.ts";
import { MemoryLog } from "../../src/client/memory-log.ts";
import { consumer, freshGroup, until } from "../sdk/sdk-helpers";
import { committedOf, raw } from "./black-box";

const TOPICS = { orders: 4 };
const log = () => MemoryLog.filled(TOPICS, 10, (t, p, o) => `${t}-${p}-${o}`);
const CLASSIC = {
  protocol: "classic" as const,
  topics: TOPICS,
  assignors: ["cooperative-sticky"],
  sessionTimeoutMs: 1_500,
  heartbeatIntervalMs: 200,
  rebalanceTimeoutMs: 3_000,
  commit: CommitStrategies.afterEach(),
};
const offsets = [{ topic: "orders", partition: 0, offset: 3 }];

/** A consumer-protocol member that has processed and committed everything (offset 10 everywhere). */
async function caughtUp(group: string) {
  const c = consumer(group, log(), { topics: TOPICS, commit: CommitStrategies.afterEach() });
  await c.start(() => {});
  await until("everything committed", async () => (await committedOf(group, "orders", 0)) === 10);
  return c;
}

it("classic: a commit under a generation the group moved past (a cooperative round) is ILLEGAL_GENERATION and changes nothing", async () => {
  const group = freshGroup("adv-fence-classic");
  const a = consumer(group, log(), CLASSIC);
  await a.start(() => {});
  await until("a committed everything", async () => (await committedOf(group, "orders", 0)) === 10);
  const old = { memberId: a.memberId, generationId: a.epoch };
  const b = consumer(group, log(), CLASSIC);
  await b.start(() => {});
  await until("a moved on to a newer generation", () => a.epoch > old.generationId);
  const stale = await raw("POST", `/v1/groups/${group}/offsets`, { ...old, offsets });
  expect(stale.status).toBe(409);
  expect(stale.body.error.code).toBe("ILLEGAL_GENERATION");
  expect(await committedOf(group, "orders", 0)).toBe(10);
  // A generation from the future, and a member id never issued, are refused too.
  const future = await raw("POST", `/v1/groups/${group}/offsets`, {
    ...old,
    generationId: a.epoch + 5,
    offsets,
  });
  expect(future.body.error?.code).toBe("ILLEGAL_GENERATION");
  const ghost = await raw("POST", `/v1/groups/${group}/offsets`, {
    memberId: "ghost",
    generationId: a.epoch,
    offsets,
  });
  expect(ghost.body.error?.code).toBe("UNKNOWN_MEMBER_ID");
  await Promise.all([a.close(), b.close()]);
  expect(await committedOf(group, "orders", 0)).toBe(10);
});

it("consumer protocol: an older member epoch is STALE_MEMBER_EPOCH; a member that left is UNKNOWN_MEMBER_ID", async () => {
  const group = freshGroup("adv-fence-consumer");
  const a = await caughtUp(group);
  const old = { memberId: a.memberId, memberEpoch: a.epoch };
  const b = consumer(group, log(), { topics: TOPICS, commit: CommitStrategies.afterEach() });
  await b.start(() => {});
  await until("a moved to a newer epoch", () => a.epoch > old.memberEpoch);
  const stale = await raw("POST", `/v1/groups/${group}/offsets`, { ...old, offsets });
  expect(stale.status).toBe(409);
  expect(stale.body.error.code).toBe("STALE_MEMBER_EPOCH");
  await a.close();
  const afterLeave = await raw("POST", `/v1/groups/${group}/offsets`, {
    memberId: old.memberId,
    memberEpoch: old.memberEpoch + 1,
    offsets,
  });
  expect(afterLeave.body.error?.code).toBe("UNKNOWN_MEMBER_ID");
  // A "simple" commit (no member) while b is a member is refused as well.
  const simple = await raw("POST", `/v1/groups/${group}/offsets`, { offsets });
  expect(simple.body.error?.code).toBe("UNKNOWN_MEMBER_ID");
  await b.close();
  expect(await committedOf(group, "orders", 0)).toBe(10);
});

it("the SDK's commit(offsets) after close() or abort() refuses instead of committing without a live fence", async () => {
  const group = freshGroup("adv-fence-sdk");
  const a = await caughtUp(group);
  await a.close();
  await expect(a.commit(offsets)).rejects.toBeDefined();
  const b = consumer(group, log(), { topics: TOPICS, commit: CommitStrategies.afterEach() });
  await b.start(() => {});
  b.abort(); // crashed: a crashed process commits nothing more
  const outcome = await b.commit(offsets).then(
    () => "committed",
    () => "refused",
  );
  expect.soft(outcome).toBe("refused");
  expect(await committedOf(group, "orders", 0)).toBe(10); // 3 would move it backward, by a "crashed" member
});

it("commit(offsets) with offsets outside API.md §1 is refused without changing anything", async () => {
  const group = freshGroup("adv-fence-range");
  const a = consumer(group, log(), { topics: TOPICS, commit: CommitStrategies.manual() });
  await a.start(() => {});
  for (const offset of [-1, 0.5, Number.NaN, 2 ** 53, Number.MAX_VALUE])
    await expect(
      a.commit([{ topic: "orders", partition: 0, offset }]),
      `offset ${offset}`,
    ).rejects.toBeDefined();
  await expect(a.commit([{ topic: "orders", partition: -1, offset: 1 }])).rejects.toBeDefined();
  await expect(a.commit([{ topic: "bad topic!", partition: 0, offset: 1 }])).rejects.toBeDefined();
  expect(await committedOf(group, "orders", 0)).toBe(-1);
  await a.close();
});
