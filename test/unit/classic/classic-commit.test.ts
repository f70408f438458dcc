/**
 * Classic OffsetCommit validation in Kafka's order (API.md §3, `ClassicGroup.validateOffsetCommit`): a
 * negative generation on an Empty group passes; otherwise the member (instance id, then member id) is
 * checked first, then the generation, then the state. Each case is named after the Kafka test it follows
 * and expects the error that test asserts.
 */

import { describe, expect, it } from "vitest";
import type { CommitAuth } from "../../../src/core/group";
import { checkCommitter } from "../../../src/core/offsets";
import { consumerAssignment, Driver } from "./harness";

const codeOf = (d: Driver, auth: CommitAuth): string => checkCommitter(d.group, auth, d.now)?.code ?? "OK";

/** One member (static when `instance` is given) past its join: CompletingRebalance at generation 1. */
function completingRebalance(instance?: string): { d: Driver; memberId: string } {
  const d = new Driver();
  const step = instance ? d.join("", { groupInstanceId: instance }) : d.newMember().step;
  d.advance(d.config.groupInitialRebalanceDelayMs * 2);
  const memberId = d.value(step).memberId;
  expect(d.group.state).toBe("CompletingRebalance");
  expect(d.group.generationId).toBe(1);
  return { d, memberId };
}

/** The same member's sync: Stable at generation 1. */
function stabilize(d: Driver, memberId: string, instance?: string): void {
  d.sync(memberId, 1, { [memberId]: consumerAssignment("orders", [0]) }, instance);
  expect(d.group.state).toBe("Stable");
}

describe("classic commit validation order (Kafka's ClassicGroupTest, OffsetMetadataManagerTest)", () => {
  it("testValidateOffsetCommit", () => {
    const fresh = new Driver();
    // A call from an admin client without any parameters passes on an Empty group.
    expect(codeOf(fresh, { memberId: "", generationId: -1 })).toBe("OK");

    const { d, memberId } = completingRebalance("instance-id");
    // No parameters and the group is not Empty.
    expect(codeOf(d, { memberId: "", generationId: -1 })).toBe("UNKNOWN_MEMBER_ID");
    // The member id does not exist.
    expect(codeOf(d, { memberId: "unknown", groupInstanceId: "unknown", generationId: -1 })).toBe(
      "UNKNOWN_MEMBER_ID",
    );
    // The instance id does not exist: the member is checked before the generation.
    expect(codeOf(d, { memberId, groupInstanceId: "unknown", generationId: -1 })).toBe("UNKNOWN_MEMBER_ID");
    // The generation id is invalid.
    expect(codeOf(d, { memberId, groupInstanceId: "instance-id", generationId: 0 })).toBe(
      "ILLEGAL_GENERATION",
    );
    // The group is completing its rebalance.
    expect(codeOf(d, { memberId, groupInstanceId: "instance-id", generationId: 1 })).toBe(
      "REBALANCE_IN_PROGRESS",
    );

    stabilize(d, memberId, "instance-id");
    expect(codeOf(d, { memberId, groupInstanceId: "instance-id", generationId: 1 })).toBe("OK");

    // Replace the static member: the old member id is fenced.
    const replaced = d.value(d.join("", { groupInstanceId: "instance-id" }));
    expect(replaced.memberId).not.toBe(memberId);
    expect(codeOf(d, { memberId, groupInstanceId: "instance-id", generationId: 1 })).toBe(
      "FENCED_INSTANCE_ID",
    );
    expect(codeOf(d, { memberId: replaced.memberId, groupInstanceId: "instance-id", generationId: 1 })).toBe(
      "OK",
    );
  });

  it("testGenericGroupOffsetCommitWithUnknownMemberId", () => {
    const d = new Driver();
    expect(d.group.state).toBe("Empty");
    expect(codeOf(d, { memberId: "member", generationId: 10 })).toBe("UNKNOWN_MEMBER_ID");
  });

  it("testGenericGroupOffsetCommitWithIllegalGeneration", () => {
    const { d, memberId } = completingRebalance("new-instance-id");
    expect(codeOf(d, { memberId, generationId: 10 })).toBe("ILLEGAL_GENERATION");
  });

  it("testGenericGroupOffsetCommitWithUnknownInstanceId: a dynamic member naming an instance id", () => {
    const { d, memberId } = completingRebalance();
    expect(codeOf(d, { memberId, groupInstanceId: "instanceid", generationId: 10 })).toBe(
      "UNKNOWN_MEMBER_ID",
    );
    // Also with the current generation, in CompletingRebalance and in Stable: the instance id decides.
    expect(codeOf(d, { memberId, groupInstanceId: "instanceid", generationId: 1 })).toBe("UNKNOWN_MEMBER_ID");
    stabilize(d, memberId);
    expect(codeOf(d, { memberId, groupInstanceId: "instanceid", generationId: 1 })).toBe("UNKNOWN_MEMBER_ID");
    expect(codeOf(d, { memberId, generationId: 1 })).toBe("OK");
  });

  it("testGenericGroupOffsetCommitWithFencedInstanceId: a static member naming an instance id it does not hold", () => {
    const { d, memberId } = completingRebalance("new-instance-id");
    expect(codeOf(d, { memberId, groupInstanceId: "old-instance-id", generationId: 10 })).toBe(
      "UNKNOWN_MEMBER_ID",
    );
    // The member is validated before the state: not REBALANCE_IN_PROGRESS.
    expect(codeOf(d, { memberId, groupInstanceId: "old-instance-id", generationId: 1 })).toBe(
      "UNKNOWN_MEMBER_ID",
    );
    stabilize(d, memberId, "new-instance-id");
    expect(codeOf(d, { memberId, groupInstanceId: "old-instance-id", generationId: 1 })).toBe(
      "UNKNOWN_MEMBER_ID",
    );
    // A static member may commit without its instance id, as Kafka allows.
    expect(codeOf(d, { memberId, generationId: 1 })).toBe("OK");
  });

  it("testGenericGroupOffsetCommitWhileInCompletingRebalanceState", () => {
    const { d, memberId } = completingRebalance("new-instance-id");
    expect(codeOf(d, { memberId, generationId: 1 })).toBe("REBALANCE_IN_PROGRESS");
  });

  it("testGenericGroupOffsetCommitWithoutMemberIdAndGeneration", () => {
    const { d } = completingRebalance("new-instance-id");
    expect(codeOf(d, {})).toBe("UNKNOWN_MEMBER_ID");
  });

  it("validateOffsetCommit: PreparingRebalance accepts the current generation", () => {
    const { d, memberId } = completingRebalance();
    stabilize(d, memberId);
    d.newMember();
    expect(d.group.state).toBe("PreparingRebalance");
    expect(codeOf(d, { memberId, generationId: 1 })).toBe("OK");
    expect(codeOf(d, { memberId, generationId: 2 })).toBe("ILLEGAL_GENERATION");
  });

  it("validateOffsetCommit: a negative generation passes on an Empty group, whatever identity it carries", () => {
    const d = new Driver();
    expect(codeOf(d, { generationId: -1 })).toBe("OK");
    expect(codeOf(d, { memberId: "member", generationId: -1 })).toBe("OK");
    expect(codeOf(d, { memberId: "member", groupInstanceId: "instance", generationId: -1 })).toBe("OK");
    // A non-negative generation is a member's commit: checked.
    expect(codeOf(d, { memberId: "member", generationId: 0 })).toBe("UNKNOWN_MEMBER_ID");
    const { d: busy, memberId } = completingRebalance();
    stabilize(busy, memberId);
    // With members, −1 is no generation of the group.
    expect(codeOf(busy, { memberId, generationId: -1 })).toBe("ILLEGAL_GENERATION");
    expect(codeOf(busy, { groupInstanceId: "instance", generationId: -1 })).toBe("UNKNOWN_MEMBER_ID");
  });
});
