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
/** Answers after which a client gives up every partition it holds. */
const FENCED = ["UNKNOWN_MEMBER_ID", "FENCED_MEMBER_EPOCH", "FENCED_INSTANCE_ID"];

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
  readonly g: string;
  readonly kind: Restart;
  constructor(g: string, kind: Restart) {
    this.g = g;
    this.kind = kind;
  }

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
    } else if (res.status === 200 || FENCED.includes(res.body?.error?.code)) {
      this.told.delete(id);
    }
    this.check();
    await restart(this.g, this.kind);
    return res;
  }

  async join(memberId: string, instance?: string | null, partitions = 6, extra = {}): Promise<Reply> {
    return this.send({ ...joining(memberId, instance, partitions), ...extra });
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

/** A join (memberEpoch 0) subscribing to "t". */
const joining = (memberId: string, instance: string | null | undefined, partitions: number) => ({
  memberId,
  memberEpoch: 0,
  groupInstanceId: instance,
  subscribedTopics: [{ name: "t", partitions }],
  ownedPartitions: [],
});

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
    // a's session (it stopped beating at its leave) ends without touching a2, which took its place.
    await expireSessions(group, ["a2", "b", "c"]);
    expect((await group.settle()).members.map((m: any) => m.memberId).sort()).toEqual(["a2", "b", "c"]);
    expect(await departures(group.g)).toEqual([["member_left", "a", "static_leave"]]);
    expect(await replayedMembers(group.g)).toEqual(["a2", "b", "c"]);
  });

  it("two clients racing to reclaim one released instance id: one wins, the other is refused and unknown", async () => {
    const group = new Group(freshGroup("adv-st"), kind);
    await group.join("a", "A");
    await group.join("b");
    await group.settle();
    await group.leave("a", -2, "A");
    const body = (memberId: string) => joining(memberId, "A", 6);
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
      [joining("a", "A", 6), "UNRELEASED_INSTANCE_ID", 111],
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

  it("a -2 member rejoining by its own member id with a different instance id: never told what another member is told", async () => {
    const group = new Group(freshGroup("adv-st"), kind);
    await group.join("a", "A", 4);
    await group.join("b", null, 4);
    await group.settle();
    await group.leave("a", -2, "A");
    const again = await group.join("a", "B", 4);
    // A new member id takes over instance A: whatever a was told (it rejoined, or was refused), nobody
    // is told a partition a still holds (the tracker checks every answer).
    await group.join("z", "A", 4);
    if (again.status === 200) {
      // Accepted: a is now the member of instance B.
      const d = await describeGroup(group.g);
      expect(d.members.find((m: any) => m.memberId === "a")).toMatchObject({ groupInstanceId: "B" });
    }
    await group.settle();
    expect((await departures(group.g)).filter(([, id]) => id === "a")).toEqual([
      ["member_left", "a", "static_leave"],
    ]);
  });

  it("the revocation deadline of a member that left with -2 mid-revocation does not fence its instance's new id", async () => {
    const group = new Group(freshGroup("adv-st"), kind);
    await group.join("a", "A", 6, { rebalanceTimeoutMs: 1000 });
    await group.join("b", null, 6, { rebalanceTimeoutMs: 60_000 });
    await group.settle();
    await group.join("c", null, 6, { rebalanceTimeoutMs: 60_000 });
    // a is told to revoke (its deadline starts) and leaves temporarily instead of confirming.
    await group.send({
      memberId: "a",
      memberEpoch: group.told.get("a")?.epoch,
      ownedPartitions: [{ topic: "t", partitions: group.owned("a") }],
    });
    await group.leave("a", -2, "A");
    await group.join("a2", "A", 6, { rebalanceTimeoutMs: 60_000 });
    // Past a's 1 s revocation deadline (not the 1.5 s session) with everyone beating.
    for (let i = 0; i < 3; i++) {
      advanceClock(500);
      for (const id of ["a2", "b", "c"]) await group.beat(id);
    }
    await runDurableObjectAlarm(stub(group.g) as never);
    const d = await group.settle();
    expect(d.members.map((m: any) => m.memberId).sort()).toEqual(["a2", "b", "c"]);
    expect([...group.owned("a2"), ...group.owned("b"), ...group.owned("c")].sort()).toEqual([
      0, 1, 2, 3, 4, 5,
    ]);
    expect(await departures(group.g)).toEqual([["member_left", "a", "static_leave"]]);
  });

  it("a -2 member rejoining by its own member id without an instance id is taken back as its instance", async () => {
    const group = new Group(freshGroup("adv-st"), kind);
    await group.join("a", "A", 4);
    await group.join("b", null, 4);
    await group.settle();
    const reserved = group.owned("a");
    await group.leave("a", -2, "A");
    const back = await group.join("a", null, 4);
    expect(partitionsOf(back.body.assignment.partitions)).toEqual(reserved);
    expect(instanceOf(await describeGroup(group.g), "A")).toMatchObject([{ memberId: "a", memberEpoch: 2 }]);
    expectError(await heartbeat(group.g, joining("z", "A", 4)), 409, "UNRELEASED_INSTANCE_ID", 111);
    await group.settle();
    expect(await departures(group.g)).toEqual([["member_left", "a", "static_leave"]]);
  });
});

/** The members the history's member events leave in the group, replayed oldest first. */
async function replayedMembers(g: string): Promise<string[]> {
  const present = new Set<string>();
  for (const e of await events(g)) {
    if (e.type === "member_joined") present.add(e.memberId);
    if (e.type === "member_left" || e.type === "member_fenced") present.delete(e.memberId);
  }
  return [...present].sort();
}

const liveMembers = async (g: string) =>
  (await describeGroup(g)).members
    .filter((m: any) => m.memberEpoch >= 0)
    .map((m: any) => m.memberId)
    .sort();

describe("a live static member joining again with memberEpoch 0 under its own member id", () => {
  it("with its own instance id: the history's timeline still matches the members", async () => {
    const group = new Group(freshGroup("adv-st"), "none");
    await group.join("a", "A", 4);
    await group.join("b", null, 4);
    await group.settle();
    const res = await group.join("a", "A", 4);
    // Kafka refuses it (the instance is held by a live member: UNRELEASED_INSTANCE_ID); whatever cohort
    // does, a departure in the history is followed by the arrival that put the member back.
    expect([200, 409]).toContain(res.status);
    await group.settle();
    expect(await replayedMembers(group.g)).toEqual(await liveMembers(group.g));
  });

  it("with a different instance id: accepted means it now holds that instance", async () => {
    const group = new Group(freshGroup("adv-st"), "none");
    await group.join("a", "A", 4);
    await group.join("b", null, 4);
    await group.settle();
    const res = await group.join("a", "B", 4);
    expect([200, 409]).toContain(res.status);
    if (res.status === 200) {
      const a = (await describeGroup(group.g)).members.find((m: any) => m.memberId === "a");
      expect(a.groupInstanceId).toBe("B");
    }
    await group.settle();
    expect(await replayedMembers(group.g)).toEqual(await liveMembers(group.g));
  });
});

const HOSTILE = [
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "toString",
  "ünï-çødé-🎉-実例",
  "a/b?c#d%2F..",
  " ",
  "i".repeat(1024),
];

describe("hostile instance ids", () => {
  it("are held, refused, released and taken over like any other, each apart, across a restart", async () => {
    const group = new Group(freshGroup("adv-st"), "evict");
    for (const [i, instance] of HOSTILE.entries()) await group.join(`m${i}`, instance, 12);
    await group.settle();
    const reserved = HOSTILE.map((_, i) => group.owned(`m${i}`));
    const before = await describeGroup(group.g);
    expect(before.members.map((m: any) => m.groupInstanceId).sort()).toEqual([...HOSTILE].sort());
    for (const instance of HOSTILE) {
      const taken = await heartbeat(group.g, joining("intruder", instance, 12));
      expectError(taken, 409, "UNRELEASED_INSTANCE_ID", 111);
    }
    // Instance ids nobody holds, on a temporary leave, and ids the schema refuses.
    for (const instance of ["valueOf", "__defineGetter__", "isPrototypeOf"]) {
      expectError(
        await heartbeat(group.g, { memberId: "m0", memberEpoch: -2, groupInstanceId: instance }),
        409,
        "UNKNOWN_MEMBER_ID",
        25,
      );
    }
    for (const instance of ["", "i".repeat(1025)]) {
      const res = await heartbeat(group.g, { memberId: "m0", memberEpoch: -2, groupInstanceId: instance });
      expectError(res, 400, "INVALID_REQUEST", 42);
    }
    expect(await describeGroup(group.g)).toEqual(before);
    for (const [i, instance] of HOSTILE.entries()) await group.leave(`m${i}`, -2, instance);
    for (const [i, instance] of HOSTILE.entries()) {
      const back = await group.join(`n${i}`, instance, 12);
      expect(partitionsOf(back.body.assignment.partitions)).toEqual(reserved[i]);
      expectError(
        await heartbeat(group.g, { memberId: `m${i}`, memberEpoch: 1, groupInstanceId: instance }),
        409,
        "FENCED_INSTANCE_ID",
        82,
      );
    }
    const after = await group.settle();
    expect(after.members.map((m: any) => m.memberId).sort()).toEqual(HOSTILE.map((_, i) => `n${i}`).sort());
    expect((await departures(group.g)).map(([type, , reason]) => `${type}:${reason}`)).toEqual(
      HOSTILE.map(() => "member_left:static_leave"),
    );
  });
});
