/**
 * Kafka's server-side RangeAssignorTest (group-coordinator, since KAFKA-16944), case by case with
 * Kafka's expected values; each test is named after the Kafka method it follows. Members are A, B, C;
 * `owned` is the member's current assignment in Kafka's test. Rack-aware cases have no counterpart
 * (cohort knows no racks), nor does a subscription to a topic missing from the metadata (cohort's
 * partition counts come from the subscriptions themselves).
 */
import { describe, expect, it } from "vitest";
import { getAssignor, type MemberSpec } from "../../../src/assignors";

type Plain = Record<string, Record<string, number[]>>;

function assign(members: MemberSpec[], topics: Record<string, number>): Plain {
  const result = getAssignor("range")!.assign({ members, topics: new Map(Object.entries(topics)) });
  const out: Plain = {};
  for (const [member, byTopic] of result) {
    out[member] = {};
    for (const [topic, partitions] of byTopic) if (partitions.length > 0) out[member][topic] = partitions;
  }
  return out;
}

const member = (
  memberId: string,
  topics: string[],
  owned: Record<string, number[]> = {},
  instanceId: string | null = null,
): MemberSpec => ({ memberId, instanceId, topics, owned });

describe("range as Kafka's RangeAssignorTest", () => {
  it("testOneMemberNoTopic", () => {
    expect(assign([member("A", [])], { topic1: 3 })).toEqual({ A: {} });
  });

  it("testFirstAssignmentTwoMembersTwoTopicsSameSubscriptions", () => {
    const topics = ["topic1", "topic3"];
    expect(assign([member("A", topics), member("B", topics)], { topic1: 3, topic3: 2 })).toEqual({
      A: { topic1: [0, 1], topic3: [0] },
      B: { topic1: [2], topic3: [1] },
    });
  });

  it("testFirstAssignmentThreeMembersThreeTopicsDifferentSubscriptions", () => {
    const members = [
      member("A", ["topic1", "topic2"]),
      member("B", ["topic3"]),
      member("C", ["topic2", "topic3"]),
    ];
    expect(assign(members, { topic1: 3, topic2: 3, topic3: 2 })).toEqual({
      A: { topic1: [0, 1, 2], topic2: [0, 1] },
      B: { topic3: [0] },
      C: { topic2: [2], topic3: [1] },
    });
  });

  it("testFirstAssignmentNumMembersGreaterThanNumPartitions", () => {
    const topics = ["topic1", "topic3"];
    const members = [member("A", topics), member("B", topics), member("C", topics)];
    expect(assign(members, { topic1: 3, topic3: 2 })).toEqual({
      A: { topic1: [0], topic3: [0] },
      B: { topic1: [1], topic3: [1] },
      C: { topic1: [2] },
    });
  });

  it("testStaticMembership", () => {
    const topics = { topic1: 3 };
    const initial = assign(
      [member("A", ["topic1"], {}, "instanceA"), member("B", ["topic1"], {}, "instanceB")],
      topics,
    );
    // memberA is replaced by memberA1 under the same instance id.
    const replaced = assign(
      [member("B", ["topic1"], {}, "instanceB"), member("memberA1", ["topic1"], {}, "instanceA")],
      topics,
    );
    expect(replaced.memberA1).toEqual(initial.A);
    expect(replaced.B).toEqual(initial.B);
  });

  it("testMixedStaticMembership", () => {
    const topics = { topic1: 5 };
    const initial = assign(
      [
        member("A", ["topic1"], {}, "instanceA"),
        member("C", ["topic1"], {}, "instanceC"),
        member("B", ["topic1"]),
      ],
      topics,
    );
    const replaced = assign(
      [
        member("C", ["topic1"], {}, "instanceC"),
        member("B", ["topic1"]),
        member("memberA1", ["topic1"], {}, "instanceA"),
      ],
      topics,
    );
    expect(replaced.memberA1).toEqual(initial.A);
    expect(replaced.B).toEqual(initial.B);
    expect(replaced.C).toEqual(initial.C);
    // Static members first by instance id, then the dynamic one.
    expect(initial).toEqual({ A: { topic1: [0, 1] }, C: { topic1: [2, 3] }, B: { topic1: [4] } });
  });

  it("testReassignmentNumMembersGreaterThanNumPartitionsWhenOneMemberAdded", () => {
    const topics = ["topic1", "topic2"];
    const members = [
      member("A", topics, { topic1: [0], topic2: [0] }),
      member("B", topics, { topic1: [1], topic2: [1] }),
      member("C", topics),
    ];
    expect(assign(members, { topic1: 2, topic2: 2 })).toEqual({
      A: { topic1: [0], topic2: [0] },
      B: { topic1: [1], topic2: [1] },
      C: {},
    });
  });

  it("testReassignmentWhenOnePartitionAddedForTwoMembersTwoTopics", () => {
    const topics = ["topic1", "topic2"];
    const members = [
      member("A", topics, { topic1: [0, 1], topic2: [0, 1] }),
      member("B", topics, { topic1: [2], topic2: [2] }),
    ];
    expect(assign(members, { topic1: 4, topic2: 4 })).toEqual({
      A: { topic1: [0, 1], topic2: [0, 1] },
      B: { topic1: [2, 3], topic2: [2, 3] },
    });
  });

  it("testReassignmentWhenOneMemberAddedAfterInitialAssignmentWithTwoMembersTwoTopics", () => {
    const topics = ["topic1", "topic2"];
    const members = [
      member("A", topics, { topic1: [0, 1], topic2: [0, 1] }),
      member("B", topics, { topic1: [2], topic2: [2] }),
      member("C", topics),
    ];
    expect(assign(members, { topic1: 3, topic2: 3 })).toEqual({
      A: { topic1: [0], topic2: [0] },
      B: { topic1: [1], topic2: [1] },
      C: { topic1: [2], topic2: [2] },
    });
  });

  it("testReassignmentWhenOneMemberAddedAndOnePartitionAfterInitialAssignmentWithTwoMembersTwoTopics", () => {
    const topics = ["topic1", "topic2"];
    const members = [
      member("A", topics, { topic1: [0, 1], topic2: [0, 1] }),
      member("B", topics, { topic1: [2], topic2: [2] }),
      member("C", ["topic1"]),
    ];
    expect(assign(members, { topic1: 4, topic2: 3 })).toEqual({
      A: { topic1: [0, 1], topic2: [0, 1] },
      B: { topic1: [2], topic2: [2] },
      C: { topic1: [3] },
    });
  });

  it("testReassignmentWhenOneMemberRemovedAfterInitialAssignmentWithTwoMembersTwoTopics", () => {
    const members = [member("B", ["topic1", "topic2"], { topic1: [2], topic2: [2] })];
    expect(assign(members, { topic1: 3, topic2: 3 })).toEqual({
      B: { topic1: [0, 1, 2], topic2: [0, 1, 2] },
    });
  });

  it("testReassignmentWhenMultipleSubscriptionsRemovedAfterInitialAssignmentWithThreeMembersTwoTopics", () => {
    // Subscriptions were A -> t1, t2; B -> t2; C -> t2, t3. They become A -> t1; B -> t1, t2, t3; C -> t2.
    const members = [
      member("A", ["topic1"], { topic1: [0, 1, 2], topic2: [0] }),
      member("B", ["topic1", "topic2", "topic3"], { topic2: [1] }),
      member("C", ["topic2"], { topic2: [2], topic3: [0, 1] }),
    ];
    expect(assign(members, { topic1: 3, topic2: 3, topic3: 2 })).toEqual({
      A: { topic1: [0, 1] },
      B: { topic1: [2], topic2: [0, 1], topic3: [0, 1] },
      C: { topic2: [2] },
    });
  });
});
