/**
 * `CohortAdmin.events()` and `lagHistory()` against the real coordinator (AUTH_MODE=none: admin
 * events carry `actor: null`), paging with `nextAfter`, and the 404 of a group with no history.
 */

import { describe, expect, it } from "vitest";
import { CohortAdmin } from "../../src/client/admin.ts";
import { CohortError } from "../../src/client/errors.ts";
import { freshGroup, workerFetch } from "./sdk-helpers.ts";

const admin = new CohortAdmin({ url: "http://cohort.test", fetch: workerFetch });

describe("CohortAdmin history", () => {
  it("events page by page, with actor null without auth; lag samples from commits", async () => {
    const group = freshGroup("sdk-history");
    await admin.commitOffsets(group, { offsets: [{ topic: "t", partition: 0, offset: 5, logEndOffset: 9 }] });
    await admin.resetOffsets(group, { topic: "t", to: "offset", offset: 2 });
    await admin.deleteOffsets(group, "t");
    const first = await admin.events(group, { limit: 1 });
    expect(first.events.map((e) => [e.seq, e.type, e.actor])).toEqual([[1, "offsets_reset", null]]);
    const rest = await admin.events(group, { after: first.nextAfter });
    expect(rest.events.map((e) => e.type)).toEqual(["offsets_deleted", "state_changed"]);
    expect(rest.events.at(-1)!.detail).toEqual({ from: "Empty", to: "Dead" });
    const lag = await admin.lagHistory(group, { since: 0 });
    expect(lag.samples.map((s) => s.totalLag)).toEqual([4]);
  });

  it("a group with neither state nor history is GROUP_ID_NOT_FOUND", async () => {
    const error = await admin.events(freshGroup("sdk-history")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CohortError);
    expect((error as CohortError).code).toBe("GROUP_ID_NOT_FOUND");
    await expect(admin.lagHistory(freshGroup("sdk-history"))).rejects.toMatchObject({
      code: "GROUP_ID_NOT_FOUND",
    });
  });
});
