/**
 * The `cohort` CLI as a user runs it: a child process (`node bin/cohort.mjs …`) against a local
 * coordinator on workerd. Checks each command's table and --json output, exit codes, and that a reset
 * without --execute changes nothing.
 */

import { beforeAll, describe, expect, it } from "vitest";
import { CohortAdmin } from "../../src/client/admin.ts";
import { cells, cohort, url } from "./run-cli.ts";

const admin = new CohortAdmin({ url });

const run = Date.now().toString(36);
const billing = `billing-${run}`;
const audit = `audit-${run}`;

beforeAll(async () => {
  await admin.commitOffsets(billing, {
    offsets: [
      { topic: "orders", partition: 0, offset: 42, logEndOffset: 120 },
      { topic: "orders", partition: 1, offset: 17, logEndOffset: 17 },
      { topic: "payments", partition: 0, offset: 5 },
    ],
  });
  await admin.commitOffsets(audit, { offsets: [{ topic: "orders", partition: 0, offset: 1 }] });
});

describe("groups", () => {
  it("lists groups in a table and as JSON, filtered by state", async () => {
    const table = await cohort("groups", "list");
    expect(table.code).toBe(0);
    const rows = cells(table.stdout);
    expect(rows[0]).toEqual(["GROUP", "TYPE", "STATE", "#MEMBERS"]);
    expect(rows).toContainEqual([billing, "classic", "Empty", "0"]);
    expect(rows).toContainEqual([audit, "classic", "Empty", "0"]);

    const json = await cohort("groups", "list", "--json");
    expect(JSON.parse(json.stdout)).toContainEqual({
      groupId: billing,
      type: "classic",
      state: "Empty",
      members: 0,
    });

    const stable = await cohort("groups", "list", "--state", "Stable", "--json");
    expect(JSON.parse(stable.stdout)).not.toContainEqual(expect.objectContaining({ groupId: billing }));
  });

  it("streams the list page by page, by prefix, as one table and one JSON array", async () => {
    const paged = await cohort("groups", "list", "--prefix", `audit-${run}`, "--page-size", "1");
    expect(paged.code).toBe(0);
    expect(cells(paged.stdout)).toEqual([
      ["GROUP", "TYPE", "STATE", "#MEMBERS"],
      [audit, "classic", "Empty", "0"],
    ]);
    const both = await cohort("groups", "list", "--page-size", "1", "--json");
    const ids = (JSON.parse(both.stdout) as { groupId: string }[]).map((g) => g.groupId);
    expect(ids).toEqual(expect.arrayContaining([audit, billing]));
    expect([...ids].sort()).toEqual(ids);
    expect(JSON.parse((await cohort("groups", "list", "--prefix", "none-such-", "--json")).stdout)).toEqual(
      [],
    );
    expect((await cohort("groups", "list", "--page-size", "0")).code).toBe(2);
    expect((await cohort("groups", "list", "--page-size", "1001")).code).toBe(2);
  });

  it("describes offsets with Kafka's columns, '-' where unknown", async () => {
    const { code, stdout } = await cohort("groups", "describe", billing);
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    expect(lines[0]?.split(/ +/)).toEqual([
      "GROUP",
      "TOPIC",
      "PARTITION",
      "CURRENT-OFFSET",
      "LOG-END-OFFSET",
      "LAG",
      "CONSUMER-ID",
      "HOST",
      "CLIENT-ID",
    ]);
    // Aligned: every column starts at the same character in each line.
    const lagColumn = lines[0]!.indexOf("LAG ");
    expect(lines.slice(1).map((line) => line.slice(lagColumn).split(/ +/)[0])).toEqual(["78", "0", "-"]);
    expect(cells(stdout).slice(1)).toEqual([
      [billing, "orders", "0", "42", "120", "78", "-", "-", "-"],
      [billing, "orders", "1", "17", "17", "0", "-", "-", "-"],
      [billing, "payments", "0", "5", "-", "-", "-", "-", "-"],
    ]);

    const json = JSON.parse((await cohort("groups", "describe", billing, "--offsets", "--json")).stdout);
    expect(json.totalLag).toBe(78);
    expect(json.partitions[0]).toMatchObject({ topic: "orders", partition: 0, currentOffset: 42, lag: 78 });
  });

  it("describes members and state", async () => {
    const members = await cohort("groups", "describe", billing, "--members");
    expect(members.code).toBe(0);
    expect(cells(members.stdout)).toEqual([
      ["GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "ASSIGNMENT"],
    ]);
    const state = await cohort("groups", "describe", billing, "--state");
    expect(cells(state.stdout)[1]).toEqual([billing, "classic", "-", "Empty", "0", "0"]);
    const json = JSON.parse((await cohort("groups", "describe", billing, "--members", "--json")).stdout);
    expect(json).toMatchObject({ groupId: billing, state: "Empty", members: [] });
  });

  it("shows lag per partition and in total", async () => {
    const { code, stdout } = await cohort("groups", "lag", billing);
    expect(code).toBe(0);
    expect(cells(stdout)[1]).toEqual([billing, "orders", "0", "42", "120", "78", "-"]);
    expect(stdout.split("\n").at(-1)).toBe("TOTAL-LAG: 78");
    const json = JSON.parse((await cohort("groups", "lag", billing, "--json")).stdout);
    expect(json).toEqual(await admin.lag(billing));
  });

  it("deletes a group; describing it then fails with exit code 1 and the coordinator's error", async () => {
    const deleted = await cohort("groups", "delete", audit);
    expect(deleted).toMatchObject({
      code: 0,
      stdout: `Deletion of requested consumer groups ('${audit}') was successful.`,
    });
    const missing = await cohort("groups", "describe", audit);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toMatch(/^cohort: GROUP_ID_NOT_FOUND \(Kafka 69, HTTP 404\): /);
  });
});

describe("offsets", () => {
  it("reset is a dry run by default and changes nothing", async () => {
    const before = await admin.fetchOffsets(billing);
    const dry = await cohort("offsets", "reset", billing, "--topic", "orders", "--shift-by", "-10");
    expect(dry.code).toBe(0);
    expect(cells(dry.stdout)).toEqual([
      ["GROUP", "TOPIC", "PARTITION", "PREVIOUS-OFFSET", "NEW-OFFSET"],
      [billing, "orders", "0", "42", "32"],
      [billing, "orders", "1", "17", "7"],
    ]);
    expect(dry.stderr).toContain("Dry run: nothing was changed");
    const explicit = await cohort(
      "offsets",
      "reset",
      billing,
      "--topic",
      "orders",
      "--to-earliest",
      "--dry-run",
      "--json",
    );
    expect(JSON.parse(explicit.stdout)).toMatchObject({
      dryRun: true,
      offsets: [{ newOffset: 0 }, { newOffset: 0 }],
    });
    expect(await admin.fetchOffsets(billing)).toEqual(before);
  });

  it("reset --execute applies to the chosen partitions", async () => {
    const { code, stdout } = await cohort(
      "offsets",
      "reset",
      billing,
      "--topic",
      "orders",
      "--partitions",
      "0",
      "--to-offset",
      "100",
      "--execute",
      "--json",
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      dryRun: false,
      offsets: [{ topic: "orders", partition: 0, previousOffset: 42, newOffset: 100 }],
    });
    expect((await admin.fetchOffset(billing, "orders", 0)).offset).toBe(100);
    expect((await admin.fetchOffset(billing, "orders", 1)).offset).toBe(17);
  });

  it("deletes a topic's offsets for some partitions", async () => {
    const group = `del-${run}`;
    await admin.commitOffsets(group, {
      offsets: [0, 1, 2].map((partition) => ({ topic: "t", partition, offset: 3 })),
    });
    const { code, stdout } = await cohort("offsets", "delete", group, "--topic", "t", "--partitions", "0,2");
    expect(code).toBe(0);
    expect(stdout).toBe(`Deleted 2 committed offsets of topic 't' from group '${group}'.`);
    expect((await admin.fetchOffsets(group)).offsets.map((o) => o.partition)).toEqual([1]);
  });
});

describe("client-supplied strings", () => {
  // A consumer-protocol member names itself; its id and client id are free text (≤ 1024 characters).
  const memberId = "\u001b]0;pwned\u0007m1\r\nFAKE  ROW\u202eexe.txt";
  const clientId = "\u001b[2J\u001b[31mred\u009b0m";
  const group = `hostile-${run}`;

  beforeAll(async () => {
    await admin.http.request("POST", `/v1/groups/${group}/heartbeat`, {
      body: {
        memberId,
        memberEpoch: 0,
        clientId,
        rebalanceTimeoutMs: 30_000,
        subscribedTopics: [{ name: "orders", partitions: 2 }],
        ownedPartitions: [],
      },
    });
  });

  it("reach the terminal escaped in tables and as the same values in JSON", async () => {
    const visible = (text: string) =>
      [...text].every((ch) => ch === "\n" || (ch >= " " && !/[\u007f-\u009f\u202a-\u202e]/u.test(ch)));
    for (const view of ["--members", "--offsets"]) {
      const { code, stdout } = await cohort("groups", "describe", group, view);
      expect(code).toBe(0);
      expect(visible(stdout)).toBe(true);
      expect(stdout.split("\n")).toHaveLength(view === "--members" ? 2 : 3); // no forged rows
      expect(stdout).toContain("\\x1b]0;pwned\\x07m1\\r\\nFAKE  ROW\\u{202e}exe.txt");
    }
    const members = await cohort("groups", "describe", group, "--members");
    expect(members.stdout).toContain("\\x1b[2J\\x1b[31mred\\x9b0m");
    const json = await cohort("groups", "describe", group, "--members", "--json");
    expect(visible(json.stdout)).toBe(true);
    expect(JSON.parse(json.stdout).members[0]).toMatchObject({ memberId, clientId });
  });
});

describe("usage and failures", () => {
  it("exits 2 with a message for usage errors, before calling the coordinator", async () => {
    const cases = [
      ["groups", "frob"],
      ["groups", "describe"],
      ["offsets", "reset", billing, "--topic", "orders"],
      ["offsets", "reset", billing, "--topic", "orders", "--to-latest", "--dry-run", "--execute"],
      ["offsets", "delete", billing, "--topic", "orders", "--partitions", "a,b"],
      ["groups", "list", "--bogus"],
      ["groups", "list", "--url", "localhost:8787"],
    ];
    for (const args of cases) {
      const result = await cohort(...args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(/^cohort: .+\nRun 'cohort --help' for usage\.$/);
    }
    const help = await cohort("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Exit codes: 0 ok, 1 coordinator error");
  });

  it("exits 1 with the coordinator's code for a refused request", async () => {
    const result = await cohort("offsets", "reset", billing, "--topic", "Bad Topic!", "--to-latest");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^cohort: INVALID_REQUEST \(Kafka 42, HTTP 400\)/);
  });

  it("exits 1 when the coordinator cannot be reached", async () => {
    const result = await cohort("groups", "list", "--url", "http://127.0.0.1:9");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^cohort: NETWORK_ERROR \(no response\): cannot reach the coordinator/);
  });
});
