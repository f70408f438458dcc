/**
 * Adversarial tests of static membership on the consumer protocol (API.md §5, KIP-848/KIP-345), over
 * HTTP on the real runtime with the object restarted between steps: a member that leaves temporarily
 * (memberEpoch −2) keeps its reserved assignment for its instance, which may come back under a new member
 * id; the old id is fenced; no partition is ever told to two members at once; the history (§8) records
 * each departure once with Kafka's reason. Hostile instance ids: adversary-static-ids.test.ts.
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advanceClock } from "../../src/core/clock";
import { call, commit, expectError, freshGroup } from "../integration/helpers";
import {
  departures,
  describeGroup,
  events,
  expireSessions,
  Group,
  instanceOf,
  joining,
  RESTARTS,
  replayedMembers,
  restart,
} from "./adversary-static-lib";
import { heartbeat, partitionsOf, stub } from "./consumer-helpers";

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

  it("a -2 leave racing its instance's join under a new id: the join is refused or takes the reservation, never both held", async () => {
    const group = new Group(freshGroup("adv-st"), kind);
    await group.join("a", "A");
    await group.join("b");
    await group.settle();
    const [left, joined] = await Promise.all([
      heartbeat(group.g, { memberId: "a", memberEpoch: -2, groupInstanceId: "A" }),
      heartbeat(group.g, joining("a2", "A", 6)),
    ]);
    expect(left.status, JSON.stringify(left.body)).toBe(200);
    group.told.delete("a");
    if (joined.status === 200) {
      group.told.set("a2", {
        epoch: joined.body.memberEpoch,
        owned: partitionsOf(joined.body.assignment.partitions),
      });
    } else {
      expectError(joined, 409, "UNRELEASED_INSTANCE_ID", 111);
      await group.join("a2", "A");
    }
    await restart(group.g, kind);
    const d = await group.settle();
    expect(d.members.map((m: any) => m.memberId).sort()).toEqual(["a2", "b"]);
    expect(await departures(group.g)).toEqual([["member_left", "a", "static_leave"]]);
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

  it("a member joining while an instance is reserved waits for it, and the reservation's end fences nobody", async () => {
    const group = new Group(freshGroup("adv-st"), kind);
    await group.join("a", "A", 6, { rebalanceTimeoutMs: 1000 });
    await group.join("b", null, 6);
    await group.settle();
    const reserved = group.owned("a");
    const lastEpoch = group.told.get("a")?.epoch;
    await group.leave("a", -2, "A");
    // A commit under the departed member's last epoch is refused: it gave its partitions up.
    const offsets = [{ topic: "t", partition: reserved[0] ?? 0, offset: 7 }];
    const late = await commit(group.g, offsets, {
      memberId: "a",
      memberEpoch: lastEpoch,
      groupInstanceId: "A",
    });
    expectError(late, 409, "STALE_MEMBER_EPOCH", 113);
    await group.join("c", null, 6);
    for (let i = 0; i < 2; i++) for (const id of ["b", "c"]) await group.beat(id);
    for (const p of reserved) expect(group.owned("c")).not.toContain(p);
    // Past a's 1 s revocation deadline, then past its session; b and c keep beating.
    await expireSessions(group, ["b", "c"]);
    const d = await group.settle();
    expect(d.members.map((m: any) => m.memberId).sort()).toEqual(["b", "c"]);
    expect([...group.owned("b"), ...group.owned("c")].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await departures(group.g)).toEqual([["member_left", "a", "static_leave"]]);
    expect((await call("GET", `/v1/groups/${group.g}/offsets/t/${offsets[0]?.partition}`)).body.offset).toBe(
      -1,
    );
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

/** A small seeded generator (mulberry32), so a failing sequence replays. */
function random(seed: number): () => number {
  let t = seed;
  return () => {
    t = (t + 0x6d2b79f5) | 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

describe("random sequences of -2 leaves, takeovers, zombie heartbeats and restarts", () => {
  it.each([1, 2, 3])(
    "seed %i: one live holder of the instance, nothing told twice, each departure once",
    async (seed) => {
      const next = random(seed);
      const group = new Group(freshGroup("adv-st"), "none");
      await group.join("b", null, 6);
      let holder = "s0";
      await group.join(holder, "A", 6);
      const previous: string[] = [];
      let leaves = 0;
      for (let step = 0; step < 25; step++) {
        const roll = next();
        const held = group.told.has(holder);
        if (roll < 0.3 && held) {
          await group.leave(holder, -2, "A");
          leaves++;
        } else if (roll < 0.6) {
          const id = `s${step + 1}`;
          const res = await group.join(id, "A", 6);
          if (held) expectError(res, 409, "UNRELEASED_INSTANCE_ID", 111);
          else {
            expect(res.status, JSON.stringify(res.body)).toBe(200);
            previous.push(holder);
            holder = id;
          }
        } else if (roll < 0.75 && previous.length > 0) {
          const zombie = previous[Math.floor(next() * previous.length)] as string;
          const res = await heartbeat(group.g, { memberId: zombie, memberEpoch: 1, groupInstanceId: "A" });
          expect([res.status, res.body.error?.code]).toEqual([409, "FENCED_INSTANCE_ID"]);
        } else if (roll < 0.9) {
          await restart(group.g, next() < 0.5 ? "evict" : "abort");
        }
        for (const id of [...group.told.keys()]) await group.beat(id);
        const d = await describeGroup(group.g);
        expect(instanceOf(d, "A").length).toBeLessThanOrEqual(1);
      }
      await group.settle();
      const recorded = (await departures(group.g)).filter(([, id]) => id !== "b");
      expect(recorded.map(([type, , reason]) => `${type}:${reason}`)).toEqual(
        Array.from({ length: leaves }, () => "member_left:static_leave"),
      );
    },
  );
});
