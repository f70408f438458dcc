/**
 * Over HTTP, topics named after Object.prototype's keys (valid per API.md §1): a consumer group on
 * `__proto__`, `constructor`, `toString` and `hasOwnProperty` reaches Stable with every partition told
 * to exactly one member; heartbeats reporting `__proto__` are answered (no 503); commits, fetches and
 * lag on those topics work; the group restarts from its rows with the same assignment.
 */

import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { call, freshGroup } from "./helpers";

const TOPICS = ["__proto__", "constructor", "toString", "hasOwnProperty"];
const PARTITIONS = 3;

type Tps = { topic: string; partitions: number[] }[];
interface Told {
  memberEpoch: number;
  owned: Tps;
}

async function beat(g: string, memberId: string, body: Record<string, unknown>): Promise<Told> {
  const res = await call("POST", `/v1/groups/${g}/heartbeat`, { memberId, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { memberEpoch: res.body.memberEpoch, owned: res.body.assignment.partitions };
}

/** Every partition of every topic told to exactly one member. */
function expectEachOnce(told: Map<string, Told>): void {
  const owners = new Map<string, string>();
  for (const [id, t] of told) {
    for (const tp of t.owned) {
      for (const p of tp.partitions) {
        const key = `${tp.topic}/${p}`;
        expect(owners.get(key), `${key} told to two members`).toBeUndefined();
        owners.set(key, id);
      }
    }
  }
  const all = TOPICS.flatMap((t) => Array.from({ length: PARTITIONS }, (_, p) => `${t}/${p}`));
  expect([...owners.keys()].sort()).toEqual(all.sort());
}

async function settle(g: string, told: Map<string, Told>): Promise<void> {
  for (let round = 0; round < 8; round++) {
    for (const [id, t] of told)
      told.set(id, await beat(g, id, { memberEpoch: t.memberEpoch, ownedPartitions: t.owned }));
    if (round > 0 && (await call("GET", `/v1/groups/${g}`)).body.state === "Stable") break;
  }
  // A member learns of partitions released after its heartbeat at its next one.
  for (const [id, t] of told)
    told.set(id, await beat(g, id, { memberEpoch: t.memberEpoch, ownedPartitions: t.owned }));
}

it("assigns prototype-named topics, each partition exactly once, and serves their offsets", async () => {
  const g = freshGroup();
  const told = new Map<string, Told>();
  const subscribedTopics = TOPICS.map((name) => ({ name, partitions: PARTITIONS }));
  for (const id of ["a", "b", "c"])
    told.set(id, await beat(g, id, { memberEpoch: 0, subscribedTopics, ownedPartitions: [] }));
  await settle(g, told);
  expect((await call("GET", `/v1/groups/${g}`)).body.state).toBe("Stable");
  expectEachOnce(told);

  // A report naming __proto__ partitions the member does not hold is answered, not a 503.
  const a = told.get("a")!;
  const odd = await call("POST", `/v1/groups/${g}/heartbeat`, {
    memberId: "a",
    memberEpoch: a.memberEpoch,
    ownedPartitions: [...a.owned, { topic: "__proto__", partitions: [0, 1, 2] }],
  });
  expect(odd.status).toBeLessThan(500);

  // Commits and lag on those topics.
  const entry = a.owned[0]!;
  const committed = await call("POST", `/v1/groups/${g}/offsets`, {
    memberId: "a",
    memberEpoch: a.memberEpoch,
    offsets: [{ topic: entry.topic, partition: entry.partitions[0], offset: 5, logEndOffset: 9 }],
  });
  expect(committed.status).toBe(200);
  const fetched = await call(
    "GET",
    `/v1/groups/${g}/offsets?topic=__proto__&topic=constructor&topic=toString`,
  );
  expect(fetched.status).toBe(200);
  const lag = await call("GET", `/v1/groups/${g}/lag`);
  expect(lag.status).toBe(200);
  expect(lag.body.partitions).toHaveLength(TOPICS.length * PARTITIONS);
  expect(lag.body.totalLag).toBe(4);
});

it("restarts from its rows with the same assignment, and keeps assigning", async () => {
  const g = freshGroup();
  const told = new Map<string, Told>();
  const subscribedTopics = TOPICS.map((name) => ({ name, partitions: PARTITIONS }));
  for (const id of ["a", "b"])
    told.set(id, await beat(g, id, { memberEpoch: 0, subscribedTopics, ownedPartitions: [] }));
  await settle(g, told);
  const before = (await call("GET", `/v1/groups/${g}`)).body;
  await evictDurableObject(env.GROUPS.getByName(g));
  expect((await call("GET", `/v1/groups/${g}`)).body.members).toEqual(before.members);
  told.set("c", await beat(g, "c", { memberEpoch: 0, subscribedTopics, ownedPartitions: [] }));
  await settle(g, told);
  expect((await call("GET", `/v1/groups/${g}`)).body.state).toBe("Stable");
  expectEachOnce(told);
  expect(told.get("c")!.owned.length).toBeGreaterThan(0);
});
