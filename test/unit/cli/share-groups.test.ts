/**
 * `cohort share-groups …` through main() against canned API.md §7 answers: kafka-share-groups.sh's
 * columns (GROUP TOPIC PARTITION START-OFFSET LAG, then cohort's in-flight counts; members with
 * MEMBER-EPOCH and `topic:0,1;other:2` assignments), Kafka's notes for empty groups, the archived list
 * over every page, the requests reset, delete-offsets and redrive send, and usage errors (exit 2)
 * that reach no coordinator.
 */

import { describe, expect, it } from "vitest";
import { runMain } from "./run-main.ts";

interface Sent {
  method: string;
  path: string;
  query: string;
  body: unknown;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const SHARE_GROUP = {
  groupId: "jobs-workers",
  type: "share",
  state: "Stable",
  groupEpoch: 4,
  protocolType: "share",
  leaderId: null,
  members: [
    {
      memberId: "m-b",
      groupInstanceId: null,
      clientId: "w2",
      clientHost: "/10.0.0.2",
      memberEpoch: 4,
      assignment: [{ topic: "jobs", partitions: [1] }],
    },
    {
      memberId: "m-a",
      groupInstanceId: null,
      clientId: "w1",
      clientHost: "/10.0.0.1",
      memberEpoch: 4,
      assignment: [
        { topic: "mail", partitions: [0] },
        { topic: "jobs", partitions: [1, 0] },
      ],
    },
  ],
  partitions: [
    {
      topic: "jobs",
      partition: 1,
      startOffset: 40,
      endOffset: 52,
      logEndOffset: 60,
      acquired: 10,
      available: 0,
      acknowledged: 1,
      archived: 1,
      lag: 18,
    },
    {
      topic: "jobs",
      partition: 0,
      startOffset: 7,
      endOffset: 7,
      logEndOffset: 7,
      acquired: 0,
      available: 0,
      acknowledged: 0,
      archived: 0,
      lag: 0,
    },
    {
      topic: "mail",
      partition: 0,
      startOffset: null,
      endOffset: null,
      logEndOffset: null,
      acquired: 0,
      available: 0,
      acknowledged: 0,
      archived: 0,
      lag: null,
    },
  ],
};

const ARCHIVED = [
  {
    topic: "jobs",
    partition: 1,
    firstOffset: 44,
    lastOffset: 44,
    deliveryCount: 5,
    reason: "delivery_limit",
    archivedAt: Date.UTC(2026, 11, 1, 12),
  },
  {
    topic: "jobs",
    partition: 1,
    firstOffset: 47,
    lastOffset: 49,
    deliveryCount: 1,
    reason: "rejected",
    archivedAt: Date.UTC(2026, 11, 1, 12, 5),
  },
];

function coordinator(group: unknown = SHARE_GROUP) {
  const sent: Sent[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? "GET";
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
    sent.push({ method, path: url.pathname, query: url.search, body });
    const p = url.pathname;
    if (p === "/v1/groups")
      return json(200, {
        groups: [{ groupId: "jobs-workers", type: "share", state: "Stable", members: 2 }],
        nextCursor: null,
      });
    if (p.endsWith("/share/archived/redrive")) return json(200, { redriven: 3 });
    if (p.endsWith("/share/archived")) {
      const second = url.searchParams.get("cursor") === "page-2";
      return json(200, {
        ranges: second ? ARCHIVED.slice(1) : ARCHIVED.slice(0, 1),
        nextCursor: second ? null : "page-2",
      });
    }
    if (p.endsWith("/offsets/reset"))
      return json(200, {
        dryRun: body.dryRun,
        offsets: [{ topic: "jobs", partition: 0, previousOffset: 7, newOffset: 0 }],
      });
    if (method === "DELETE") return json(200, { deleted: 2 });
    return json(200, group);
  };
  return { sent, fetch: fetch as typeof globalThis.fetch };
}

async function cohort(args: string[], group?: unknown) {
  const c = coordinator(group);
  return { ...(await runMain(args, c.fetch)), sent: c.sent };
}

const cells = (table: string) => table.split("\n").map((line) => line.trim().split(/ {2,}/));

describe("share-groups describe", () => {
  it("offsets (the default): Kafka's columns, then the in-flight counts, sorted, '-' where unknown", async () => {
    const { code, stdout, stderr } = await cohort(["share-groups", "describe", "jobs-workers"]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(cells(stdout)).toEqual([
      [
        "GROUP",
        "TOPIC",
        "PARTITION",
        "START-OFFSET",
        "LAG",
        "LOG-END-OFFSET",
        "ACQUIRED",
        "AVAILABLE",
        "ACKNOWLEDGED",
        "ARCHIVED",
      ],
      ["jobs-workers", "jobs", "0", "7", "0", "7", "0", "0", "0", "0"],
      ["jobs-workers", "jobs", "1", "40", "18", "60", "10", "0", "1", "1"],
      ["jobs-workers", "mail", "0", "-", "-", "-", "0", "0", "0", "0"],
    ]);
  });

  it("members: MEMBER-EPOCH and Kafka's assignment text; an Empty group gets Kafka's note", async () => {
    const { stdout } = await cohort(["share-groups", "describe", "jobs-workers", "--members"]);
    expect(cells(stdout)).toEqual([
      ["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "MEMBER-EPOCH", "ASSIGNMENT"],
      ["jobs-workers", "m-a", "/10.0.0.1", "w1", "3", "4", "jobs:0,1;mail:0"],
      ["jobs-workers", "m-b", "/10.0.0.2", "w2", "1", "4", "jobs:1"],
    ]);
    const empty = await cohort(["share-groups", "describe", "idle", "--members"], {
      ...SHARE_GROUP,
      groupId: "idle",
      state: "Empty",
      members: [],
    });
    expect(cells(empty.stdout)).toHaveLength(1);
    expect(empty.stderr).toBe("Share group 'idle' has no active members.");
  });

  it("state, and the archived list across pages with the topic filter passed on", async () => {
    const state = await cohort(["share-groups", "describe", "jobs-workers", "--state"]);
    expect(cells(state.stdout)).toEqual([
      ["GROUP", "STATE", "GROUP-EPOCH", "#MEMBERS"],
      ["jobs-workers", "Stable", "4", "2"],
    ]);
    const archived = await cohort([
      "share-groups",
      "describe",
      "jobs-workers",
      "--archived",
      "--topic",
      "jobs",
    ]);
    expect(cells(archived.stdout)).toEqual([
      [
        "GROUP",
        "TOPIC",
        "PARTITION",
        "FIRST-OFFSET",
        "LAST-OFFSET",
        "DELIVERY-COUNT",
        "REASON",
        "ARCHIVED-AT",
      ],
      ["jobs-workers", "jobs", "1", "44", "44", "5", "delivery_limit", "2026-12-01T12:00:00.000Z"],
      ["jobs-workers", "jobs", "1", "47", "49", "1", "rejected", "2026-12-01T12:05:00.000Z"],
    ]);
    expect(archived.sent.map((s) => s.query)).toEqual(["?topic=jobs", "?topic=jobs&cursor=page-2"]);
    const asJson = JSON.parse(
      (await cohort(["share-groups", "describe", "jobs-workers", "--archived", "--json"])).stdout,
    );
    expect(asJson).toEqual({ groupId: "jobs-workers", ranges: ARCHIVED });
  });

  it("a group of another type is refused (exit 1, INCONSISTENT_GROUP_PROTOCOL); no partitions: Kafka's note", async () => {
    const consumer = await cohort(["share-groups", "describe", "billing"], {
      ...SHARE_GROUP,
      type: "consumer",
    });
    expect(consumer.code).toBe(1);
    expect(consumer.stderr).toMatch(
      /^cohort: INCONSISTENT_GROUP_PROTOCOL \(Kafka 23, HTTP 409\): group billing is a consumer group/,
    );
    const bare = await cohort(["share-groups", "describe", "new"], {
      ...SHARE_GROUP,
      groupId: "new",
      partitions: [],
    });
    expect(bare.stdout).toBe("Share group 'new' has no offset information.");
  });
});

describe("share-groups list, reset-offsets, delete-offsets, redrive", () => {
  it("lists share groups only, with the state filter", async () => {
    const { stdout, sent } = await cohort(["share-groups", "list", "--state", "Stable"]);
    expect(cells(stdout)).toEqual([
      ["GROUP", "STATE", "#MEMBERS"],
      ["jobs-workers", "Stable", "2"],
    ]);
    expect(sent[0]!.query).toBe("?state=Stable&type=share");
  });

  it("reset-offsets is a dry run unless --execute; shift is a usage error", async () => {
    const dry = await cohort(["share-groups", "reset-offsets", "g", "--topic", "jobs", "--to-earliest"]);
    expect(dry.sent[0]).toMatchObject({
      path: "/v1/groups/g/offsets/reset",
      body: { topic: "jobs", to: "earliest", dryRun: true },
    });
    expect(dry.stderr).toContain("Dry run");
    const real = await cohort([
      "share-groups",
      "reset-offsets",
      "g",
      "--topic",
      "jobs",
      "--partitions",
      "0",
      "--to-offset",
      "3",
      "--execute",
    ]);
    expect(real.sent[0]!.body).toEqual({
      topic: "jobs",
      partitions: [0],
      to: "offset",
      offset: 3,
      dryRun: false,
    });
    const shift = await cohort(["share-groups", "reset-offsets", "g", "--topic", "jobs", "--shift-by", "-1"]);
    expect(shift).toMatchObject({ code: 2, sent: [] });
  });

  it("delete-offsets and redrive send their requests", async () => {
    const deleted = await cohort([
      "share-groups",
      "delete-offsets",
      "g",
      "--topic",
      "jobs",
      "--partitions",
      "0,1",
    ]);
    expect(deleted.sent[0]).toMatchObject({
      method: "DELETE",
      path: "/v1/groups/g/offsets/jobs",
      query: "?partition=0&partition=1",
    });
    expect(cells(deleted.stdout)).toEqual([
      ["TOPIC", "STATUS"],
      ["jobs", "Successful (2 share-partitions)"],
    ]);
    const redrive = await cohort([
      "share-groups",
      "redrive",
      "g",
      "--topic",
      "jobs",
      "--partition",
      "1",
      "--first-offset",
      "47",
      "--last-offset",
      "49",
    ]);
    expect(redrive.sent[0]).toMatchObject({
      method: "POST",
      path: "/v1/groups/g/share/archived/redrive",
      body: { topic: "jobs", partition: 1, firstOffset: 47, lastOffset: 49 },
    });
    expect(redrive.stdout).toBe(
      "Redrove 3 archived offsets of topic 'jobs' partition 1 from offset 47 to offset 49 in share group 'g': available again, delivery count 0.",
    );
  });

  it("usage errors exit 2 before any request", async () => {
    for (const args of [
      ["share-groups", "describe"],
      ["share-groups", "describe", "g", "--members", "--archived"],
      ["share-groups", "redrive", "g"],
      ["share-groups", "redrive", "g", "--topic", "jobs", "--first-offset", "-3"],
      ["share-groups", "list", "--type", "consumer"],
      ["share-groups", "frob", "g"],
    ]) {
      const result = await cohort(args);
      expect({ args, code: result.code, sent: result.sent.length }).toEqual({ args, code: 2, sent: 0 });
    }
  });
});
