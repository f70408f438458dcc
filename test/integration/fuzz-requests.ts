/**
 * The requests the route fuzz sends: random ones for every HTTP route (mostly schema-valid, so they reach
 * the core, with hostile names, numbers and bodies mixed in), raw bodies at the JSON parser's edges,
 * and the limits themselves (10,000 offsets, maximum partitions, 1,000 repeated query values).
 */

import fc from "fast-check";
import {
  deepJson,
  hostileNames,
  hostileNumbers,
  NAME_AT_LIMIT,
  PROTO_KEYS,
  RAW_NUMBERS,
  repeatQuery,
  validNames,
} from "./fuzz-values";

export interface Shot {
  route: string;
  method: string;
  path: string;
  body?: string;
  contentType?: string;
}

/** A path segment: valid names percent-encoded, plus raw broken escapes the client would never make. */
const segment = fc.oneof(
  { weight: 6, arbitrary: hostileNames.map((s) => safeEncode(s)) },
  { weight: 1, arbitrary: fc.constantFrom("%ED%A0%80", "%", "%zz", "%00", "%2F", "a%2Fb", "%C0%AE") },
);
export function safeEncode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    // A lone surrogate: send its (invalid) UTF-8 bytes as escapes instead.
    return "%ED%A0%80";
  }
}
const groupSeg = fc.oneof(
  { weight: 3, arbitrary: validNames.map(safeEncode) },
  { weight: 1, arbitrary: segment },
);

export const json = (v: unknown): string => JSON.stringify(v) ?? "null";
/** Mostly a value the schema accepts (so requests reach the core), sometimes a hostile one. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: hostile });
const name = mostly(validNames, hostileNames);
const small = (max: number) => mostly(fc.integer({ min: 0, max }), hostileNumbers);
const tps = fc.array(fc.record({ topic: name, partitions: fc.array(small(8), { maxLength: 4 }) }), {
  maxLength: 3,
});
const offsetEntry = fc.record(
  {
    topic: name,
    partition: small(8),
    offset: mostly(fc.integer({ min: 0, max: 1000 }), hostileNumbers),
    metadata: fc.oneof(
      fc.constantFrom("", "m".repeat(4096), "m".repeat(4097), "é".repeat(2049)),
      hostileNames,
    ),
    leaderEpoch: small(5),
    logEndOffset: small(2000),
  },
  { requiredKeys: ["topic", "partition", "offset"] },
);
const memberId = mostly(hostileNames, fc.constant("m".repeat(1025)));
const instanceId = fc.oneof(fc.constant(null), hostileNames);

const commitBody = fc.oneof(
  fc.record({ offsets: fc.array(offsetEntry, { minLength: 1, maxLength: 4 }) }),
  fc.record(
    {
      memberId,
      groupInstanceId: instanceId,
      generationId: small(3),
      memberEpoch: small(3),
      offsets: fc.array(offsetEntry, { maxLength: 4 }),
    },
    { requiredKeys: ["offsets"] },
  ),
);
const resetBody = fc.record(
  {
    topic: name,
    partitions: fc.array(small(8), { maxLength: 4 }),
    to: mostly(fc.constantFrom("earliest", "latest", "offset", "shift"), fc.constantFrom(...PROTO_KEYS)),
    offset: small(100),
    shiftBy: mostly(fc.integer({ min: -5, max: 5 }), hostileNumbers),
    dryRun: mostly(fc.boolean(), hostileNumbers),
  },
  { requiredKeys: ["topic", "to"] },
);
const subscribedTopics = fc.array(fc.record({ name, partitions: small(8) }), { minLength: 1, maxLength: 3 });
const serverAssignor = mostly(
  fc.constantFrom("uniform", "range", "sticky", null),
  fc.constantFrom(...PROTO_KEYS),
);
const heartbeatBody = fc.oneof(
  // Joins: a new member (id generated or chosen) with a subscription.
  fc.record(
    {
      memberId,
      memberEpoch: mostly(fc.constant(0), hostileNumbers),
      groupInstanceId: instanceId,
      clientId: name,
      rebalanceTimeoutMs: small(60_000),
      subscribedTopics,
      serverAssignor,
      ownedPartitions: mostly(fc.constant([]), tps),
    },
    { requiredKeys: ["memberEpoch", "subscribedTopics", "ownedPartitions"] },
  ),
  // Anything else: heartbeats and leaves at whatever epoch.
  fc.record(
    {
      memberId,
      memberEpoch: mostly(fc.integer({ min: -2, max: 5 }), hostileNumbers),
      groupInstanceId: instanceId,
      subscribedTopics,
      serverAssignor,
      ownedPartitions: tps,
    },
    { requiredKeys: ["memberEpoch"] },
  ),
);
/** Classic metadata as `protocolType: "consumer"` members send it: JSON the coordinator reads. */
const consumerMetadata = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ topics: fc.array(name, { maxLength: 3 }), ownedPartitions: tps }).map(json),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom("{", "null", "[]", '{"topics":{"__proto__":1}}', '{"topics":"__proto__"}'),
  },
  { weight: 1, arbitrary: hostileNames },
);
const classicJoinBody = fc.record(
  {
    memberId: mostly(fc.constant(""), hostileNames),
    groupInstanceId: fc.oneof(
      { weight: 3, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: hostileNames },
    ),
    clientId: name,
    sessionTimeoutMs: mostly(fc.constant(10_000), hostileNumbers),
    rebalanceTimeoutMs: mostly(fc.constant(2_000), hostileNumbers),
    protocolType: mostly(fc.constant("consumer"), hostileNames),
    protocols: fc.array(fc.record({ name: mostly(fc.constant("range"), name), metadata: consumerMetadata }), {
      minLength: 1,
      maxLength: 3,
    }),
  },
  { requiredKeys: ["memberId", "protocolType", "protocols"] },
);
const classicSyncBody = fc.record(
  {
    memberId,
    groupInstanceId: instanceId,
    generationId: small(3),
    assignments: fc.array(fc.record({ memberId: hostileNames, assignment: consumerMetadata }), {
      maxLength: 3,
    }),
  },
  { requiredKeys: ["memberId", "generationId"] },
);
const classicHeartbeatBody = fc.record(
  { memberId, groupInstanceId: instanceId, generationId: small(3) },
  { requiredKeys: ["memberId", "generationId"] },
);
const classicLeaveBody = fc.record({
  members: fc.array(
    fc.record(
      { memberId: hostileNames, groupInstanceId: hostileNames, reason: hostileNames },
      { requiredKeys: [] },
    ),
    { minLength: 1, maxLength: 3 },
  ),
});

// Share groups (API.md §7): members named like prototype keys, offsets and counts at and past bounds.
const shareMember = mostly(fc.constantFrom("s1", "s2", ...PROTO_KEYS), memberId);
const shareHeartbeatBody = fc.record(
  {
    memberId: shareMember,
    memberEpoch: mostly(fc.integer({ min: -1, max: 4 }), hostileNumbers),
    clientId: name,
    subscribedTopics,
  },
  { requiredKeys: ["memberEpoch"] },
);
const offsetValue = mostly(fc.integer({ min: 0, max: 300 }), hostileNumbers);
const ackEntries = fc.array(
  fc.record({
    topic: name,
    partition: small(4),
    firstOffset: offsetValue,
    lastOffset: offsetValue,
    type: mostly(fc.constantFrom("accept", "release", "reject", "renew"), fc.constantFrom(...PROTO_KEYS)),
  }),
  { maxLength: 4 },
);
const acquireBody = fc.record(
  {
    memberId: shareMember,
    maxRecords: mostly(fc.integer({ min: 1, max: 200 }), hostileNumbers),
    // Long polls stay short: the fuzz must not wait out 30-second holds.
    maxWaitMs: mostly(fc.constantFrom(0, 0, 20), hostileNumbers),
    partitions: fc.array(
      fc.record(
        { topic: name, partition: small(4), logEndOffset: offsetValue, logStartOffset: offsetValue },
        { requiredKeys: ["topic", "partition"] },
      ),
      { maxLength: 4 },
    ),
    acknowledgements: ackEntries,
  },
  { requiredKeys: ["memberId"] },
);
const acknowledgeBody = fc.record({ memberId: shareMember, acknowledgements: ackEntries });
const redriveBody = fc.record(
  { topic: name, partition: small(4), firstOffset: offsetValue, lastOffset: offsetValue },
  { requiredKeys: ["topic"] },
);

const post = (route: string, suffix: string, body: fc.Arbitrary<unknown>): fc.Arbitrary<Shot> =>
  fc
    .tuple(groupSeg, body)
    .map(([g, b]) => ({ route, method: "POST", path: `/v1/groups/${g}${suffix}`, body: json(b) }));

export const randomShots: fc.Arbitrary<Shot> = fc.oneof(
  { weight: 3, arbitrary: post("commit", "/offsets", commitBody) },
  { weight: 1, arbitrary: post("reset", "/offsets/reset", resetBody) },
  { weight: 4, arbitrary: post("heartbeat", "/heartbeat", heartbeatBody) },
  { weight: 2, arbitrary: post("classic-join", "/classic/join", classicJoinBody) },
  { weight: 2, arbitrary: post("classic-sync", "/classic/sync", classicSyncBody) },
  { weight: 1, arbitrary: post("classic-heartbeat", "/classic/heartbeat", classicHeartbeatBody) },
  { weight: 1, arbitrary: post("classic-leave", "/classic/leave", classicLeaveBody) },
  { weight: 3, arbitrary: post("share-heartbeat", "/share/heartbeat", shareHeartbeatBody) },
  { weight: 3, arbitrary: post("share-acquire", "/share/acquire", acquireBody) },
  { weight: 2, arbitrary: post("share-acknowledge", "/share/acknowledge", acknowledgeBody) },
  { weight: 1, arbitrary: post("share-redrive", "/share/archived/redrive", redriveBody) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        groupSeg,
        fc.record({ topic: hostileNames, limit: hostileNumbers, cursor: hostileNames }, { requiredKeys: [] }),
      )
      .map(([g, q]) => ({
        route: "share-archived",
        method: "GET",
        path: `/v1/groups/${g}/share/archived?${Object.entries(q)
          .map(([k, v]) => `${k}=${safeEncode(String(v))}`)
          .join("&")}`,
      })),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(groupSeg, fc.array(hostileNames, { maxLength: 5 })).map(([g, ts]) => ({
      route: "fetch-offsets",
      method: "GET",
      path: `/v1/groups/${g}/offsets?${ts.map((t) => `topic=${safeEncode(t)}`).join("&")}`,
    })),
  },
  {
    // The history routes (API.md §8): hostile numbers and names as after/limit/since.
    weight: 1,
    arbitrary: fc
      .tuple(
        groupSeg,
        fc.boolean(),
        fc.oneof(hostileNumbers, hostileNames),
        fc.oneof(hostileNumbers, hostileNames),
      )
      .map(([g, isEvents, a, b]) => ({
        route: isEvents ? "events" : "lag-history",
        method: "GET",
        path: isEvents
          ? `/v1/groups/${g}/events?after=${safeEncode(String(a))}&limit=${safeEncode(String(b))}`
          : `/v1/groups/${g}/lag/history?since=${safeEncode(String(a))}`,
      })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(groupSeg, segment, segment).map(([g, t, p]) => ({
      route: "fetch-offset",
      method: "GET",
      path: `/v1/groups/${g}/offsets/${t}/${p}`,
    })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(groupSeg, segment, fc.array(hostileNumbers, { maxLength: 4 })).map(([g, t, ps]) => ({
      route: "delete-offsets",
      method: "DELETE",
      path: `/v1/groups/${g}/offsets/${t}?${ps.map((p) => `partition=${safeEncode(String(p))}`).join("&")}`,
    })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom("GET", "DELETE"), groupSeg, fc.constantFrom("", "/lag"))
      .map(([m, g, s]) => ({
        route: s ? "lag" : m === "GET" ? "describe" : "delete-group",
        method: s ? "GET" : m,
        path: `/v1/groups/${g}${s}`,
      })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record(
        {
          state: hostileNames,
          type: hostileNames,
          prefix: hostileNames,
          limit: hostileNumbers,
          cursor: hostileNames,
        },
        { requiredKeys: [] },
      )
      .map((q) => ({
        route: "list-groups",
        method: "GET",
        path: `/v1/groups?${Object.entries(q)
          .map(([k, v]) => `${k}=${safeEncode(String(v))}`)
          .join("&")}`,
      })),
  },
);

/** Bodies no generator above makes: raw text at the JSON parser's edges. */
export function rawShots(): Shot[] {
  const routes: [string, string][] = [
    ["commit", "/offsets"],
    ["reset", "/offsets/reset"],
    ["heartbeat", "/heartbeat"],
    ["classic-join", "/classic/join"],
    ["classic-sync", "/classic/sync"],
    ["classic-heartbeat", "/classic/heartbeat"],
    ["classic-leave", "/classic/leave"],
    ["share-heartbeat", "/share/heartbeat"],
    ["share-acquire", "/share/acquire"],
    ["share-acknowledge", "/share/acknowledge"],
    ["share-redrive", "/share/archived/redrive"],
  ];
  const bodies: [string, string][] = [
    [deepJson(10_000), "application/json"],
    [deepJson(10_000, "object"), "application/json"],
    [`{"offsets":${deepJson(5_000)}}`, "application/json"],
    ['{"memberId":"a","memberId":{"__proto__":1},"memberEpoch":0,"memberEpoch":"0"}', "application/json"],
    ['{"__proto__":{"memberEpoch":0},"constructor":{"prototype":{}}}', "application/json"],
    ...RAW_NUMBERS.map((n): [string, string] => [
      `{"memberEpoch":${n},"generationId":${n},"offsets":[]}`,
      "application/json",
    ]),
    ['{"offsets":[{"topic":"t","partition":0,"offset":1}]}', "text/plain"],
    ['{"offsets":[{"topic":"t","partition":0,"offset":1}]}', "application/x-www-form-urlencoded"],
    ['{"offsets":[{"topic":"t","partition":0,"offset":1}]}', "multipart/form-data; boundary=x"],
    ['{"offsets":[{"topic":"t","partition":0,"offset":1}]}', ""],
    ["memberEpoch=0", "application/x-www-form-urlencoded"],
    ["\uFEFF{}", "application/json"],
    ["\u0000", "application/json"],
    ['"\uD800"', "application/json"],
    [`"${"x".repeat(1024 * 1024 + 10)}"`, "application/json"],
    ["", "application/json"],
  ];
  const shots: Shot[] = [];
  for (const [route, suffix] of routes)
    for (const [body, contentType] of bodies)
      shots.push({ route, method: "POST", path: `/v1/groups/fuzz-raw${suffix}`, body, contentType });
  return shots;
}

/** The limits themselves: counts at and past each bound, and 1,000 repeated query values. */
export function limitShots(): Shot[] {
  const offsets = (n: number, topic = "t") =>
    Array.from({ length: n }, (_, i) => ({ topic, partition: i, offset: i }));
  const many = (name: string) => Array.from({ length: 1000 }, (_, i) => `${name}${i}`);
  const shots: Shot[] = [
    {
      route: "commit",
      method: "POST",
      path: "/v1/groups/fuzz-limits/offsets",
      body: json({ offsets: offsets(10_000) }),
    },
    {
      route: "commit",
      method: "POST",
      path: "/v1/groups/fuzz-limits/offsets",
      body: json({ offsets: offsets(10_001) }),
    },
    {
      route: "commit",
      method: "POST",
      path: "/v1/groups/__proto__/offsets",
      body: json({ offsets: offsets(10_000, "__proto__") }),
    },
    {
      route: "commit",
      method: "POST",
      path: `/v1/groups/${NAME_AT_LIMIT}/offsets`,
      body: json({ offsets: offsets(3, NAME_AT_LIMIT) }),
    },
    {
      route: "commit",
      method: "POST",
      path: "/v1/groups/fuzz-limits/offsets",
      body: json({ offsets: many("topic-").map((topic) => ({ topic, partition: 0, offset: 1 })) }),
    },
    {
      route: "fetch-offsets",
      method: "GET",
      path: `/v1/groups/fuzz-limits/offsets?${repeatQuery("topic", "t", 1000)}`,
    },
    {
      route: "fetch-offsets",
      method: "GET",
      path: `/v1/groups/fuzz-limits/offsets?${many("topic-")
        .map((t) => `topic=${t}`)
        .join("&")}`,
    },
    {
      route: "fetch-offsets",
      method: "GET",
      path: `/v1/groups/__proto__/offsets?${repeatQuery("topic", "__proto__", 1000)}`,
    },
    {
      route: "delete-offsets",
      method: "DELETE",
      path: `/v1/groups/fuzz-limits/offsets/t?${repeatQuery("partition", "0", 1000)}`,
    },
    {
      route: "delete-offsets",
      method: "DELETE",
      path: `/v1/groups/fuzz-limits/offsets/t?${Array.from({ length: 10_001 }, (_, i) => `partition=${i}`).join("&")}`,
    },
    { route: "list-groups", method: "GET", path: `/v1/groups?${repeatQuery("state", "Stable", 1000)}` },
    { route: "list-groups", method: "GET", path: `/v1/groups?${repeatQuery("limit", "5", 1000)}` },
    {
      route: "reset",
      method: "POST",
      path: "/v1/groups/fuzz-limits/offsets/reset",
      body: json({
        topic: "t",
        partitions: Array.from({ length: 10_000 }, (_, i) => i),
        to: "shift",
        shiftBy: -(2 ** 53 - 1),
      }),
    },
  ];
  // A member joining with the maximum partitions per topic, and with many topics at once.
  for (const [name, partitions, topics] of [
    ["max-partitions", 100_000, 1],
    ["many-topics", 8, 1000],
    ["proto-topics", 4, PROTO_KEYS.length],
  ] as const) {
    const subscribedTopics = Array.from({ length: topics }, (_, i) => ({
      name: name === "proto-topics" ? PROTO_KEYS[i]! : `${name}-${i}`,
      partitions,
    }));
    shots.push({
      route: "heartbeat",
      method: "POST",
      path: `/v1/groups/fuzz-${name}/heartbeat`,
      body: json({ memberEpoch: 0, subscribedTopics, ownedPartitions: [] }),
    });
  }
  // ownedPartitions naming prototype keys, at join and on a later heartbeat of the same group.
  for (const key of PROTO_KEYS)
    shots.push({
      route: "heartbeat",
      method: "POST",
      path: "/v1/groups/fuzz-proto-owned/heartbeat",
      body: json({
        memberId: `m-${key}`,
        memberEpoch: 0,
        subscribedTopics: [{ name: key, partitions: 2 }],
        ownedPartitions: [{ topic: key, partitions: [0] }],
      }),
    });
  return shots;
}
