/**
 * A rejected request changes nothing (issue 10 §4, §6): with a settled consumer group and a Stable
 * classic group in place, hostile requests that must be refused (or are no-ops) are fired one at a
 * time, and after each one every other member's session and revocation deadlines — read from the
 * object's own core through runInDurableObject — the describe output and the row count of every table
 * are exactly what they were before it. A throw that reloads the group restarts every deadline, so it
 * shows here even when the answer looks harmless.
 */

import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";
import { joinNew, syncAll } from "../classic/members";
import { join, type Member, settle } from "../consumer/consumer-helpers";
import { others, snapshot } from "./fuzz-state";
import { contractProblem, deepJson, NAME_AT_LIMIT, PROTO_KEYS, repeatQuery, Tally } from "./fuzz-values";
import { call, commit, freshGroup, token } from "./helpers";

interface Hostile {
  label: string;
  method: string;
  path: string;
  body?: string;
  contentType?: string;
  /** Members whose own deadline this request may legitimately move (it names them). */
  named: string[];
  /** "rejected": must be a 4xx. "no-op": anything but a 5xx, and still nothing may change. */
  kind: "rejected" | "no-op";
}

function hostileRequests(
  c: string,
  [a, b]: Member[],
  k: string,
  x: { memberId: string; generationId: number },
): Hostile[] {
  const out: Hostile[] = [];
  const add = (
    label: string,
    method: string,
    path: string,
    body: unknown,
    named: string[],
    kind: Hostile["kind"] = "rejected",
    contentType?: string,
  ) =>
    out.push({
      label,
      method,
      path,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      named,
      kind,
      contentType,
    });
  const hb = `/v1/groups/${c}/heartbeat`;
  const e = a!.memberEpoch;
  // Consumer protocol: epochs it was never given, members that do not exist, limits, prototype keys.
  add("epoch ahead", "POST", hb, { memberId: a!.memberId, memberEpoch: e + 1 }, [a!.memberId]);
  add("epoch max", "POST", hb, { memberId: a!.memberId, memberEpoch: 2 ** 31 - 1 }, [a!.memberId]);
  add("epoch over max", "POST", hb, { memberId: a!.memberId, memberEpoch: 2 ** 31 }, [a!.memberId]);
  add("epoch float", "POST", hb, `{"memberId":"${a!.memberId}","memberEpoch":1.5}`, [a!.memberId]);
  add("epoch 1e999", "POST", hb, `{"memberId":"${a!.memberId}","memberEpoch":1e999}`, [a!.memberId]);
  add("epoch NaN string", "POST", hb, { memberId: a!.memberId, memberEpoch: "NaN" }, [a!.memberId]);
  add("duplicate keys", "POST", hb, `{"memberId":"${a!.memberId}","memberEpoch":${e},"memberEpoch":"x"}`, [
    a!.memberId,
  ]);
  for (const key of PROTO_KEYS) {
    add(`unknown member ${key}`, "POST", hb, { memberId: key, memberEpoch: 1 }, [key]);
    add(`assignor ${key}`, "POST", hb, { memberId: a!.memberId, memberEpoch: e, serverAssignor: key }, [
      a!.memberId,
    ]);
    add(
      `owned ${key}, stale epoch`,
      "POST",
      hb,
      {
        memberId: b!.memberId,
        memberEpoch: b!.memberEpoch + 5,
        ownedPartitions: [{ topic: key, partitions: [0] }],
      },
      [b!.memberId],
    );
    // At its current epoch the member may report anything it likes as owned: its own session moves,
    // nobody else's may (a throw here once reloaded the group and restarted every session).
    add(
      `owned ${key}, current epoch`,
      "POST",
      hb,
      {
        memberId: b!.memberId,
        memberEpoch: b!.memberEpoch,
        ownedPartitions: [...b!.owned, { topic: key, partitions: [0] }],
      },
      [b!.memberId],
      "no-op",
    );
    add(
      `commit ${key}, stale epoch`,
      "POST",
      `/v1/groups/${c}/offsets`,
      { memberId: a!.memberId, memberEpoch: e + 1, offsets: [{ topic: key, partition: 0, offset: 1 }] },
      [a!.memberId],
    );
    add(
      `classic heartbeat ${key}`,
      "POST",
      `/v1/groups/${k}/classic/heartbeat`,
      { memberId: key, generationId: x.generationId },
      [key],
    );
    add(
      `classic join ${key}`,
      "POST",
      `/v1/groups/${k}/classic/join`,
      {
        memberId: key,
        groupInstanceId: null,
        clientId: key,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        protocolType: "consumer",
        protocols: [{ name: "range", metadata: JSON.stringify({ topics: [key] }) }],
      },
      [key],
    );
    add(
      `classic sync ${key}`,
      "POST",
      `/v1/groups/${k}/classic/sync`,
      { memberId: key, generationId: x.generationId, assignments: [{ memberId: key, assignment: "{}" }] },
      [key],
    );
    add(
      `classic instance ${key}`,
      "POST",
      `/v1/groups/${k}/classic/heartbeat`,
      { memberId: x.memberId, generationId: x.generationId, groupInstanceId: key },
      [x.memberId],
    );
    add(
      `classic leave ${key}`,
      "POST",
      `/v1/groups/${k}/classic/leave`,
      { members: [{ memberId: key }, { groupInstanceId: key }] },
      [key],
      "no-op",
    );
  }
  add(
    "topic over the limit",
    "POST",
    hb,
    { memberId: a!.memberId, memberEpoch: e, subscribedTopics: [{ name: "x".repeat(250), partitions: 1 }] },
    [a!.memberId],
  );
  for (const bad of ["\uD800", "\u202Et\u202C", "t\u0000", "🙂", ""])
    add(
      `topic ${JSON.stringify(bad)}`,
      "POST",
      hb,
      { memberId: a!.memberId, memberEpoch: e, subscribedTopics: [{ name: bad, partitions: 1 }] },
      [a!.memberId],
    );
  add(
    "partitions over the bound",
    "POST",
    hb,
    { memberId: a!.memberId, memberEpoch: e, subscribedTopics: [{ name: "t", partitions: 100_001 }] },
    [a!.memberId],
  );
  add(
    "partitions 2^53",
    "POST",
    hb,
    { memberId: a!.memberId, memberEpoch: e, subscribedTopics: [{ name: "t", partitions: 2 ** 53 }] },
    [a!.memberId],
  );
  add(
    "owned partition -1",
    "POST",
    hb,
    { memberId: a!.memberId, memberEpoch: e, ownedPartitions: [{ topic: "t", partitions: [-1] }] },
    [a!.memberId],
  );
  add("deep JSON", "POST", hb, deepJson(10_000), []);
  add("deep object", "POST", hb, deepJson(10_000, "object"), []);
  add("not JSON", "POST", hb, "{", []);
  add(
    "wrong content type",
    "POST",
    hb,
    JSON.stringify({ memberId: a!.memberId, memberEpoch: e + 1 }),
    [a!.memberId],
    "rejected",
    "text/plain",
  );
  // Offsets: stale epochs, unknown and anonymous members, sizes at and over the limits.
  const many = (n: number, topic = "t") =>
    Array.from({ length: n }, (_, i) => ({ topic, partition: i, offset: i }));
  add(
    "commit stale epoch",
    "POST",
    `/v1/groups/${c}/offsets`,
    { memberId: a!.memberId, memberEpoch: e + 1, offsets: many(10_000) },
    [a!.memberId],
  );
  add(
    "commit 10,001 offsets",
    "POST",
    `/v1/groups/${c}/offsets`,
    { memberId: a!.memberId, memberEpoch: e, offsets: many(10_001) },
    [a!.memberId],
  );
  add(
    "commit metadata too large",
    "POST",
    `/v1/groups/${c}/offsets`,
    {
      memberId: a!.memberId,
      memberEpoch: e,
      offsets: [{ topic: "t", partition: 0, offset: 9, metadata: "m".repeat(4097) }],
    },
    [a!.memberId],
  );
  add(
    "commit topic at the limit, stale",
    "POST",
    `/v1/groups/${c}/offsets`,
    { memberId: a!.memberId, memberEpoch: e + 1, offsets: many(3, NAME_AT_LIMIT) },
    [a!.memberId],
  );
  add("simple commit into a live group", "POST", `/v1/groups/${c}/offsets`, { offsets: many(2) }, []);
  add(
    "commit unknown member",
    "POST",
    `/v1/groups/${c}/offsets`,
    { memberId: "__proto__", memberEpoch: 1, offsets: many(2) },
    ["__proto__"],
  );
  add(
    "commit huge offset",
    "POST",
    `/v1/groups/${c}/offsets`,
    { memberId: a!.memberId, memberEpoch: e, offsets: [{ topic: "t", partition: 0, offset: 2 ** 53 }] },
    [a!.memberId],
  );
  add(
    "commit negative zero partition",
    "POST",
    `/v1/groups/${c}/offsets`,
    `{"memberId":"${a!.memberId}","memberEpoch":${e + 1},"offsets":[{"topic":"t","partition":-0,"offset":1}]}`,
    [a!.memberId],
  );
  add("delete subscribed offsets", "DELETE", `/v1/groups/${c}/offsets/t`, undefined, []);
  add("reset a live group", "POST", `/v1/groups/${c}/offsets/reset`, { topic: "t", to: "earliest" }, []);
  add("delete a live group", "DELETE", `/v1/groups/${c}`, undefined, []);
  add("delete a live classic group", "DELETE", `/v1/groups/${k}`, undefined, []);
  // Reads with hostile query strings change nothing either.
  add(
    "fetch ×1000 topic",
    "GET",
    `/v1/groups/${c}/offsets?${repeatQuery("topic", "t", 1000)}`,
    undefined,
    [],
    "no-op",
  );
  add(
    "fetch 1000 topics",
    "GET",
    `/v1/groups/${c}/offsets?${Array.from({ length: 1000 }, (_, i) => `topic=t${i}`).join("&")}`,
    undefined,
    [],
    "no-op",
  );
  add("fetch __proto__", "GET", `/v1/groups/${c}/offsets/__proto__/0`, undefined, [], "no-op");
  add("lag", "GET", `/v1/groups/${k}/lag`, undefined, [], "no-op");
  add(
    "delete ×1000 partition",
    "DELETE",
    `/v1/groups/${k}/offsets/orders?${repeatQuery("partition", "0", 1000)}`,
    undefined,
    [],
  );
  // Classic protocol: generations it was never given, bad sessions, foreign protocols.
  const g = x.generationId;
  add(
    "classic heartbeat generation ahead",
    "POST",
    `/v1/groups/${k}/classic/heartbeat`,
    { memberId: x.memberId, generationId: g + 1 },
    [x.memberId],
  );
  add(
    "classic sync generation ahead",
    "POST",
    `/v1/groups/${k}/classic/sync`,
    { memberId: x.memberId, generationId: g + 1, assignments: [] },
    [x.memberId],
  );
  add(
    "classic commit generation ahead",
    "POST",
    `/v1/groups/${k}/offsets`,
    { memberId: x.memberId, generationId: g + 1, offsets: many(10_000, "orders") },
    [x.memberId],
  );
  add(
    "classic join foreign protocol",
    "POST",
    `/v1/groups/${k}/classic/join`,
    {
      memberId: x.memberId,
      groupInstanceId: null,
      clientId: "c",
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocolType: "connect",
      protocols: [{ name: "__proto__", metadata: "" }],
    },
    [x.memberId],
  );
  add(
    "classic join session too short",
    "POST",
    `/v1/groups/${k}/classic/join`,
    {
      memberId: x.memberId,
      groupInstanceId: null,
      clientId: "c",
      sessionTimeoutMs: 1,
      rebalanceTimeoutMs: 10_000,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: "{}" }],
    },
    [x.memberId],
  );
  add(
    "classic join no protocols",
    "POST",
    `/v1/groups/${k}/classic/join`,
    {
      memberId: x.memberId,
      groupInstanceId: null,
      clientId: "c",
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocolType: "consumer",
      protocols: [],
    },
    [x.memberId],
  );
  add("classic deep JSON", "POST", `/v1/groups/${k}/classic/join`, deepJson(10_000), []);
  add(
    "classic duplicate keys",
    "POST",
    `/v1/groups/${k}/classic/heartbeat`,
    `{"memberId":"${x.memberId}","generationId":${g},"generationId":{"__proto__":null}}`,
    [x.memberId],
  );
  add(
    "classic wrong content type",
    "POST",
    `/v1/groups/${k}/classic/heartbeat`,
    JSON.stringify({ memberId: x.memberId, generationId: g + 1 }),
    [x.memberId],
    "rejected",
    "application/x-www-form-urlencoded",
  );
  return out;
}

async function fire(h: Hostile): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${await token()}` };
  if (h.body !== undefined) headers["content-type"] = h.contentType ?? "application/json";
  const res = await exports.default.fetch(`http://cohort.test${h.path}`, {
    method: h.method,
    headers,
    body: h.body,
  });
  return { status: res.status, text: await res.text() };
}

it("leaves every other member's deadlines, the describe output and the rows unchanged after each rejected request", async () => {
  // A settled consumer group with offsets, and a Stable classic group with offsets.
  const c = freshGroup("dl-consumer");
  // Revocations must not time out while the hostile requests run, however loaded the machine.
  const patient = { rebalanceTimeoutMs: 600_000 };
  const members = [await join(c, "a", { t: 4 }, patient), await join(c, "b", { t: 4 }, patient)];
  await settle(c, members);
  expect(
    (
      await commit(c, [{ topic: "t", partition: 0, offset: 1 }], {
        memberId: "a",
        memberEpoch: members[0]!.memberEpoch,
      })
    ).status,
  ).toBe(200);
  const k = freshGroup("dl-classic");
  const joined = await Promise.all([
    joinNew(k, { sessionTimeoutMs: 120_000 }),
    joinNew(k, { sessionTimeoutMs: 120_000 }),
  ]);
  for (const s of await syncAll(k, joined)) expect(s.status).toBe(200);
  const x = joined[0]!.body as { memberId: string; generationId: number };
  expect(
    (
      await commit(k, [{ topic: "orders", partition: 0, offset: 1 }], {
        memberId: x.memberId,
        generationId: x.generationId,
      })
    ).status,
  ).toBe(200);
  expect((await call("GET", `/v1/groups/${k}`)).body.state).toBe("Stable");

  const tally = new Tally();
  const fireAll = async (requests: Hostile[], keepAlive: () => Promise<unknown>) => {
    for (const [i, h] of requests.entries()) {
      // Keep the consumer members alive on a loaded machine (45 s sessions; the classic ones have
      // 120 s): they heartbeat every 20 requests, before the baseline is taken.
      if (i % 20 === 0) await keepAlive();
      const before = [await snapshot(c), await snapshot(k)];
      const reply = await fire(h);
      const after = [await snapshot(c), await snapshot(k)];
      const { problem, code } = contractProblem(reply.status, reply.text);
      const refusedAsRequired = h.kind === "no-op" || reply.status >= 400;
      const changed = [0, 1].some(
        (j) => JSON.stringify(others(before[j]!, h.named)) !== JSON.stringify(others(after[j]!, h.named)),
      );
      const detail = `${h.label}: ${h.method} ${h.path.slice(0, 80)} → ${reply.status} ${reply.text.slice(0, 160)}${
        changed
          ? `\n    before ${JSON.stringify(before.map((s) => others(s, h.named))).slice(0, 600)}\n    after  ${JSON.stringify(after.map((s) => others(s, h.named))).slice(0, 600)}`
          : ""
      }`;
      tally.add(
        { route: h.label, status: reply.status, code, detail },
        problem ?? (!refusedAsRequired ? "accepted" : changed ? "state changed" : null),
      );
    }
  };
  const requests = hostileRequests(c, members, k, x);
  await fireAll(requests, () => settle(c, members));

  // Mid-revocation: a third member joins; b hears of it but keeps what it must give up (it has a
  // revocation deadline now), and the hostile requests run again against that state.
  await settle(c, members);
  const c3 = await join(c, "c3", { t: 4 }, patient);
  const [a, b] = members as [Member, Member];
  // Heartbeats that keep reporting what was owned before: the revocation stays pending, sessions live.
  const holdOn = async () => {
    for (const m of [a, b, c3]) {
      const res = await call("POST", `/v1/groups/${c}/heartbeat`, {
        memberId: m.memberId,
        memberEpoch: m.memberEpoch,
        ownedPartitions: m.owned,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      m.memberEpoch = res.body.memberEpoch;
    }
  };
  await holdOn();
  expect((await call("GET", `/v1/groups/${c}`)).body.state).toBe("Reconciling");
  const revoking = hostileRequests(c, members, k, x).filter((h) => !h.path.includes("/classic/"));
  await fireAll(revoking, holdOn);
  console.log(
    `rejected requests (${requests.length + revoking.length}):\n${[...tally.counts]
      .sort()
      .map(([key, n]) => `  ${n} × ${key}`)
      .join("\n")}`,
  );
  tally.expectClean();
}, 60_000);
