/**
 * Group ids that are URL dot segments. API.md §1 allows any 1–249 characters of [A-Za-z0-9._-], so
 * "." and ".." pass as group ids; but every WHATWG URL parser (fetch's, workerd's) resolves the path
 * /v1/groups/./lag to /v1/groups/lag — also when the dot is sent as %2E — before any route sees it.
 * Either such a group is addressable, or it is refused (400 INVALID_GROUP_ID, as Kafka refuses "."
 * and ".." as topic names); a request naming it must never reach another group or another route.
 */

import { expect, it } from "vitest";
import { freshGroup } from "../sdk/sdk-helpers";
import { admin, raw } from "./black-box";

const offsets = [{ topic: "orders", partition: 0, offset: 7 }];
const outcome = (e: { code?: string; status?: number }) => `${e.status} ${e.code}`;

it.each([".", ".."])(
  "the admin client either reaches group %j or is told it is not a valid group id",
  async (groupId) => {
    const a = admin();
    const commit = await a.commitOffsets(groupId, { offsets }).then((r) => `ok ${r.committed}`, outcome);
    expect(["ok 1", "400 INVALID_GROUP_ID"]).toContain(commit);
  },
);

it("group '.' never aliases another group: lag('.') must not describe the group named 'lag'", async () => {
  // A group that happens to be called "lag" (a valid id), with a committed offset.
  await admin().commitOffsets("lag", { offsets });
  const answer = await admin()
    .lag(".")
    .then((r) => JSON.stringify(r), outcome);
  expect(answer).not.toContain('"groupId":"lag"');
});

it.each(["%2E", "%2E%2E"])(
  "raw %s in the group segment is not taken for a dot segment of another route",
  async (encoded) => {
    const group = freshGroup("adv-dots");
    const commit = await raw("POST", `/v1/groups/${encoded}/offsets`, {
      offsets: [{ ...offsets[0], topic: group }],
    });
    // Accepted as the group ".", or refused as an invalid group id; a 404 of an unknown route is neither.
    expect([200, 400]).toContain(commit.status);
  },
);
