/**
 * Size bounds over HTTP (README, Configuration): the ~360-byte join that declared 10 topics × 100,000
 * partitions is a 400 naming GROUP_MAX_PARTITIONS and creates nothing; a maximal legal join (one
 * member given all GROUP_MAX_PARTITIONS partitions, subscribed to 1,000 topics of the longest name)
 * keeps every SQLite row under 1 MB and survives a restart; classic metadata and assignments over
 * their byte limits are 400s.
 */

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectError, freshGroup } from "./helpers";

const GROUP_MAX_PARTITIONS = 100_000;

/** The longest row of every table of the group's object, in UTF-8 bytes. */
async function longestRows(groupId: string): Promise<Record<string, number>> {
  return runInDurableObject(env.GROUPS.getByName(groupId), (_instance, state) => {
    const longest = (query: string) => (state.storage.sql.exec(query).one().n as number | null) ?? 0;
    return {
      group_row: longest("SELECT MAX(LENGTH(CAST(record AS BLOB))) AS n FROM group_row"),
      members: longest("SELECT MAX(LENGTH(CAST(record AS BLOB))) AS n FROM members"),
      record_parts: longest("SELECT MAX(LENGTH(CAST(record AS BLOB))) AS n FROM record_parts"),
      offsets: longest(
        "SELECT MAX(LENGTH(CAST(topic AS BLOB)) + LENGTH(CAST(metadata AS BLOB)) + 48) AS n FROM offsets",
      ),
    };
  });
}

describe("consumer group size bounds", () => {
  it("refuses one join declaring 10 topics × 100,000 partitions, naming the limit, and keeps no trace", async () => {
    const g = freshGroup();
    const body = {
      memberId: "m",
      memberEpoch: 0,
      subscribedTopics: Array.from({ length: 10 }, (_, i) => ({ name: `t${i}`, partitions: 100_000 })),
      ownedPartitions: [],
    };
    expect(JSON.stringify(body).length).toBeLessThan(500);
    const res = await call("POST", `/v1/groups/${g}/heartbeat`, body);
    expectError(res, 400, "INVALID_REQUEST", 42);
    expect(res.body.error.message).toContain(`GROUP_MAX_PARTITIONS (${GROUP_MAX_PARTITIONS})`);
    expect((await call("GET", `/v1/groups/${g}`)).status).toBe(404);
  });

  it("keeps every row under 1 MB for a maximal legal member, and restores it from its rows", async () => {
    const g = freshGroup();
    // 1,000 subscribed topics (the most a heartbeat may list) of 249 characters; two of them hold
    // 50,000 partitions each, so one member is given GROUP_MAX_PARTITIONS.
    const name = (i: number) => `${String(i).padStart(4, "0")}${"x".repeat(245)}`;
    const subscribedTopics = Array.from({ length: 1000 }, (_, i) => ({
      name: name(i),
      partitions: i < 2 ? 50_000 : 0,
    }));
    const clientId = "é".repeat(1024);
    const joined = await call("POST", `/v1/groups/${g}/heartbeat`, {
      memberId: "big",
      memberEpoch: 0,
      clientId,
      subscribedTopics,
      ownedPartitions: [],
    });
    expect(joined.body).toMatchObject({ memberId: "big" });
    const given = joined.body.assignment.partitions.reduce(
      (n: number, tp: any) => n + tp.partitions.length,
      0,
    );
    expect(given).toBe(GROUP_MAX_PARTITIONS);
    const rows = await longestRows(g);
    for (const [table, bytes] of Object.entries(rows)) expect(bytes, table).toBeLessThan(1_000_000);
    expect(rows.record_parts).toBeGreaterThan(0);

    // The record comes back whole after a restart: the member keeps its epoch and partitions.
    await evictDurableObject(env.GROUPS.getByName(g));
    const described = await call("GET", `/v1/groups/${g}`);
    expect(described.body.members).toHaveLength(1);
    expect(described.body.members[0].clientId).toBe(clientId);
    const after = await call("POST", `/v1/groups/${g}/heartbeat`, {
      memberId: "big",
      memberEpoch: joined.body.memberEpoch,
      ownedPartitions: joined.body.assignment.partitions,
    });
    expect(after.status).toBe(200);
    expect(after.body.assignment).toEqual(joined.body.assignment);

    // Leaving removes the member's continuation rows too.
    await call("POST", `/v1/groups/${g}/heartbeat`, { memberId: "big", memberEpoch: -1 });
    expect((await longestRows(g)).record_parts).toBe(0);
  });
});

describe("classic size bounds", () => {
  const join = (g: string, metadata: string[]) =>
    call("POST", `/v1/groups/${g}/classic/join`, {
      memberId: "",
      sessionTimeoutMs: 10_000,
      protocolType: "consumer",
      protocols: metadata.map((m, i) => ({ name: `p${i}`, metadata: m })),
    });

  it("refuses protocol metadata over 256 KiB (all protocols together), naming the limit", async () => {
    const g = freshGroup();
    const res = await join(g, ["a".repeat(131_072), "é".repeat(65_537)]);
    expectError(res, 400, "INVALID_REQUEST", 42);
    expect(JSON.stringify(res.body.error.issues)).toContain("262144 bytes");
    expect((await call("GET", `/v1/groups/${g}`)).status).toBe(404);
    expect(
      (await join(g, [JSON.stringify({ topics: ["t"], userData: "u".repeat(200_000) })])).body.error.code,
    ).toBe("MEMBER_ID_REQUIRED");
  });

  it("refuses an assignment over 256 KiB in a sync, naming the limit", async () => {
    const g = freshGroup();
    const res = await call("POST", `/v1/groups/${g}/classic/sync`, {
      memberId: "m",
      generationId: 1,
      assignments: [{ memberId: "m", assignment: "x".repeat(262_145) }],
    });
    expectError(res, 400, "INVALID_REQUEST", 42);
    expect(JSON.stringify(res.body.error.issues)).toContain("262144 bytes");
  });
});
