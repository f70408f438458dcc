/** The admin client against the real coordinator on workerd: every route of API.md §3 and §6. */

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CohortAdmin } from "../../src/client/admin.ts";
import { CohortError } from "../../src/client/errors.ts";

const admin = new CohortAdmin({
  url: "http://cohort.test",
  fetch: (input, init) => exports.default.fetch(input, init),
});

/** The CohortError a call fails with (the test fails if it succeeds). */
async function rejection(promise: Promise<unknown>): Promise<CohortError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CohortError);
  return error as CohortError;
}

let counter = 0;
const freshGroup = () => `sdk-admin-${Date.now().toString(36)}-${++counter}`;

describe("CohortAdmin", () => {
  it("commits, fetches all and one, and reports lag", async () => {
    const group = freshGroup();
    await expect(
      admin.commitOffsets(group, {
        offsets: [
          { topic: "orders", partition: 0, offset: 42, logEndOffset: 120 },
          { topic: "orders", partition: 1, offset: 17, logEndOffset: 17, metadata: "batch-9" },
        ],
      }),
    ).resolves.toEqual({ committed: 2 });

    const all = await admin.fetchOffsets(group);
    expect(all.offsets.map((o) => [o.partition, o.offset, o.lag])).toEqual([
      [0, 42, 78],
      [1, 17, 0],
    ]);
    expect((await admin.fetchOffsets(group, ["other"])).offsets).toEqual([]);
    expect(await admin.fetchOffset(group, "orders", 1)).toMatchObject({ offset: 17, metadata: "batch-9" });
    expect((await admin.fetchOffset(group, "orders", 9)).offset).toBe(-1);

    const lag = await admin.lag(group);
    expect(lag.totalLag).toBe(78);
    expect(lag.partitions).toHaveLength(2);
  });

  it("resets with a dry run that changes nothing, then for real", async () => {
    const group = freshGroup();
    await admin.commitOffsets(group, {
      offsets: [{ topic: "orders", partition: 0, offset: 42, logEndOffset: 120 }],
    });
    const plan = await admin.resetOffsets(group, {
      topic: "orders",
      to: "shift",
      shiftBy: -10,
      dryRun: true,
    });
    expect(plan).toEqual({
      dryRun: true,
      offsets: [{ topic: "orders", partition: 0, previousOffset: 42, newOffset: 32 }],
    });
    expect((await admin.fetchOffset(group, "orders", 0)).offset).toBe(42);
    await admin.resetOffsets(group, { topic: "orders", partitions: [0], to: "latest" });
    expect((await admin.fetchOffset(group, "orders", 0)).offset).toBe(120);
  });

  it("lists, describes, deletes offsets and the group", async () => {
    const group = freshGroup();
    await admin.commitOffsets(group, {
      offsets: [0, 1, 2].map((partition) => ({ topic: "orders", partition, offset: 5 })),
    });
    // The directory follows off the request path (API.md §6: at most 10 s).
    await expect
      .poll(() => admin.listGroups({ states: ["Empty"] }), { timeout: 10_000, interval: 50 })
      .toContainEqual({ groupId: group, type: "classic", state: "Empty", members: 0 });
    expect(await admin.listGroups({ states: ["Stable"] })).not.toContainEqual(
      expect.objectContaining({ groupId: group }),
    );
    expect(await admin.describeGroup(group)).toMatchObject({ groupId: group, state: "Empty", members: [] });
    // Paged: one group per page, by prefix, every page followed to the end.
    const pages: string[][] = [];
    for await (const page of admin.groupPages({ prefix: group, pageSize: 1 }))
      pages.push(page.map((g) => g.groupId));
    expect(pages.flat()).toEqual([group]);
    expect(await admin.listGroupsPage({ prefix: group, pageSize: 1000 })).toEqual({
      groups: [{ groupId: group, type: "classic", state: "Empty", members: 0 }],
      nextCursor: null,
    });

    await expect(admin.deleteOffsets(group, "orders", [0, 1])).resolves.toEqual({ deleted: 2 });
    expect((await admin.fetchOffsets(group)).offsets.map((o) => o.partition)).toEqual([2]);
    await admin.deleteGroup(group);
    const gone = await rejection(admin.describeGroup(group));
    expect(gone).toMatchObject({ code: "GROUP_ID_NOT_FOUND", kafkaCode: 69, status: 404, retriable: false });
  });

  it("surfaces validation errors with their issues and without retrying", async () => {
    const error = await rejection(admin.resetOffsets(freshGroup(), { topic: "orders", to: "offset" }));
    expect(error).toMatchObject({ code: "INVALID_REQUEST", status: 400, retriable: false });
    expect(error.issues?.map((i) => i.path)).toContain("offset");
  });
});
