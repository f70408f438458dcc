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
import { json, limitShots, randomShots, rawShots, type Shot } from "./fuzz-requests";
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
