/**
 * The share routes at their bounds (API.md §7, README Size limits): a member assigned 10,000
 * partitions reporting 10,000 log ends at 2^53 − 1, 10,000 acknowledgements each spanning 2^53
 * offsets, a redrive of the whole offset space, the largest archived page, maxRecords past its bound.
 * Work must stay in ranges: none of these may take long or fail.
 */

import type { Shot } from "./fuzz-requests";

const json = (v: unknown): string => JSON.stringify(v);
const shareGroup = "/v1/groups/fuzz-share-limits/share";

export function shareLimitShots(): Shot[] {
  return [
    {
      route: "share-heartbeat",
      method: "POST",
      path: `${shareGroup}/heartbeat`,
      body: json({ memberId: "big", memberEpoch: 0, subscribedTopics: [{ name: "t", partitions: 10_000 }] }),
    },
    // `latest` starts each share-partition at the first log end reported; the second report hands
    // out 10,000 offsets from 10,000 partitions below 2^53 − 1.
    ...[2 ** 53 - 10_001, 2 ** 53 - 1].map((logEndOffset) => ({
      route: "share-acquire",
      method: "POST",
      path: `${shareGroup}/acquire`,
      body: json({
        memberId: "big",
        maxRecords: 10_000,
        partitions: Array.from({ length: 10_000 }, (_, i) => ({
          topic: "t",
          partition: i,
          logEndOffset,
          logStartOffset: i,
        })),
      }),
    })),
    {
      route: "share-acknowledge",
      method: "POST",
      path: `${shareGroup}/acknowledge`,
      body: json({
        memberId: "big",
        acknowledgements: Array.from({ length: 10_000 }, (_, i) => ({
          topic: "t",
          partition: i % 100,
          firstOffset: 0,
          lastOffset: 2 ** 53 - 1,
          type: ["accept", "release", "reject", "renew"][i % 4],
        })),
      }),
    },
    {
      route: "share-redrive",
      method: "POST",
      path: `${shareGroup}/archived/redrive`,
      body: json({ topic: "t", firstOffset: 0, lastOffset: 2 ** 53 - 1 }),
    },
    { route: "share-archived", method: "GET", path: `${shareGroup}/archived?limit=10000` },
    {
      route: "share-acquire",
      method: "POST",
      path: `${shareGroup}/acquire`,
      body: json({ memberId: "big", maxRecords: 10_001 }),
    },
  ];
}
