/**
 * The consumer protocol against Kafka's own coordinator tests (`GroupMetadataManagerTest`), each test
 * named after the Kafka test method it follows: static-member fencing by instance id, and the
 * revocation timer's lifecycle.
 */

import { describe, expect, it } from "vitest";
import { Harness } from "./harness";

const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? "OK" : r.error?.code);

/** A group with one static member `m1` (instance `i1`), settled. */
function staticGroup(): Harness {
  const h = new Harness();
  h.join("m1", { foo: 6 }, { groupInstanceId: "i1" });
  return h;
}

describe("static membership fencing (KIP-345 on the consumer protocol)", () => {
  it("testShouldThrowFencedInstanceIdExceptionWhenStaticMemberWithDifferentMemberIdJoins", () => {
    const h = staticGroup();
    const r = h.heartbeat({ memberId: "m2", memberEpoch: 1, groupInstanceId: "i1", ownedPartitions: [] });
    expect(code(r)).toBe("FENCED_INSTANCE_ID");
    expect([...h.consumer.members.keys()]).toEqual(["m1"]);
  });

  it("testShouldThrowFencedInstanceIdExceptionWhenStaticMemberWithDifferentMemberIdLeaves", () => {
    const h = staticGroup();
    expect(code(h.heartbeat({ memberId: "m2", memberEpoch: -2, groupInstanceId: "i1" }))).toBe(
      "FENCED_INSTANCE_ID",
    );
    expect(code(h.heartbeat({ memberId: "m2", memberEpoch: -1, groupInstanceId: "i1" }))).toBe(
      "FENCED_INSTANCE_ID",
    );
    // Nothing changed: m1 is still there and not away.
    expect(h.consumer.describe().members).toMatchObject([{ memberId: "m1", state: "Stable" }]);
  });

  it("testShouldThrowUnknownMemberIdExceptionWhenUnknownStaticMemberJoins", () => {
    const h = staticGroup();
    const r = h.heartbeat({ memberId: "m2", memberEpoch: 1, groupInstanceId: "i2", ownedPartitions: [] });
    expect(code(r)).toBe("UNKNOWN_MEMBER_ID");
  });

  it("testShouldThrowUnknownMemberIdExceptionWhenUnknownStaticMemberLeaves", () => {
    const h = staticGroup();
    expect(code(h.heartbeat({ memberId: "m2", memberEpoch: -2, groupInstanceId: "i2" }))).toBe(
      "UNKNOWN_MEMBER_ID",
    );
    // Also from a member that exists: the instance it names decides, and nobody holds i2.
    const live = h.heartbeat({ memberId: "m1", memberEpoch: -2, groupInstanceId: "i2" });
    expect(code(live)).toBe("UNKNOWN_MEMBER_ID");
    expect(h.consumer.describe().members).toMatchObject([{ memberId: "m1", state: "Stable" }]);
  });

  it("a -2 leave without groupInstanceId is INVALID_REQUEST (Kafka: InstanceId can't be null)", () => {
    const h = staticGroup();
    expect(code(h.heartbeat({ memberId: "m1", memberEpoch: -2 }))).toBe("INVALID_REQUEST");
  });
});

describe("revocation timer", () => {
  it("testRebalanceTimeoutLifecycle: scheduled with the rebalance timeout of the heartbeat that starts the revocation", () => {
    const h = new Harness();
    h.join("a", { foo: 6 }, { rebalanceTimeoutMs: 60_000 });
    // a lowers its rebalance timeout in a later heartbeat.
    h.must({
      memberId: "a",
      memberEpoch: 1,
      rebalanceTimeoutMs: 1000,
      ownedPartitions: [{ topic: "foo", partitions: [0, 1, 2, 3, 4, 5] }],
    });
    h.join("b", { foo: 6 });
    h.advance(100);
    // The heartbeat that tells a to revoke starts the timer: 1 s from now, not 60 s.
    const told = h.must({
      memberId: "a",
      memberEpoch: 1,
      ownedPartitions: [{ topic: "foo", partitions: [0, 1, 2, 3, 4, 5] }],
    });
    expect(h.member("a")!.state).toBe("UnrevokedPartitions");
    expect(h.consumer.nextDeadline()).toBe(h.now + 1000);
    // Acknowledged in time: the timer is cancelled.
    h.advance(500);
    const ack = h.must({ memberId: "a", memberEpoch: 1, ownedPartitions: told.assignment.partitions });
    expect(h.member("a")!.state).not.toBe("UnrevokedPartitions");
    h.advance(600);
    h.alarm();
    expect(h.member("a")).toBeDefined();
    // A member that does not acknowledge a revocation is fenced when its timer expires.
    h.join("c", { foo: 6 });
    const again = h.must({
      memberId: "a",
      memberEpoch: ack.memberEpoch,
      ownedPartitions: ack.assignment.partitions,
    });
    expect(h.member("a")!.state).toBe("UnrevokedPartitions");
    expect(again.assignment.partitions.length).toBeGreaterThan(0);
    h.advance(999);
    h.alarm();
    expect(h.member("a")).toBeDefined();
    h.advance(1);
    h.alarm();
    expect(h.member("a")).toBeUndefined();
  });
});
