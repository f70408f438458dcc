/**
 * Partitions lost while a handler is still running on them, as the network or an operator makes it
 * happen: the member is removed behind its back (a leave sent with its id, as a duplicate process or a
 * proxy replaying one would), its next heartbeat finds it unknown, it reports the partitions lost and
 * rejoins — and, alone in the group, gets the same partition straight back. Promised (README): lost
 * means nothing is committed for those partitions; each partition stays in order (one record of a
 * partition handled at a time); pause/resume keep working across it.
 */

import { expect, it } from "vitest";
import { CommitStrategies } from "../../src/client/commit-strategy.ts";
import type { TopicPartition } from "../../src/client/partitions.ts";
import { consumer, freshGroup, newLog, sleep, until } from "../sdk/sdk-helpers";
import { CallLog, committedOf, expectNoOverlap, Gate, raw } from "./black-box";

const ONE = { orders: 1 };

/** Removes the member from the group as if it had left (KIP-848 leave, epoch −1). */
const removeBehindItsBack = (group: string, memberId: string) =>
  raw("POST", `/v1/groups/${group}/heartbeat`, { memberId, memberEpoch: -1 });

it.each([1, 2])(
  "a partition lost and regained while its handler still runs is not handed out twice at once (partitionsConsumedConcurrently %i)",
  async (concurrency) => {
    const group = freshGroup("adv-lost");
    const log = new CallLog();
    const lost: TopicPartition[][] = [];
    const gate = new Gate();
    let blockedOnce = false;
    const c = consumer(group, newLog(), {
      topics: ONE,
      commit: CommitStrategies.afterEach(),
      listener: { onPartitionsLost: (ps) => void lost.push(ps) },
    });
    await c.start({
      partitionsConsumedConcurrently: concurrency,
      eachMessage: ({ partition, message, heartbeat }) =>
        log.around(c.memberId, partition, message.offset, async () => {
          if (message.offset !== 2 || blockedOnce) return;
          blockedOnce = true;
          // A slow record that stays alive (heartbeat), so the member is not the one at fault.
          await gate.hold(heartbeat);
        }),
    });
    await until("offset 2 in hand", () => blockedOnce);
    const memberId = c.memberId;
    expect((await removeBehindItsBack(group, memberId)).status).toBe(200);
    await until("the partition reported lost", () => lost.length > 0);
    await until("the partition owned again", () => c.assignment().length === 1);
    await sleep(800); // room for a second handler on partition 0 to start, if the SDK starts one
    gate.open();
    await until("the end reached", () => log.calls.some((x) => x.offset === 24));
    await c.close();
    expect(lost).toEqual([[{ topic: "orders", partition: 0 }]]);
    expectNoOverlap(log);
  },
);

it("lost partitions are not committed: the record in hand when the membership went is not committed by it", async () => {
  const group = freshGroup("adv-lost-commit");
  const gate = new Gate();
  let inHand = false;
  let lost = 0;
  const c = consumer(group, newLog(), {
    topics: ONE,
    commit: CommitStrategies.afterEach(),
    listener: { onPartitionsLost: () => void lost++ },
  });
  await c.start({
    eachMessage: async ({ message, heartbeat }) => {
      if (message.offset !== 3 || inHand) return;
      inHand = true;
      await gate.hold(heartbeat);
    },
  });
  await until("offset 3 in hand", () => inHand);
  await until("0..2 committed", async () => (await committedOf(group, "orders", 0)) === 3);
  c.pause([{ topic: "orders" }]); // nothing after 3 is handed out once regained: the commit is 3's alone
  await removeBehindItsBack(group, c.memberId);
  await until("lost reported", () => lost > 0);
  gate.open();
  await sleep(600);
  // The lost member's handler finished record 3: that completion belongs to no membership.
  expect(await committedOf(group, "orders", 0)).toBe(3);
  await c.close();
});

it("pause survives losing and regaining the partition; lost is not reported as revoked; resume restarts it", async () => {
  const group = freshGroup("adv-lost-pause");
  const log = new CallLog();
  const lost: TopicPartition[][] = [];
  const revoked: TopicPartition[][] = [];
  const c = consumer(group, newLog(), {
    topics: ONE,
    commit: CommitStrategies.afterEach(),
    listener: {
      onPartitionsLost: (ps) => void lost.push(ps),
      onPartitionsRevoked: (ps) => void revoked.push(ps),
    },
  });
  await c.start(({ partition, offset }) =>
    log.around("c", partition, offset, () => {
      if (offset === 5) c.pause([{ topic: "orders", partitions: [0] }]);
    }),
  );
  await until("paused at 5", () => log.calls.some((x) => x.offset === 5));
  await removeBehindItsBack(group, c.memberId);
  await until("lost and owned again", () => lost.length > 0 && c.assignment().length === 1);
  await sleep(400);
  expect(log.calls.map((x) => x.offset)).toEqual([0, 1, 2, 3, 4, 5]); // still paused
  const epoch = c.epoch;
  c.resume([{ topic: "orders" }]);
  await until("the end reached", () => log.calls.some((x) => x.offset === 24));
  expect(c.epoch).toBe(epoch);
  expect(revoked).toEqual([]); // lost, not revoked: onPartitionsRevoked is for a cooperative hand-over
  await c.close();
  expect(log.missing(0, 25)).toEqual([]);
  expectNoOverlap(log);
});
