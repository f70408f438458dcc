/**
 * Every HTTP route (share routes included) under hostile values (API.md §1): prototype-key and unicode names, names at and over
 * the 249-char limit, numbers at and past their bounds, 10,000 offsets, maximum partitions, 1,000
 * repeated query values, JSON nested 10,000 deep, duplicate keys, wrong content types. Requests run
 * eight at a time (parked classic joins overlap) against groups shared by many requests, so state
 * built by one hostile request meets the next. No answer may be a 5xx; every error has §1's shape and
 * status. The counts by route and status are printed, to see what a failing run broke.
 */

import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { expect, it } from "vitest";
import { json, limitShots, randomShots, rawShots, type Shot } from "./fuzz-requests";
import { shareLimitShots } from "./fuzz-share-limits";
import { contractProblem, fuzzSeed, PROTO_KEYS, pool, Tally } from "./fuzz-values";
import { token } from "./helpers";

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
  const shots = [
    ...fc.sample(randomShots, { numRuns: 1200, seed }),
    ...rawShots(),
    ...limitShots(),
    ...shareLimitShots(),
  ];
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

it("serves share members, topics and groups named like prototype keys over their whole life", async () => {
  const tally = new Tally();
  await Promise.all(
    PROTO_KEYS.map(async (key) => {
      const g = `fuzz-share-${key}`;
      const base = `/v1/groups/${g}/share`;
      const joined = await step(tally, "share-heartbeat", "POST", `${base}/heartbeat`, {
        memberId: key,
        memberEpoch: 0,
        clientId: key,
        subscribedTopics: [{ name: key, partitions: 2 }],
      });
      const report = [0, 1].map((partition) => ({
        topic: key,
        partition,
        logStartOffset: 0,
        logEndOffset: 30,
      }));
      // `latest` (the default) starts at the log end: a second report with a larger end gives records.
      await step(tally, "share-acquire", "POST", `${base}/acquire`, { memberId: key, partitions: report });
      const bigger = report.map((p) => ({ ...p, logEndOffset: 36 }));
      const got = await step(tally, "share-acquire", "POST", `${base}/acquire`, {
        memberId: key,
        maxRecords: 12,
        partitions: bigger,
      });
      const records: any[] = got.records ?? [];
      tally.add(
        { route: "share-acquired", status: 200, detail: `${key}: ${JSON.stringify(records)}` },
        records.length > 0 ? null : `share member ${key} acquired nothing`,
      );
      const types = ["accept", "release", "reject", "renew"];
      await step(tally, "share-acknowledge", "POST", `${base}/acknowledge`, {
        memberId: key,
        acknowledgements: records.map((r, i) => ({ ...r, deliveryCount: undefined, type: types[i % 4] })),
      });
      await step(tally, "share-archived", "GET", `${base}/archived?topic=${key}&limit=5`);
      await step(tally, "share-redrive", "POST", `${base}/archived/redrive`, { topic: key });
      await step(tally, "describe", "GET", `/v1/groups/${g}`);
      await step(tally, "lag", "GET", `/v1/groups/${g}/lag`);
      await step(tally, "fetch-offsets", "GET", `/v1/groups/${g}/offsets?topic=${key}&topic=__proto__`);
      await step(tally, "fetch-offset", "GET", `/v1/groups/${g}/offsets/${key}/1`);
      await step(tally, "commit", "POST", `/v1/groups/${g}/offsets`, {
        offsets: [{ topic: key, partition: 0, offset: 1 }],
      });
      await step(tally, "heartbeat", "POST", `/v1/groups/${g}/heartbeat`, {
        memberId: key,
        memberEpoch: 0,
        subscribedTopics: [{ name: key, partitions: 2 }],
        ownedPartitions: [],
      });
      await step(tally, "share-heartbeat", "POST", `${base}/heartbeat`, {
        memberId: key,
        memberEpoch: joined.memberEpoch ?? 1,
      });
      await step(tally, "share-heartbeat", "POST", `${base}/heartbeat`, { memberId: key, memberEpoch: -1 });
      await step(tally, "reset", "POST", `/v1/groups/${g}/offsets/reset`, { topic: key, to: "earliest" });
      await step(tally, "delete-offsets", "DELETE", `/v1/groups/${g}/offsets/${key}?partition=0`);
      await step(tally, "delete-group", "DELETE", `/v1/groups/${g}`);
    }),
  );
  console.log(
    `share prototype-key lives:\n${[...tally.counts]
      .sort()
      .map(([k, n]) => `  ${n} × ${k}`)
      .join("\n")}`,
  );
  tally.expectClean();
}, 30_000);
