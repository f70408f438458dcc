/**
 * Counted nouns in the console's words: singular for exactly one, plural otherwise (0, 2, 1,000), in
 * event descriptions, assignments and the pages' notes.
 */

import { describe, expect, it } from "vitest";
import type { GroupEvent } from "../../../src/console/api.ts";
import { assignmentText, describeEvent, plural } from "../../../src/console/format.ts";
import { ResetPage, resetFields } from "../../../src/console/reset-page.tsx";

const event = (type: string, detail: Record<string, unknown>): GroupEvent => ({
  seq: 1,
  at: 0,
  type,
  detail,
});

describe("plurals", () => {
  it("says one thing in the singular and every other count in the plural", () => {
    expect(plural(1, "member")).toBe("1 member");
    expect(plural(0, "member")).toBe("0 members");
    expect(plural(2, "record")).toBe("2 records");
    expect(plural(1000, "record")).toBe("1,000 records");
    expect(plural(1, "partition")).toBe("1 partition");
    expect(plural("x", "offset")).toBe("x offsets");
    expect(plural(undefined, "offset")).toBe("? offsets");
  });

  it("describes events of one thing in the singular", () => {
    expect(describeEvent(event("rebalance", { generationId: 2, members: 1, partitionsMoved: 1 }))).toBe(
      "rebalance to generation 2: 1 member, 1 partition moved",
    );
    expect(
      describeEvent(
        event("share_redriven", { topic: "jobs", partition: 0, firstOffset: 4, lastOffset: 4, count: 1 }),
      ),
    ).toBe("jobs-0 offsets 4–4 redriven (1 offset)");
    expect(describeEvent(event("offsets_deleted", { topic: "orders", partitions: [3] }))).toBe(
      "offsets of orders deleted (partition 3)",
    );
    expect(describeEvent(event("offsets_deleted", { topic: "orders", partitions: [0, 2] }))).toBe(
      "offsets of orders deleted (partitions 0, 2)",
    );
    expect(describeEvent(event("offsets_reset", { topic: "orders", partitions: [{}] }))).toBe(
      "offsets of orders reset on 1 partition",
    );
  });

  it("counts an opaque assignment's characters and the reset page's members", async () => {
    expect(assignmentText("A")).toBe("opaque (1 character)");
    expect(assignmentText("AAAA")).toBe("opaque (4 characters)");
    const page = (members: number) =>
      ResetPage({
        groupId: "g",
        topics: ["orders"],
        members,
        fields: resetFields({}),
        preview: null,
        problem: null,
        viewer: { signedIn: false, subject: null, expiresAt: null, admin: true },
        flash: null,
      });
    expect(String(await page(1))).toContain("The group has 1 member:");
    expect(String(await page(3))).toContain("The group has 3 members:");
  });
});
