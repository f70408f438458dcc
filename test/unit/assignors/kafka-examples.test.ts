/** Exact examples from Kafka's assignor javadoc (and KIP-429/KIP-848), plus the registry. */
import { describe, expect, it } from "vitest";
import {
  ASSIGNOR_NAMES,
  type Assignment,
  DEFAULT_SERVER_ASSIGNOR,
  type GroupSpec,
  getAssignor,
  type MemberSpec,
} from "../../../src/assignors";

/** Renders an assignment as Kafka's javadoc writes it: C0: [t0p0, t1p1]. */
function plain(assignment: Assignment): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [member, topics] of assignment) {
    result[member] = [...topics].flatMap(([topic, partitions]) => partitions.map((p) => `${topic}p${p}`));
  }
  return result;
}

function run(name: string, members: MemberSpec[], topics: Record<string, number>): Record<string, string[]> {
  const group: GroupSpec = { members, topics: new Map(Object.entries(topics)) };
  return plain(getAssignor(name)!.assign(group));
}

const both = ["t0", "t1"];

describe("registry", () => {
  it("lists every assignor by its protocol name, uniform by default", () => {
    expect([...ASSIGNOR_NAMES].sort()).toEqual([
      "cooperative-sticky",
      "range",
      "roundrobin",
      "sticky",
      "uniform",
    ]);
    expect(DEFAULT_SERVER_ASSIGNOR).toBe("uniform");
    for (const name of ASSIGNOR_NAMES) expect(getAssignor(name)?.name).toBe(name);
    expect(getAssignor("no-such-assignor")).toBeUndefined();
  });

  it("returns every member, even one with nothing to do, and empty groups", () => {
    for (const name of ASSIGNOR_NAMES) {
      expect(run(name, [], { t0: 3 })).toEqual({});
      expect(run(name, [{ memberId: "C0", topics: ["gone"] }], { t0: 3 })).toEqual({ C0: [] });
    }
  });
});

describe("range", () => {
  it("javadoc: two members, two topics of 3 partitions", () => {
    const members = [
      { memberId: "C1", topics: both },
      { memberId: "C0", topics: both },
    ];
    expect(run("range", members, { t0: 3, t1: 3 })).toEqual({
      C0: ["t0p0", "t0p1", "t1p0", "t1p1"],
      C1: ["t0p2", "t1p2"],
    });
  });

  it("orders static members first, by instance id", () => {
    const members = [
      { memberId: "a", topics: ["t0"] },
      { memberId: "b", instanceId: "z", topics: ["t0"] },
      { memberId: "c", instanceId: "y", topics: ["t0"] },
    ];
    expect(run("range", members, { t0: 4 })).toEqual({ c: ["t0p0", "t0p1"], b: ["t0p2"], a: ["t0p3"] });
  });

  it("server-side range (since KAFKA-16944) ignores owned partitions", () => {
    const members = [
      { memberId: "C0", topics: ["t0"], owned: { t0: [0, 1] } },
      { memberId: "C1", topics: ["t0"], owned: { t0: [2] } },
      { memberId: "C2", topics: ["t0"] },
    ];
    // The same as with no ownership: C1 moves to p1 and C2 takes p2, so co-partitioning never depends on history.
    expect(run("range", members, { t0: 3 })).toEqual({ C0: ["t0p0"], C1: ["t0p1"], C2: ["t0p2"] });
  });
});

describe("roundrobin", () => {
  it("javadoc: identical subscriptions", () => {
    const members = [
      { memberId: "C0", topics: both },
      { memberId: "C1", topics: both },
    ];
    expect(run("roundrobin", members, { t0: 3, t1: 3 })).toEqual({
      C0: ["t0p0", "t0p2", "t1p1"],
      C1: ["t0p1", "t1p0", "t1p2"],
    });
  });

  it("javadoc: different subscriptions skip members that do not subscribe", () => {
    const members = [
      { memberId: "C2", topics: ["t0", "t1", "t2"] },
      { memberId: "C0", topics: ["t0"] },
      { memberId: "C1", topics: ["t0", "t1"] },
    ];
    expect(run("roundrobin", members, { t0: 1, t1: 2, t2: 3 })).toEqual({
      C0: ["t0p0"],
      C1: ["t1p0"],
      C2: ["t1p1", "t2p0", "t2p1", "t2p2"],
    });
  });
});

describe("sticky", () => {
  const four = ["t0", "t1", "t2", "t3"];
  const sizes = { t0: 2, t1: 2, t2: 2, t3: 2 };

  it("javadoc example 1: when C1 leaves, C0 and C2 keep everything they had", () => {
    const members: MemberSpec[] = [
      { memberId: "C0", topics: four, owned: { t0: [0], t1: [1], t3: [0] } },
      { memberId: "C2", topics: four, owned: { t1: [0], t2: [1] } },
    ];
    const result = run("sticky", members, sizes);
    expect(result.C0).toHaveLength(4);
    expect(result.C2).toHaveLength(4);
    expect(result.C0).toEqual(expect.arrayContaining(["t0p0", "t1p1", "t3p0"]));
    expect(result.C2).toEqual(expect.arrayContaining(["t1p0", "t2p1"]));
  });

  it("javadoc example 2: balanced where round robin is not, and sticky when C0 leaves", () => {
    const members = [
      { memberId: "C0", topics: ["t0"] },
      { memberId: "C1", topics: ["t0", "t1"] },
      { memberId: "C2", topics: ["t0", "t1", "t2"] },
    ];
    const first = run("sticky", members, { t0: 1, t1: 2, t2: 3 });
    expect(first).toEqual({ C0: ["t0p0"], C1: ["t1p0", "t1p1"], C2: ["t2p0", "t2p1", "t2p2"] });
    const second = run(
      "sticky",
      [
        { memberId: "C1", topics: ["t0", "t1"], owned: { t1: [0, 1] } },
        { memberId: "C2", topics: ["t0", "t1", "t2"], owned: { t2: [0, 1, 2] } },
      ],
      { t0: 1, t1: 2, t2: 3 },
    );
    expect(second).toEqual({ C1: ["t0p0", "t1p0", "t1p1"], C2: ["t2p0", "t2p1", "t2p2"] });
  });
});

describe("cooperative-sticky", () => {
  it("KIP-429: a joining member gets moved partitions only in the follow-up round", () => {
    const sizes = { t0: 4 };
    const first = run(
      "cooperative-sticky",
      [
        { memberId: "C0", topics: ["t0"], owned: { t0: [0, 1, 2, 3] } },
        { memberId: "C1", topics: ["t0"] },
      ],
      sizes,
    );
    // C0 keeps two and revokes two; nobody is handed the revoked ones yet.
    expect(first).toEqual({ C0: ["t0p0", "t0p1"], C1: [] });
    const second = run(
      "cooperative-sticky",
      [
        { memberId: "C0", topics: ["t0"], owned: { t0: [0, 1] } },
        { memberId: "C1", topics: ["t0"] },
      ],
      sizes,
    );
    expect(second).toEqual({ C0: ["t0p0", "t0p1"], C1: ["t0p2", "t0p3"] });
  });

  it("withholds a partition its reporter no longer subscribes to until it is revoked", () => {
    const members = [
      { memberId: "C0", topics: ["t1"], owned: { t0: [0] } },
      { memberId: "C1", topics: ["t0"] },
    ];
    expect(run("cooperative-sticky", members, { t0: 1, t1: 1 })).toEqual({ C0: ["t1p0"], C1: [] });
    expect(run("sticky", members, { t0: 1, t1: 1 })).toEqual({ C0: ["t1p0"], C1: ["t0p0"] });
  });

  it("partitions of a member that left move at once", () => {
    const result = run(
      "cooperative-sticky",
      [
        { memberId: "C0", topics: ["t0"], owned: { t0: [0] } },
        { memberId: "C1", topics: ["t0"] },
      ],
      { t0: 2 },
    );
    expect(result).toEqual({ C0: ["t0p0"], C1: ["t0p1"] });
  });
});

describe("uniform", () => {
  it("KIP-848: homogeneous from scratch is balanced in contiguous runs", () => {
    const members = ["A", "B", "C"].map((memberId) => ({ memberId, topics: both }));
    expect(run("uniform", members, { t0: 3, t1: 4 })).toEqual({
      A: ["t0p0", "t0p1", "t0p2"],
      B: ["t1p0", "t1p1"],
      C: ["t1p2", "t1p3"],
    });
  });

  it("KIP-848: a member joining takes only what balance requires", () => {
    const members: MemberSpec[] = [
      { memberId: "A", topics: both, owned: { t0: [0, 1, 2] } },
      { memberId: "B", topics: both, owned: { t1: [0, 1, 2] } },
      { memberId: "C", topics: both },
    ];
    expect(run("uniform", members, { t0: 3, t1: 3 })).toEqual({
      A: ["t0p0", "t0p1"],
      B: ["t1p0", "t1p1"],
      C: ["t0p2", "t1p2"],
    });
  });

  it("KIP-848: heterogeneous subscriptions are balanced as far as subscriptions allow", () => {
    const members = [
      { memberId: "A", topics: ["t0"] },
      { memberId: "B", topics: ["t0", "t1"] },
      { memberId: "C", topics: ["t1"] },
    ];
    const result = run("uniform", members, { t0: 3, t1: 3 });
    // Runs of up to the average load go to the least-loaded subscriber (ties by member order): 2/2/2.
    expect(result).toEqual({ A: ["t0p0", "t0p1"], B: ["t0p2", "t1p2"], C: ["t1p0", "t1p1"] });
  });
});
