/**
 * Every HTTP route under hostile values (API.md §1): prototype-key and unicode names, names at and over
 * the 249-char limit, numbers at and past their bounds, 10,000 offsets, maximum partitions, 1,000
 * repeated query values, JSON nested 10,000 deep, duplicate keys, wrong content types. Requests run
 * eight at a time (parked classic joins overlap) against groups shared by many requests, so state
 * built by one hostile request meets the next. No answer may be a 5xx; every error has §1's shape and
 * status. The counts by route and status are printed, to see what a failing run broke.
 */

import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { expect, it } from "vitest";
import {
  contractProblem,
  deepJson,
  fuzzSeed,
  hostileNames,
  hostileNumbers,
  NAME_AT_LIMIT,
  PROTO_KEYS,
  pool,
  RAW_NUMBERS,
  repeatQuery,
  Tally,
  validNames,
} from "./fuzz-values";
import { token } from "./helpers";

interface Shot {
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
function safeEncode(s: string): string {
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

const json = (v: unknown): string => JSON.stringify(v) ?? "null";
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

const post = (route: string, suffix: string, body: fc.Arbitrary<unknown>): fc.Arbitrary<Shot> =>
  fc
    .tuple(groupSeg, body)
    .map(([g, b]) => ({ route, method: "POST", path: `/v1/groups/${g}${suffix}`, body: json(b) }));

const randomShots: fc.Arbitrary<Shot> = fc.oneof(
  { weight: 3, arbitrary: post("commit", "/offsets", commitBody) },
  { weight: 1, arbitrary: post("reset", "/offsets/reset", resetBody) },
  { weight: 4, arbitrary: post("heartbeat", "/heartbeat", heartbeatBody) },
  { weight: 2, arbitrary: post("classic-join", "/classic/join", classicJoinBody) },
  { weight: 2, arbitrary: post("classic-sync", "/classic/sync", classicSyncBody) },
  { weight: 1, arbitrary: post("classic-heartbeat", "/classic/heartbeat", classicHeartbeatBody) },
  { weight: 1, arbitrary: post("classic-leave", "/classic/leave", classicLeaveBody) },
  {
    weight: 2,
    arbitrary: fc.tuple(groupSeg, fc.array(hostileNames, { maxLength: 5 })).map(([g, ts]) => ({
      route: "fetch-offsets",
      method: "GET",
      path: `/v1/groups/${g}/offsets?${ts.map((t) => `topic=${safeEncode(t)}`).join("&")}`,
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
function rawShots(): Shot[] {
  const routes: [string, string][] = [
    ["commit", "/offsets"],
    ["reset", "/offsets/reset"],
    ["heartbeat", "/heartbeat"],
    ["classic-join", "/classic/join"],
    ["classic-sync", "/classic/sync"],
    ["classic-heartbeat", "/classic/heartbeat"],
    ["classic-leave", "/classic/leave"],
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
function limitShots(): Shot[] {
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

async function fire(shot: Shot, auth: string): Promise<{ status: number; text: string } | null> {
  const headers: Record<string, string> = { authorization: `Bearer ${auth}` };
  // An empty contentType sends none at all.
  const contentType = shot.contentType ?? "application/json";
  if (shot.body !== undefined && contentType) headers["content-type"] = contentType;
  let res: Response;
  try {
    res = await exports.default.fetch(`http://cohort.test${shot.path}`, {
      method: shot.method,
      headers,
      body: shot.body,
    });
  } catch (err) {
    // A URL the client itself refuses to form never reaches the Worker.
    if (err instanceof TypeError) return null;
    throw err;
  }
  return { status: res.status, text: await res.text() };
}

it("answers every route's hostile requests without a 5xx and with API.md §1 errors", async () => {
  const seed = fuzzSeed();
  const auth = await token();
  const shots = [...fc.sample(randomShots, { numRuns: 1200, seed }), ...rawShots(), ...limitShots()];
  const tally = new Tally();
  let answered = 0;
  await pool(
    shots.map((shot) => async () => {
      const reply = await fire(shot, auth);
      if (!reply) return;
      answered++;
      const { problem, code } = contractProblem(reply.status, reply.text);
      const detail = `seed ${seed} ${shot.method} ${shot.path.slice(0, 120)} ${(shot.body ?? "").slice(0, 160)} → ${reply.text.slice(0, 160)}`;
      tally.add({ route: shot.route, status: reply.status, code, detail }, problem);
    }),
    8,
  );
  console.log(
    `routes fuzz (seed ${seed}): ${answered} answered\n${[...tally.counts]
      .sort()
      .map(([k, n]) => `  ${n} × ${k}`)
      .join("\n")}`,
  );
  expect(answered).toBeGreaterThan(1200);
  tally.expectClean();
}, 60_000);

/** One request of a scenario, checked like the random ones; returns the parsed body. */
async function step(tally: Tally, route: string, method: string, path: string, body?: unknown): Promise<any> {
  const shot: Shot = { route, method, path, body: body === undefined ? undefined : json(body) };
  const reply = (await fire(shot, await token()))!;
  const { problem, code } = contractProblem(reply.status, reply.text);
  tally.add(
    {
      route,
      status: reply.status,
      code,
      detail: `${method} ${path} ${shot.body ?? ""} → ${reply.text.slice(0, 200)}`,
    },
    problem,
  );
  try {
    return { status: reply.status, ...JSON.parse(reply.text) };
  } catch {
    return { status: reply.status };
  }
}

it("serves members whose topics, instance ids and owned partitions are prototype keys, over their whole life", async () => {
  const tally = new Tally();
  await Promise.all(
    PROTO_KEYS.map(async (key) => {
      // Consumer protocol: join a topic named `key`, then report owning `__proto__` and `key` partitions.
      const g = `fuzz-life-${key}`;
      const joined = await step(tally, "heartbeat", "POST", `/v1/groups/${g}/heartbeat`, {
        memberId: key,
        memberEpoch: 0,
        groupInstanceId: key,
        subscribedTopics: [{ name: key, partitions: 2 }],
        ownedPartitions: [],
      });
      const epoch = joined.memberEpoch ?? 1;
      for (const owned of [
        [{ topic: "__proto__", partitions: [0] }],
        [
          { topic: key, partitions: [0, 1] },
          { topic: "constructor", partitions: [1] },
        ],
        joined.assignment?.partitions ?? [],
      ])
        await step(tally, "heartbeat", "POST", `/v1/groups/${g}/heartbeat`, {
          memberId: key,
          memberEpoch: epoch,
          ownedPartitions: owned,
        });
      // Told only what its responses say, a lone member ends up owning both partitions of `key`.
      let told = { memberEpoch: epoch, partitions: joined.assignment?.partitions ?? [] };
      for (let i = 0; i < 4; i++) {
        const res = await step(tally, "heartbeat", "POST", `/v1/groups/${g}/heartbeat`, {
          memberId: key,
          memberEpoch: told.memberEpoch,
          ownedPartitions: told.partitions,
        });
        if (res.status === 200)
          told = { memberEpoch: res.memberEpoch, partitions: res.assignment.partitions };
      }
      const owned = JSON.stringify(told.partitions);
      const whole = JSON.stringify([{ topic: key, partitions: [0, 1] }]);
      tally.add(
        { route: "assigned", status: 200, detail: `member of topic ${key} was told ${owned}` },
        owned === whole ? null : `topic ${key} not assigned`,
      );
      await step(tally, "commit", "POST", `/v1/groups/${g}/offsets`, {
        memberId: key,
        memberEpoch: told.memberEpoch,
        offsets: [{ topic: key, partition: 0, offset: 5, metadata: key }],
      });
      await step(tally, "describe", "GET", `/v1/groups/${g}`);
      await step(tally, "lag", "GET", `/v1/groups/${g}/lag`);
      await step(tally, "fetch-offsets", "GET", `/v1/groups/${g}/offsets?topic=${key}&topic=__proto__`);
      await step(tally, "delete-offsets", "DELETE", `/v1/groups/${g}/offsets/${key}`);
      await step(tally, "heartbeat", "POST", `/v1/groups/${g}/heartbeat`, {
        memberId: key,
        memberEpoch: -2,
        groupInstanceId: key,
      });

      // Classic protocol: a static member named `key` whose metadata and assignment name prototype keys.
      const c = `fuzz-classic-${key}`;
      const metadata = json({
        topics: [key, "__proto__"],
        ownedPartitions: [{ topic: "__proto__", partitions: [0] }],
      });
      const join = await step(tally, "classic-join", "POST", `/v1/groups/${c}/classic/join`, {
        memberId: "",
        groupInstanceId: key,
        clientId: key,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 2_000,
        protocolType: "consumer",
        protocols: [{ name: key, metadata }],
      });
      if (join.status !== 200) return;
      const assignment = json({
        partitions: [
          { topic: key, partitions: [0] },
          { topic: "__proto__", partitions: [1] },
        ],
      });
      await step(tally, "classic-sync", "POST", `/v1/groups/${c}/classic/sync`, {
        memberId: join.memberId,
        generationId: join.generationId,
        groupInstanceId: key,
        assignments: [{ memberId: join.memberId, assignment }],
      });
      await step(tally, "classic-heartbeat", "POST", `/v1/groups/${c}/classic/heartbeat`, {
        memberId: join.memberId,
        generationId: join.generationId,
        groupInstanceId: key,
      });
      await step(tally, "commit", "POST", `/v1/groups/${c}/offsets`, {
        memberId: join.memberId,
        generationId: join.generationId,
        groupInstanceId: key,
        offsets: [{ topic: "__proto__", partition: 1, offset: 3 }],
      });
      await step(tally, "describe", "GET", `/v1/groups/${c}`);
      await step(tally, "lag", "GET", `/v1/groups/${c}/lag`);
      await step(tally, "delete-offsets", "DELETE", `/v1/groups/${c}/offsets/__proto__`);
      await step(tally, "classic-leave", "POST", `/v1/groups/${c}/classic/leave`, {
        members: [{ groupInstanceId: key, reason: key }],
      });
    }),
  );
  console.log(
    `prototype-key lives:\n${[...tally.counts]
      .sort()
      .map(([k, n]) => `  ${n} × ${k}`)
      .join("\n")}`,
  );
  tally.expectClean();
}, 30_000);
