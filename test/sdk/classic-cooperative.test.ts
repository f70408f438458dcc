/**
 * Cooperative incremental rebalancing (KIP-429) of the classic SDK consumer on the real coordinator,
 * observed from outside: every member's rebalance callbacks are recorded as they happen while a third
 * member joins two and then one of the first two leaves. A partition that stays with its member is
 * never revoked; only the ones that move are, and every partition ends owned exactly once. The eager
 * protocol, run the same way, revokes everything, which is what the cooperative one avoids.
 */

import { expect, it } from "vitest";
import { CommitStrategies } from "../../src/client/commit-strategy.ts";
import { MemoryLog } from "../../src/client/memory-log.ts";
import { keyOf, type TopicPartition } from "../../src/client/partitions.ts";
import { consumer, freshGroup, until } from "./sdk-helpers";

const TOPICS = { orders: 6 };
const CLASSIC = {
  protocol: "classic" as const,
  topics: TOPICS,
  sessionTimeoutMs: 1_500,
  heartbeatIntervalMs: 200,
  rebalanceTimeoutMs: 3_000,
  commit: CommitStrategies.afterEach(),
};

interface Callback {
  member: string;
  kind: "assigned" | "revoked" | "lost";
  partitions: string[];
}

const keys = (ps: TopicPartition[]) => ps.map((tp) => keyOf(tp)).sort();

async function scenario(assignors: string[]) {
  const group = freshGroup("cooperative");
  const log = MemoryLog.filled(TOPICS, 10, (t, p, o) => `${t}-${p}-${o}`);
  const callbacks: Callback[] = [];
  const handled = new Map<string, number>();
  const member = (name: string) => {
    const c = consumer(group, log, {
      ...CLASSIC,
      assignors,
      clientId: name,
      listener: {
        onPartitionsAssigned: (ps) =>
          void callbacks.push({ member: name, kind: "assigned", partitions: keys(ps) }),
        onPartitionsRevoked: (ps) =>
          void callbacks.push({ member: name, kind: "revoked", partitions: keys(ps) }),
        onPartitionsLost: (ps) => void callbacks.push({ member: name, kind: "lost", partitions: keys(ps) }),
      },
    });
    return { name, c };
  };
  const owners = (ms: { name: string; c: ReturnType<typeof consumer> }[]) =>
    new Map(ms.map(({ name, c }) => [name, keys(c.assignment())]));
  const settled = (ms: { c: ReturnType<typeof consumer> }[], each: number) =>
    ms.every(({ c }) => c.assignment().length === each) &&
    new Set(ms.flatMap(({ c }) => keys(c.assignment()))).size === 6;
  const handler = (r: { partition: number; offset: number }) =>
    void handled.set(`${r.partition}/${r.offset}`, (handled.get(`${r.partition}/${r.offset}`) ?? 0) + 1);

  const a = member("a");
  const b = member("b");
  await Promise.all([a.c.start(handler), b.c.start(handler)]);
  await until("a and b hold three each", () => settled([a, b], 3), 20_000);
  const phases = [{ before: owners([a, b]), from: callbacks.length }];

  const c = member("c");
  await c.c.start(handler);
  await until("a, b and c hold two each", () => settled([a, b, c], 2), 20_000);
  const afterJoin = owners([a, b, c]);
  phases.push({ before: afterJoin, from: callbacks.length });

  await a.c.close();
  await until("b and c hold three each", () => settled([b, c], 3), 20_000);
  const end = owners([b, c]);
  // Every record handled; after-each commits make duplicates only what a revocation interrupted.
  await until("every record handled", () => handled.size === 60);
  const ended = callbacks.length; // b's and c's own close() revokes come after
  await Promise.all([b.c.close(), c.c.close()]);
  return { callbacks: callbacks.slice(0, ended), phases, afterJoin, end };
}

it("cooperative-sticky: partitions that stay are never revoked; only moved ones are; each ends owned once", async () => {
  const { callbacks, phases, afterJoin, end } = await scenario(["cooperative-sticky"]);
  expect(callbacks.filter((cb) => cb.kind === "lost")).toEqual([]);

  // c joins: a and b each give up one partition (the minimum), nothing else; c gets them.
  const joinPhase = callbacks.slice(phases[0]!.from, phases[1]!.from);
  for (const name of ["a", "b"]) {
    const before = phases[0]!.before.get(name)!;
    const kept = afterJoin.get(name)!;
    const revoked = joinPhase
      .filter((cb) => cb.member === name && cb.kind === "revoked")
      .flatMap((cb) => cb.partitions);
    expect(revoked).toHaveLength(1);
    for (const p of revoked) expect(kept).not.toContain(p);
    expect(kept).toEqual(before.filter((p) => !revoked.includes(p)));
  }
  expect(afterJoin.get("c")).toHaveLength(2);

  // a leaves: it revokes what it owns (it is leaving); b and c revoke nothing and keep what they had.
  const leavePhase = callbacks.slice(phases[1]!.from);
  expect(leavePhase.filter((cb) => cb.kind === "revoked" && cb.member !== "a")).toEqual([]);
  for (const name of ["b", "c"])
    expect(end.get(name)!.filter((p) => afterJoin.get(name)!.includes(p))).toEqual(afterJoin.get(name));

  // Across the whole run, no member ever revoked a partition it owned at the end of that phase.
  for (const cb of callbacks.filter((x) => x.kind === "revoked" && x.member !== "a"))
    for (const p of cb.partitions) expect(end.get(cb.member)).not.toContain(p);
  // Every partition ends owned exactly once.
  const all = [...end.values()].flat();
  expect(all).toHaveLength(6);
  expect(new Set(all).size).toBe(6);
});

it("eager (range), the same scenario: every member revokes everything at every rebalance", async () => {
  const { callbacks, phases } = await scenario(["range"]);
  const joinPhase = callbacks.slice(phases[0]!.from, phases[1]!.from);
  for (const name of ["a", "b"]) {
    const revoked = joinPhase
      .filter((cb) => cb.member === name && cb.kind === "revoked")
      .flatMap((cb) => cb.partitions);
    expect(revoked.sort()).toEqual(phases[0]!.before.get(name));
  }
});
