/**
 * `cohort share-groups …` as a user runs it (a child process) against a local coordinator on workerd
 * (default settings: SHARE_AUTO_OFFSET_RESET=latest, 30 s locks). A share group is set up over HTTP
 * — a member acquires six records of one partition, accepts three and rejects one — and the CLI's
 * tables, notes, JSON and exit codes are checked against it, then redrive, reset and delete-offsets.
 */

import { beforeAll, describe, expect, it } from "vitest";
import { CohortAdmin } from "../../src/client/admin.ts";
import { cells, cohort, url } from "./run-cli.ts";

const admin = new CohortAdmin({ url });

const group = `share-cli-${Date.now().toString(36)}`;
const share = (route: string, body: unknown) =>
  admin.http.request<Record<string, unknown>>("POST", `/v1/groups/${group}/share/${route}`, { body });
const range = (firstOffset: number, lastOffset: number, type: string) => ({
  topic: "images",
  partition: 0,
  firstOffset,
  lastOffset,
  type,
});

beforeAll(async () => {
  await share("heartbeat", {
    memberId: "w-1",
    memberEpoch: 0,
    clientId: "worker-1",
    subscribedTopics: [{ name: "images", partitions: 2 }],
  });
  // `latest`: the first acquire starts both share-partitions at the log end reported, 0.
  const partitions = (end0: number) => [
    { topic: "images", partition: 0, logEndOffset: end0 },
    { topic: "images", partition: 1, logEndOffset: 0 },
  ];
  await share("acquire", { memberId: "w-1", maxRecords: 10, maxWaitMs: 0, partitions: partitions(0) });
  const { records } = await share("acquire", {
    memberId: "w-1",
    maxRecords: 6,
    maxWaitMs: 0,
    partitions: partitions(6),
  });
  expect(records).toEqual([
    { topic: "images", partition: 0, firstOffset: 0, lastOffset: 5, deliveryCount: 1 },
  ]);
  await share("acknowledge", {
    memberId: "w-1",
    acknowledgements: [range(0, 2, "accept"), range(3, 3, "reject")],
  });
});

const OFFSET_HEADERS = [
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
];

describe("share-groups list and describe", () => {
  it("list shows the share group; describe has kafka-share-groups.sh's columns and the in-flight counts", async () => {
    // The list follows a group's changes off the request path (API.md §6): poll until it shows them.
    let list = await cohort("share-groups", "list");
    for (
      let i = 0;
      i < 50 && !cells(list.stdout).some((row) => row[0] === group && row[1] === "Stable");
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
      list = await cohort("share-groups", "list");
    }
    expect(list.code).toBe(0);
    expect(cells(list.stdout)).toContainEqual([group, "Stable", "1"]);

    const offsets = await cohort("share-groups", "describe", group);
    expect(offsets.code).toBe(0);
    expect(cells(offsets.stdout)).toEqual([
      OFFSET_HEADERS,
      // 0–3 done (3 archived): SPSO 4; 4 and 5 still acquired by w-1.
      [group, "images", "0", "4", "2", "6", "2", "0", "0", "0"],
      [group, "images", "1", "0", "0", "0", "0", "0", "0", "0"],
    ]);
    const json = JSON.parse((await cohort("share-groups", "describe", group, "--json")).stdout);
    expect(json.partitions[0]).toMatchObject({ topic: "images", partition: 0, startOffset: 4, acquired: 2 });
  });

  it("members, state and the archived list", async () => {
    const members = cells((await cohort("share-groups", "describe", group, "--members")).stdout);
    expect(members[0]).toEqual([
      "GROUP",
      "CONSUMER-ID",
      "HOST",
      "CLIENT-ID",
      "#PARTITIONS",
      "MEMBER-EPOCH",
      "ASSIGNMENT",
    ]);
    expect(members).toHaveLength(2);
    const [g, id, , clientId, count, epoch, assignment] = members[1]!;
    expect([g, id, clientId, count, epoch, assignment]).toEqual([
      group,
      "w-1",
      "worker-1",
      "2",
      "1",
      "images:0,1",
    ]);

    const state = cells((await cohort("share-groups", "describe", group, "--state")).stdout);
    expect(state).toEqual([
      ["GROUP", "STATE", "GROUP-EPOCH", "#MEMBERS"],
      [group, "Stable", "1", "1"],
    ]);

    const archived = cells((await cohort("share-groups", "describe", group, "--archived")).stdout);
    expect(archived[0]).toEqual([
      "GROUP",
      "TOPIC",
      "PARTITION",
      "FIRST-OFFSET",
      "LAST-OFFSET",
      "DELIVERY-COUNT",
      "REASON",
      "ARCHIVED-AT",
    ]);
    expect(archived.slice(1).map((row) => row.slice(0, 7))).toEqual([
      [group, "images", "0", "3", "3", "1", "rejected"],
    ]);
    expect(Date.parse(archived[1]![7]!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("another type of group, or none, exits 1 with the coordinator's code", async () => {
    const classic = `classic-${group}`;
    await admin.commitOffsets(classic, { offsets: [{ topic: "t", partition: 0, offset: 1 }] });
    const wrongType = await cohort("share-groups", "describe", classic);
    expect(wrongType.code).toBe(1);
    expect(wrongType.stderr).toMatch(/^cohort: INCONSISTENT_GROUP_PROTOCOL \(Kafka 23, HTTP 409\)/);
    const missing = await cohort("share-groups", "describe", `${group}-none`, "--archived");
    expect(missing.code).toBe(1);
  });
});

describe("share-groups redrive, reset-offsets, delete-offsets", () => {
  it("redrive, then reset (Empty groups only, a dry run first) and delete-offsets", async () => {
    const redrive = await cohort("share-groups", "redrive", group, "--topic", "images", "--partition", "0");
    expect(redrive).toMatchObject({
      code: 0,
      stdout: `Redrove 1 archived offset of topic 'images' partition 0 in share group '${group}': available again, delivery count 0.`,
    });
    // Offset 3 is available again: SPSO moved back to it; the accepted 0–2 stay done.
    expect(cells((await cohort("share-groups", "describe", group)).stdout)[1]).toEqual([
      group,
      "images",
      "0",
      "3",
      "3",
      "6",
      "2",
      "1",
      "0",
      "0",
    ]);

    const refused = await cohort(
      "share-groups",
      "reset-offsets",
      group,
      "--topic",
      "images",
      "--to-latest",
      "--execute",
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^cohort: NON_EMPTY_GROUP \(Kafka 68, HTTP 409\)/);

    await share("heartbeat", { memberId: "w-1", memberEpoch: -1 });
    const dry = await cohort("share-groups", "reset-offsets", group, "--topic", "images", "--to-latest");
    expect(cells(dry.stdout)).toEqual([
      ["GROUP", "TOPIC", "PARTITION", "PREVIOUS-OFFSET", "NEW-OFFSET"],
      [group, "images", "0", "3", "6"],
      [group, "images", "1", "0", "0"],
    ]);
    expect(dry.stderr).toContain("Dry run");
    const empty = await cohort("share-groups", "describe", group);
    expect(cells(empty.stdout)[1]?.[3]).toBe("3"); // the dry run changed nothing
    expect(empty.stderr).toBe(`Share group '${group}' has no active members.`);

    const reset = await cohort(
      "share-groups",
      "reset-offsets",
      group,
      "--topic",
      "images",
      "--to-latest",
      "--execute",
    );
    expect(reset.code).toBe(0);
    expect(cells((await cohort("share-groups", "describe", group)).stdout)[1]).toEqual([
      group,
      "images",
      "0",
      "6",
      "0",
      "6",
      "0",
      "0",
      "0",
      "0",
    ]);

    const deleted = await cohort(
      "share-groups",
      "delete-offsets",
      group,
      "--topic",
      "images",
      "--partitions",
      "1",
    );
    expect(cells(deleted.stdout)).toEqual([
      ["TOPIC", "STATUS"],
      ["images", "Successful (1 share-partition)"],
    ]);
    expect(cells((await cohort("share-groups", "describe", group)).stdout).map((row) => row[2])).toEqual([
      "PARTITION",
      "0",
    ]);
  });
});
