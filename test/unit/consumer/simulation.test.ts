/**
 * Randomized schedules against the consumer-group core: joins, leaves (dynamic and static), crashes,
 * lost responses and pushes, subscription changes, partition-count growth and clock advance over up
 * to 20 members. After every step: no partition is held by two members by what each was last told,
 * no member was told a partition the coordinator does not count as its own, and epochs never go back.
 * At the end, with members heartbeating and nothing lost, the group converges to its target.
 */

import fc from "fast-check";
import { expect, it } from "vitest";
import type { ConsumerGroup } from "../../../src/core/consumer/consumer-group";
import {
  fromList,
  isSubset,
  type PartitionMap,
  samePartitions,
  toList,
  union,
} from "../../../src/core/consumer/partitions";
import { partitionKey } from "../../../src/core/group";
import { Harness } from "./harness";

const SLOTS = 20;
const TOPICS = ["t", "u"] as const;

type Op =
  | { kind: "join"; slot: number; topics: number }
  | { kind: "beat"; slot: number; lose: boolean }
  | { kind: "leave"; slot: number }
  | { kind: "crash"; slot: number }
  | { kind: "subscribe"; slot: number; topics: number }
  | { kind: "grow"; slot: number; topic: number; by: number }
  | { kind: "advance"; ms: number };

const slot = fc.integer({ min: 0, max: SLOTS - 1 });
const topicMask = fc.integer({ min: 1, max: 3 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("join" as const), slot, topics: topicMask }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("beat" as const), slot, lose: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("leave" as const), slot }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("crash" as const), slot }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("subscribe" as const), slot, topics: topicMask }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("grow" as const),
      slot,
      topic: fc.integer({ min: 0, max: 1 }),
      by: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.integer({ min: 100, max: 30_000 }),
    }),
  },
);

interface Client {
  memberId: string;
  instanceId: string | null;
  status: "out" | "in" | "crashed";
  epoch: number;
  told: PartitionMap;
  incarnation: number;
}

class Sim {
  readonly h = new Harness();
  readonly counts: Record<string, number> = { t: 3, u: 2 };
  readonly clients: Client[] = Array.from({ length: SLOTS }, (_, i) => ({
    memberId: `m${i}`,
    instanceId: i % 4 === 0 ? `static-${i}` : null,
    status: "out",
    epoch: 0,
    told: {},
    incarnation: 0,
  }));
  private lastGroupEpoch = 0;
  private lastTargetEpoch = 0;
  private readonly lastMemberEpoch = new Map<string, number>();

  get group(): ConsumerGroup | null {
    return this.h.group ? this.h.consumer : null;
  }

  subscription(mask: number) {
    return TOPICS.filter((_, i) => mask & (1 << i)).map((name) => ({ name, partitions: this.counts[name]! }));
  }

  run(o: Op, pushesLost: boolean): void {
    if (o.kind === "advance") {
      this.h.advance(o.ms);
      this.h.alarm();
    } else {
      const c = this.clients[o.slot]!;
      if (o.kind === "join" && c.status === "out") {
        this.lastMemberEpoch.delete(c.memberId);
        this.respond(
          c,
          this.h.heartbeat({
            memberId: c.memberId,
            memberEpoch: 0,
            groupInstanceId: c.instanceId,
            subscribedTopics: this.subscription(o.topics),
            ownedPartitions: [],
            rebalanceTimeoutMs: 20_000,
          }),
          false,
        );
      } else if (c.status === "in") {
        if (o.kind === "beat") this.beat(c, {}, o.lose);
        else if (o.kind === "subscribe")
          this.beat(c, { subscribedTopics: this.subscription(o.topics) }, false);
        else if (o.kind === "grow") {
          const topic = TOPICS[o.topic]!;
          this.counts[topic] = Math.min(this.counts[topic]! + o.by, 12);
          this.beat(c, { subscribedTopics: [{ name: topic, partitions: this.counts[topic]! }] }, false);
        } else if (o.kind === "crash") c.status = "crashed";
        else if (o.kind === "leave") this.leave(c);
      }
    }
    this.deliverPushes(pushesLost);
    this.noteFenced();
    this.check();
  }

  beat(c: Client, extra: Record<string, unknown>, lose: boolean): void {
    const r = this.h.heartbeat({
      memberId: c.memberId,
      memberEpoch: c.epoch,
      ownedPartitions: toList(c.told),
      ...extra,
    });
    this.respond(c, r, lose);
  }

  private respond(c: Client, r: ReturnType<Harness["heartbeat"]>, lose: boolean): void {
    if (r.ok) {
      c.status = "in";
      if (!lose) {
        c.epoch = r.value.memberEpoch;
        c.told = fromList(r.value.assignment.partitions);
      }
      return;
    }
    // A fenced client gives up everything and rejoins later (Kafka's consumer does the same).
    expect(["FENCED_MEMBER_EPOCH", "UNKNOWN_MEMBER_ID", "UNRELEASED_INSTANCE_ID"]).toContain(r.error.code);
    this.reset(c);
  }

  private leave(c: Client): void {
    const temporary = c.instanceId !== null;
    const r = this.h.heartbeat({
      memberId: c.memberId,
      memberEpoch: temporary ? -2 : -1,
      groupInstanceId: c.instanceId,
    });
    if (!r.ok) expect(r.error.code).toBe("UNKNOWN_MEMBER_ID");
    this.reset(c);
    // A static member comes back as a new process: a new member id for the same instance id.
    if (temporary) c.memberId = `m${this.clients.indexOf(c)}-${++c.incarnation}`;
  }

  private reset(c: Client): void {
    Object.assign(c, { status: "out", epoch: 0, told: {} });
  }

  private deliverPushes(lost: boolean): void {
    const notices = this.group?.takeNotices() ?? [];
    if (lost) return;
    for (const n of notices) {
      const c = this.clients.find((x) => x.memberId === n.memberId && x.status === "in");
      if (c) {
        c.epoch = n.memberEpoch;
        c.told = fromList(n.assignment);
      }
    }
  }

  /** Clients the coordinator removed (session or rebalance timeout) are fenced: they know nothing. */
  private noteFenced(): void {
    for (const c of this.clients) {
      if (c.status !== "out" && !this.group?.members.has(c.memberId)) this.reset(c);
    }
  }

  check(): void {
    const g = this.group;
    if (!g) return;
    const seen = new Map<string, string>();
    for (const c of this.clients) {
      if (c.status === "out") continue;
      const m = g.members.get(c.memberId)!;
      expect(isSubset(c.told, union(m.assigned, m.revoking))).toBe(true);
      for (const [topic, ps] of Object.entries(c.told)) {
        for (const p of ps) {
          const key = partitionKey(topic, p);
          expect(seen.get(key), `${key} told to ${seen.get(key)} and ${c.memberId}`).toBeUndefined();
          seen.set(key, c.memberId);
        }
      }
    }
    const owned = [...g.members.values()].flatMap((m) =>
      Object.entries(union(m.assigned, m.revoking)).flatMap(([t, ps]) => ps.map((p) => partitionKey(t, p))),
    );
    expect(new Set(owned).size).toBe(owned.length);
    expect(g.groupEpoch).toBeGreaterThanOrEqual(this.lastGroupEpoch);
    expect(g.targetEpoch).toBeGreaterThanOrEqual(this.lastTargetEpoch);
    this.lastGroupEpoch = g.groupEpoch;
    this.lastTargetEpoch = g.targetEpoch;
    for (const m of g.members.values()) {
      expect(m.memberEpoch).toBeGreaterThanOrEqual(this.lastMemberEpoch.get(m.memberId) ?? 0);
      this.lastMemberEpoch.set(m.memberId, m.memberEpoch);
    }
  }

  /** Crashed members time out; the others keep heartbeating with nothing lost until the group is Stable. */
  converge(): void {
    for (let round = 0; round < 12; round++) {
      for (const c of this.clients)
        if (c.status === "in") this.run({ kind: "beat", slot: this.clients.indexOf(c), lose: false }, false);
      this.run({ kind: "advance", ms: 10_000 }, false);
    }
    const g = this.group;
    if (!g || g.memberCount === 0) return;
    expect(g.state).toBe("Stable");
    const subscribers = new Map<string, number>();
    for (const c of this.clients.filter((x) => x.status === "in")) {
      const m = g.members.get(c.memberId)!;
      expect(samePartitions(c.told, m.target)).toBe(true);
      expect(c.epoch).toBe(g.groupEpoch);
      for (const t of m.subscribedTopics) subscribers.set(t, (subscribers.get(t) ?? 0) + 1);
    }
    // Every partition of every subscribed topic is held by exactly one member.
    const held = [...g.partitionOwners().keys()].sort();
    const expected = [...subscribers.keys()]
      .flatMap((t) => Array.from({ length: g.partitionCounts[t] ?? 0 }, (_, p) => partitionKey(t, p)))
      .sort();
    expect(held).toEqual(expected);
  }
}

it("keeps every partition with at most one member and converges, over 500 random schedules", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(op, fc.boolean()), { maxLength: 80 }), (schedule) => {
      const sim = new Sim();
      for (const [o, pushesLost] of schedule) sim.run(o, pushesLost);
      sim.converge();
    }),
    { numRuns: 500 },
  );
});
