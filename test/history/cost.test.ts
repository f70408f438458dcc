import { expect, it } from "vitest";
import { beat, join, type Member } from "../consumer/consumer-helpers";
import { call, commit, freshGroup } from "../integration/helpers";
import { inObject } from "../integration/inject-failure";

async function counts(g: string): Promise<{ written: number; seq: number }> {
  return inObject(g, (instance, state) => {
    let seq = 0;
    try {
      seq =
        (state.storage.sql.exec("SELECT MAX(seq) AS n FROM history_events").one().n as number | null) ?? 0;
    } catch {
      // No history table: the tree before history.
    }
    return { written: instance.store.rowsWritten, seq };
  });
}

async function measure(scenario: string, g: string, step: () => Promise<unknown>) {
  await call("GET", `/v1/groups/${g}`);
  const before = await counts(g);
  await step();
  const after = await counts(g);
  const result = { scenario, written: after.written - before.written, events: after.seq - before.seq };
  console.log(`history-cost ${JSON.stringify(result)}`);
  return result;
}

async function settle(g: string, members: Member[]) {
  for (let round = 0; round < 8; round++) {
    for (const m of members) await beat(g, m);
    if ((await call("GET", `/v1/groups/${g}`)).body.state === "Stable") return;
  }
  throw new Error("not settled");
}

it("rows written per rebalance and per commit", async () => {
  const g = freshGroup("cost");
  const members: Member[] = [];
  const ten = await measure("consumer: 10 members join one by one, settled each time", g, async () => {
    for (let i = 0; i < 10; i++) {
      members.push(await join(g, `m${i}`, { t: 20 }));
      await settle(g, members);
    }
  });
  const one = await measure("consumer: +1 member to 10, settled", g, async () => {
    members.push(await join(g, "m10", { t: 20 }));
    await settle(g, members);
  });
  const steady = await measure("consumer: 11 steady heartbeats", g, async () => {
    for (const m of members) await beat(g, m);
  });
  expect(steady).toMatchObject({ written: 0, events: 0 });
  expect(ten.written).toBeGreaterThan(ten.events);
  expect(one.written).toBeGreaterThan(one.events);

  const c = freshGroup("cost");
  const plain = await measure("commit: 1 partition, no log end", c, () =>
    commit(c, [{ topic: "t", partition: 0, offset: 1 }]),
  );
  const again = await measure("commit: 1 partition, no log end (existing group)", c, () =>
    commit(c, [{ topic: "t", partition: 0, offset: 2 }]),
  );
  const hundred = await measure("commit: 100 partitions", c, () =>
    commit(
      c,
      Array.from({ length: 100 }, (_, partition) => ({ topic: "t", partition, offset: 3 })),
    ),
  );
  const sampled = await measure("commit: 1 partition with logEndOffset, first of its minute", c, () =>
    commit(c, [{ topic: "t", partition: 0, offset: 4, logEndOffset: 9 }]),
  );
  const sameMinute = await measure("commit: 1 partition with logEndOffset, same minute", c, () =>
    commit(c, [{ topic: "t", partition: 0, offset: 5, logEndOffset: 9 }]),
  );
  expect([again.written, hundred.written]).toEqual([1, 100]);
  expect([again.events, hundred.events, plain.events, sampled.events]).toEqual([0, 0, 0, 0]);
  expect(sameMinute.written).toBe(1);
});
