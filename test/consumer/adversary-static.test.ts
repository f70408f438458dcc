/**
 * Adversarial tests of static membership on the consumer protocol (API.md §5, KIP-848/KIP-345), over
 * HTTP on the real runtime with the object restarted between steps: a member that leaves temporarily
 * (memberEpoch −2) keeps its reserved assignment for its instance, which may come back under a new member
 * id; the old id is fenced; no partition is ever told to two members at once; the history (§8) records
 * each departure once with Kafka's reason; hostile instance ids are data, never a 5xx.
 */

import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advanceClock } from "../../src/core/clock";
import { call, commit, expectError, freshGroup, type Reply } from "../integration/helpers";
import { heartbeat, partitionsOf, stub } from "./consumer-helpers";

type Restart = "none" | "evict" | "abort";
const RESTARTS: Restart[] = ["none", "evict", "abort"];

async function restart(g: string, kind: Restart): Promise<void> {
  if (kind === "evict") await evictDurableObject(stub(g));
  if (kind === "abort") await abortAllDurableObjects();
}

/**
 * The group as its members were told: every 200 heartbeat replaces what that member may use; a member
 * that left or was refused as unknown/fenced is dropped. After every answer no partition of "t" may be
 * held by two members.
 */
class Group {
  told = new Map<string, { epoch: number; owned: number[] }>();
  constructor(
    readonly g: string,
    readonly kind: Restart,
  ) {}

  private check(): void {
    const all = [...this.told.values()].flatMap((m) => m.owned);
    expect(new Set(all).size, JSON.stringify([...this.told])).toBe(all.length);
  }

  async send(body: Record<string, unknown>): Promise<Reply> {
    const res = await heartbeat(this.g, body);
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
    const id = (res.body?.memberId ?? body.memberId) as string;
    if (res.status === 200 && res.body.memberEpoch >= 0) {
      this.told.set(id, { epoch: res.body.memberEpoch, owned: partitionsOf(res.body.assignment.partitions) });
    } else if (res.status === 200) {
      this.told.delete(id);
    }
    this.check();
    await restart(this.g, this.kind);
    return res;
  }

  async join(memberId: string, instance?: string | null, partitions = 6): Promise<Reply> {
    return this.send({
      memberId,
      memberEpoch: 0,
      groupInstanceId: instance,
      subscribedTopics: [{ name: "t", partitions }],
      ownedPartitions: [],
    });
  }

  /** A heartbeat reporting what the member was last told (so it revokes at once). */
  async beat(memberId: string, extra: Record<string, unknown> = {}): Promise<Reply> {
    const m = this.told.get(memberId);
    if (!m) throw new Error(`${memberId} holds nothing`);
    const res = await this.send({
      memberId,
      memberEpoch: m.epoch,
      ownedPartitions: [{ topic: "t", partitions: m.owned }],
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res;
  }

  async leave(memberId: string, epoch: -1 | -2, instance?: string): Promise<Reply> {
    const res = await this.send({ memberId, memberEpoch: epoch, groupInstanceId: instance });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.memberEpoch).toBe(epoch);
    return res;
  }

  /**
   * Beats every member still told something until the group is Stable and each member was told the
   * assignment the group describes for it; returns the description.
   */
  async settle(): Promise<any> {
    for (let round = 0; round < 8; round++) {
      for (const id of [...this.told.keys()]) await this.beat(id);
      const d = await describeGroup(this.g);
      const agreed = d.members.every(
        (m: any) => m.memberEpoch < 0 || `${this.owned(m.memberId)}` === `${partitionsOf(m.assignment)}`,
      );
      if (d.state === "Stable" && agreed) return d;
    }
    throw new Error(`${this.g} did not settle: ${JSON.stringify(await describeGroup(this.g))}`);
  }

  owned(memberId: string): number[] {
    return [...(this.told.get(memberId)?.owned ?? [])].sort((a, b) => a - b);
  }
}

const describeGroup = async (g: string) => (await call("GET", `/v1/groups/${g}`)).body;

async function events(g: string): Promise<any[]> {
  const res = await call("GET", `/v1/groups/${g}/events?limit=1000`);
  expect(res.status).toBe(200);
  return res.body.events;
}

/** The member events as [type, memberId, reason]. */
const departures = async (g: string) =>
  (await events(g))
    .filter((e) => e.type === "member_left" || e.type === "member_fenced")
    .map((e) => [e.type, e.memberId, e.detail?.reason]);

const instanceOf = (d: any, instance: string) => d.members.filter((m: any) => m.groupInstanceId === instance);

/** Past the 1.5 s session of this project on the coordinator's clock, keeping `alive` beating; fires the alarm. */
async function expireSessions(group: Group, alive: string[]): Promise<void> {
  for (let i = 0; i < 4; i++) {
    advanceClock(500);
    for (const id of alive) await group.beat(id);
  }
  await runDurableObjectAlarm(stub(group.g) as never);
}

describe.each(RESTARTS)("restart between steps: %s", (kind) => {
  it("a static member leaving (-2) while another member revokes: its instance's new id gets only the reserved partitions", async () => {
    const group = new Group(freshGroup("adv-st"), kind);
    await group.join("a", "A");
    await group.join("b");
    await group.settle();
    expect(group.owned("a")).toHaveLength(3);
    const reserved = group.owned("a");
    await group.join("c");
    // b is told to revoke and has not confirmed yet; a leaves before it even heard of its revocation.
    const toldB = await group.send({
      memberId: "b",
      memberEpoch: group.told.get("b")?.epoch,
      ownedPartitions: [{ topic: "t", partitions: group.owned("b") }],
    });
    expect(toldB.status).toBe(200);
    await group.leave("a", -2, "A");
    const back = await group.join("a2", "A");
    const got = partitionsOf(back.body.assignment.partitions);
    // The reserved assignment is a subset of what a held, and never more than its share.
    for (const p of got) expect(reserved).toContain(p);
    const stable = await group.settle();
    expect([...group.owned("a2"), ...group.owned("b"), ...group.owned("c")].sort()).toEqual([
      0, 1, 2, 3, 4, 5,
    ]);
    expect(stable.members.map((m: any) => m.memberId).sort()).toEqual(["a2", "b", "c"]);
    expect(instanceOf(stable, "A").map((m: any) => m.memberId)).toEqual(["a2"]);
    expect(await departures(group.g)).toEqual([["member_left", "a", "static_leave"]]);
  });

  it("two clients racing to reclaim one released instance id: one wins, the other is refused and unknown", async () => {
    const group = new Group(freshGroup("adv-st"), kind);
    await group.join("a", "A");
    await group.join("b");
    await group.settle();
    await group.leave("a", -2, "A");
    const body = (memberId: string) => ({
      memberId,
      memberEpoch: 0,
      groupInstanceId: "A",
      subscribedTopics: [{ name: "t", partitions: 6 }],
      ownedPartitions: [],
    });
    const [x, y] = await Promise.all([heartbeat(group.g, body("x")), heartbeat(group.g, body("y"))]);
    const winner = x.status === 200 ? x : y;
    const loser = x.status === 200 ? y : x;
    expect(winner.status, JSON.stringify([x.body, y.body])).toBe(200);
    expectError(loser, 409, "UNRELEASED_INSTANCE_ID", 111);
    const loserId = winner === x ? "y" : "x";
    await restart(group.g, kind);
    const d = await describeGroup(group.g);
    expect(instanceOf(d, "A").map((m: any) => m.memberId)).toEqual([winner.body.memberId]);
    expect(d.members.map((m: any) => m.memberId)).not.toContain(loserId);
    expectError(
      await heartbeat(group.g, { memberId: loserId, memberEpoch: 1 }),
      409,
      "UNKNOWN_MEMBER_ID",
      25,
    );
    expectError(
      await heartbeat(group.g, { memberId: loserId, memberEpoch: 1, groupInstanceId: "A" }),
      409,
      "FENCED_INSTANCE_ID",
      82,
    );
  });

  it("the old member id after its instance was taken over is fenced, and each refusal changes nothing", async () => {
    const group = new Group(freshGroup("adv-st"), kind);
    await group.join("a", "A");
    await group.join("b");
    await group.settle();
    const oldEpoch = group.told.get("a")?.epoch ?? 0;
    const oldOwned = group.owned("a");
    await group.leave("a", -2, "A");
    await group.join("a2", "A");
    await group.settle();
    const before = await describeGroup(group.g);
    const eventsBefore = await events(group.g);
    const owned = [{ topic: "t", partitions: oldOwned }];
    const refusals: [Record<string, unknown>, string, number][] = [
      [
        { memberId: "a", memberEpoch: oldEpoch, groupInstanceId: "A", ownedPartitions: owned },
        "FENCED_INSTANCE_ID",
        82,
      ],
      [{ memberId: "a", memberEpoch: oldEpoch, ownedPartitions: owned }, "UNKNOWN_MEMBER_ID", 25],
      [{ memberId: "a", memberEpoch: -2, groupInstanceId: "A" }, "FENCED_INSTANCE_ID", 82],
      [{ memberId: "a", memberEpoch: -1, groupInstanceId: "A" }, "FENCED_INSTANCE_ID", 82],
      [{ memberId: "a", memberEpoch: -1 }, "UNKNOWN_MEMBER_ID", 25],
      [
        {
          memberId: "a",
          memberEpoch: 0,
          groupInstanceId: "A",
          subscribedTopics: [{ name: "t", partitions: 6 }],
          ownedPartitions: [],
        },
        "UNRELEASED_INSTANCE_ID",
        111,
      ],
    ];
    for (const [body, code, kafkaCode] of refusals) {
      expectError(await heartbeat(group.g, body), 409, code, kafkaCode);
      await restart(group.g, kind);
    }
    const offsets = [{ topic: "t", partition: oldOwned[0] ?? 0, offset: 5 }];
    expectError(
      await commit(group.g, offsets, { memberId: "a", memberEpoch: oldEpoch }),
      409,
      "UNKNOWN_MEMBER_ID",
      25,
    );
    expect(await describeGroup(group.g)).toEqual(before);
    expect(await events(group.g)).toEqual(eventsBefore);
  });

  it("a -2 member that rejoins under a new id with a different instance leaves its reservation in place until it expires", async () => {
    const group = new Group(freshGroup("adv-st"), kind);
    await group.join("a", "A", 4);
    await group.join("b", null, 4);
    await group.settle();
    const reserved = group.owned("a");
    await group.leave("a", -2, "A");
    await group.join("a2", "B", 4);
    await group.settle();
    // A still holds its partitions for its instance: nobody else was given them.
    for (const id of ["a2", "b"]) for (const p of reserved) expect(group.owned(id)).not.toContain(p);
    expect(instanceOf(await describeGroup(group.g), "A").map((m: any) => m.memberEpoch)).toEqual([-2]);
    await expireSessions(group, ["a2", "b"]);
    const d = await group.settle();
    expect(instanceOf(d, "A")).toEqual([]);
    expect([...group.owned("a2"), ...group.owned("b")].sort()).toEqual([0, 1, 2, 3]);
    expect(await departures(group.g)).toEqual([["member_left", "a", "static_leave"]]);
  });

  it("the reserved assignment expires, then the instance returns as a fresh member with no stale partitions", async () => {
    const group = new Group(freshGroup("adv-st"), kind);
    await group.join("a", "A", 4);
    await group.join("b", null, 4);
    const first = await group.settle();
    const oldEpoch = group.told.get("a")?.epoch ?? 0;
    await group.leave("a", -2, "A");
    await expireSessions(group, ["b"]);
    await group.settle();
    expect(group.owned("b")).toEqual([0, 1, 2, 3]);
    const back = await group.join("a3", "A", 4);
    // b still owns everything: the newcomer is given nothing until b revokes.
    expect(partitionsOf(back.body.assignment.partitions)).toEqual([]);
    expect(back.body.memberEpoch).toBeGreaterThan(oldEpoch);
    const d = await group.settle();
    expect(d.groupEpoch).toBeGreaterThan(first.groupEpoch);
    expect([...group.owned("a3"), ...group.owned("b")].sort()).toEqual([0, 1, 2, 3]);
    expect(group.owned("a3")).toHaveLength(2);
    expectError(
      await heartbeat(group.g, { memberId: "a", memberEpoch: oldEpoch }),
      409,
      "UNKNOWN_MEMBER_ID",
      25,
    );
    expect(await departures(group.g)).toEqual([["member_left", "a", "static_leave"]]);
  });

  it("-2 then -1 from the same member: its partitions go to the others at once and its instance is free", async () => {
    const group = new Group(freshGroup("adv-st"), kind);
    await group.join("a", "A", 4);
    await group.join("b", null, 4);
    await group.settle();
    await group.leave("a", -2, "A");
    await group.leave("a", -1, "A");
    const d = await group.settle();
    expect(d.members.map((m: any) => m.memberId)).toEqual(["b"]);
    expect(group.owned("b")).toEqual([0, 1, 2, 3]);
    await group.join("a4", "A", 4);
    await group.settle();
    expect(group.owned("a4")).toHaveLength(2);
    const left = await departures(group.g);
    expect(left.filter(([type]) => type === "member_fenced")).toEqual([]);
    expect(left[0]).toEqual(["member_left", "a", "static_leave"]);
    expect(left.length).toBeLessThanOrEqual(2);
  });
});
