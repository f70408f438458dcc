/**
 * Group ids that are URL dot segments. API.md §1's pattern allows "." and "..", but every WHATWG URL
 * parser (fetch's, workerd's) resolves /v1/groups/./lag to /v1/groups/lag — also when the dot is sent
 * as %2E — before any route sees it, so no such group can be addressed over HTTP. The SDK (and the CLI,
 * which goes through it) refuses them as INVALID_GROUP_ID before sending anything, so a request naming
 * one never reaches another group or another route.
 */

import { expect, it } from "vitest";
import { CohortAdmin } from "../../src/client/admin.ts";
import { CohortConsumer } from "../../src/client/consumer.ts";
import { type FetchLike, HttpTransport } from "../../src/client/http.ts";
import { MemoryLog } from "../../src/client/memory-log.ts";
import { ShareConsumer } from "../../src/client/share-consumer.ts";
import { workerFetch } from "../sdk/sdk-helpers";

const offsets = [{ topic: "orders", partition: 0, offset: 7 }];
const refusal = (e: { code?: string }) => `refused ${e.code}`;

/** A fetch that counts what it is asked to send. */
function counted() {
  const sent: string[] = [];
  const fetch: FetchLike = (input, init) => {
    sent.push(String(input));
    return workerFetch(input, init);
  };
  return { sent, options: { url: "http://cohort.test", fetch, retry: { retries: 0 } } };
}

it.each([".", ".."])(
  "the admin client refuses group %j as INVALID_GROUP_ID without sending",
  async (groupId) => {
    const { sent, options } = counted();
    const a = new CohortAdmin(new HttpTransport(options));
    const outcomes = await Promise.all([
      a.commitOffsets(groupId, { offsets }).then(() => "sent", refusal),
      a.lag(groupId).then(() => "sent", refusal),
      a.describeGroup(groupId).then(() => "sent", refusal),
      a.fetchOffsets(groupId, ["orders"]).then(() => "sent", refusal),
      a.deleteGroup(groupId).then(() => "sent", refusal),
    ]);
    expect(outcomes).toEqual(Array(outcomes.length).fill("refused INVALID_GROUP_ID"));
    expect(sent).toEqual([]);
  },
);

it.each([".", ".."])("consumers of group %j are refused at construction, before any request", (groupId) => {
  const { sent, options } = counted();
  const source = MemoryLog.filled({ orders: 1 }, 1, () => "v");
  const code = (make: () => unknown) => {
    try {
      make();
      return "constructed";
    } catch (error) {
      return (error as { code?: string }).code;
    }
  };
  expect(code(() => new CohortConsumer({ ...options, groupId, topics: { orders: 1 }, source }))).toBe(
    "INVALID_GROUP_ID",
  );
  expect(
    code(() => new ShareConsumer({ ...options, groupId, topics: { orders: 1 }, source: source as never })),
  ).toBe("INVALID_GROUP_ID");
  expect(sent).toEqual([]);
});

it("names with dots that are not dot segments stay valid group ids", async () => {
  const { options } = counted();
  const a = new CohortAdmin(new HttpTransport(options));
  const group = `...adv-dots-${Date.now().toString(36)}`;
  expect(await a.commitOffsets(group, { offsets }).then((r) => r.committed)).toBe(1);
});
