/**
 * The consumer group reports each removed member as data (`takeRemovals`), with the code its next
 * heartbeat gets, so the shell can tell the member's watch sockets and close them (API.md §5).
 */

import { describe, expect, it } from "vitest";
import { Harness } from "./harness";

const removal = (memberId: string, code: string, why: RegExp) => ({
  memberId,
  code,
  message: expect.stringMatching(why),
});

describe("takeRemovals", () => {
  it("reports a member expired by its session, with the code of its next heartbeat", () => {
    const h = new Harness();
    h.join("a", { t: 2 });
    h.join("b", { t: 2 });
    h.advance(30_000);
    h.must({ memberId: "b", memberEpoch: h.consumer.members.get("b")!.memberEpoch });
    h.advance(15_000);
    h.alarm();
    expect(h.consumer.takeRemovals()).toEqual([removal("a", "UNKNOWN_MEMBER_ID", /session timeout/)]);
    const next = h.heartbeat({ memberId: "a", memberEpoch: 1 });
    expect(!next.ok && next.error.code).toBe("UNKNOWN_MEMBER_ID");
    // Taken once: the next call reports nothing.
    expect(h.consumer.takeRemovals()).toEqual([]);
  });

  it("reports a member fenced by its rebalance timeout", () => {
    const h = new Harness();
    h.join("a", { t: 2 }, { rebalanceTimeoutMs: 1000 });
    h.must({ memberId: "a", memberEpoch: 1, ownedPartitions: [{ topic: "t", partitions: [0, 1] }] });
    h.join("b", { t: 2 });
    // a is told to revoke, and never does.
    h.must({ memberId: "a", memberEpoch: 1, ownedPartitions: [{ topic: "t", partitions: [0, 1] }] });
    expect(h.consumer.takeRemovals()).toEqual([]);
    h.advance(1000);
    h.alarm();
    expect(h.consumer.takeRemovals()).toEqual([removal("a", "UNKNOWN_MEMBER_ID", /rebalance timeout/)]);
  });

  it("reports a member that left with -1, and none for a static member's temporary leave", () => {
    const h = new Harness();
    h.join("a", { t: 2 });
    h.join("s", { t: 2 }, { groupInstanceId: "i1" });
    h.must({ memberId: "s", memberEpoch: -2, groupInstanceId: "i1" });
    expect(h.consumer.takeRemovals()).toEqual([]);
    h.must({ memberId: "a", memberEpoch: -1 });
    expect(h.consumer.takeRemovals()).toEqual([removal("a", "UNKNOWN_MEMBER_ID", /left the group/)]);
  });

  it("reports a static member replaced under a new member id as FENCED_INSTANCE_ID, not one rejoining", () => {
    const h = new Harness();
    h.join("s", { t: 2 }, { groupInstanceId: "i1" });
    h.must({ memberId: "s", memberEpoch: -2, groupInstanceId: "i1" });
    h.join("s", { t: 2 }, { groupInstanceId: "i1" });
    expect(h.consumer.takeRemovals()).toEqual([]);
    h.must({ memberId: "s", memberEpoch: -2, groupInstanceId: "i1" });
    h.join("s2", { t: 2 }, { groupInstanceId: "i1" });
    expect(h.consumer.takeRemovals()).toEqual([
      removal("s", "FENCED_INSTANCE_ID", /i1 is now held by member s2/),
    ]);
    const next = h.heartbeat({ memberId: "s", memberEpoch: 1, groupInstanceId: "i1" });
    expect(next.ok).toBe(false);
  });
});
