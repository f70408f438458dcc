/**
 * Topics named after Object.prototype's members (`__proto__`, `constructor`, `toString`,
 * `hasOwnProperty`: valid names per API.md) through the SDK on the real coordinator: both protocols
 * assign, process and commit every partition, and the admin client reads and deletes their offsets.
 * The SDK keys nothing a client names by a plain object, so none of them is lost or misread.
 */

import { describe, expect, it } from "vitest";
import { CohortAdmin } from "../../src/client/admin.ts";
import { CommitStrategies } from "../../src/client/commit-strategy.ts";
import { MemoryLog } from "../../src/client/memory-log.ts";
import { describePartitions } from "../../src/client/partitions.ts";
import { consumer, freshGroup, until, workerFetch } from "./sdk-helpers";

const admin = new CohortAdmin({ url: "http://cohort.test", fetch: workerFetch });
// Built from entries: a `{ __proto__: 2 }` literal would set the prototype, not name a topic.
const TOPICS: Record<string, number> = Object.fromEntries([
  ["__proto__", 2],
  ["constructor", 2],
  ["toString", 1],
  ["hasOwnProperty", 1],
]);
const RECORDS = 5;
const PARTITIONS = 6;
const ALL = "__proto__:0,1 constructor:0,1 hasOwnProperty:0 toString:0";

describe.each(["consumer", "classic"] as const)("prototype-named topics, %s protocol", (protocol) => {
  it("are assigned, processed and committed; the admin reads and deletes their offsets", async () => {
    const group = freshGroup(`proto-${protocol}`);
    const log = MemoryLog.filled(TOPICS, RECORDS, (t, p, o) => `${t}-${p}-${o}`);
    const seen = new Set<string>();
    const c = consumer(group, log, {
      topics: TOPICS,
      protocol,
      commit: CommitStrategies.afterEach(),
      ...(protocol === "classic" ? { sessionTimeoutMs: 3_000, heartbeatIntervalMs: 300 } : {}),
    });
    await c.start((r) => void seen.add(`${r.topic}/${r.partition}/${r.offset}`));
    await until("every partition assigned", () => c.assignment().length === PARTITIONS);
    expect(describePartitions(c.assignment())).toBe(ALL);
    await until("every record processed", () => seen.size === PARTITIONS * RECORDS);
    await c.close();

    const committed = await c.committed();
    expect([...committed.entries()].sort()).toEqual(
      ["__proto__/0", "__proto__/1", "constructor/0", "constructor/1", "hasOwnProperty/0", "toString/0"].map(
        (key) => [key, RECORDS],
      ),
    );
    const { offsets } = await admin.fetchOffsets(group, ["__proto__", "toString"]);
    expect(offsets.map((o) => `${o.topic}/${o.partition}=${o.offset}`)).toEqual([
      "__proto__/0=5",
      "__proto__/1=5",
      "toString/0=5",
    ]);
    expect(await admin.fetchOffset(group, "__proto__", 1)).toMatchObject({ topic: "__proto__", offset: 5 });
    const lag = await admin.lag(group);
    expect(lag.partitions.map((p) => p.topic).sort()).toEqual([
      "__proto__",
      "__proto__",
      "constructor",
      "constructor",
      "hasOwnProperty",
      "toString",
    ]);
    expect(await admin.deleteOffsets(group, "constructor")).toEqual({ deleted: 2 });
    expect((await c.committed()).has("constructor/0")).toBe(false);
  });
});
