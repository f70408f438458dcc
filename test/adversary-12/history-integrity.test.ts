/**
 * The history routes (API.md §8) as a hostile client sees them: requests that fail (409, 400) or change
 * nothing (a dry run, a steady heartbeat, a plain commit) record nothing; the actor is exactly the
 * token's `sub`, however odd; `seq` continues with nothing lost or repeated when objects are aborted
 * under in-flight admin calls; paging at the ring's cap (10 here) while events are added never repeats
 * an event nor skips one that was kept; strange query values are 4xx and change nothing.
 */

import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { beat, join } from "../consumer/consumer-helpers";
import { call, commit, expectError, freshGroup, token } from "../integration/helpers";

const CAP = 10;

const eventsPage = async (g: string, query = "") => {
  const res = await call("GET", `/v1/groups/${g}/events${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { events: any[]; nextAfter: number };
};
const kept = async (g: string) => (await eventsPage(g, "?limit=1000")).events;

/** Resets `t` to `offset` (a distinct value per call marks its event); null if the call did not answer. */
const resetTo = (g: string, offset: number, jwt?: string) =>
  call(
    "POST",
    `/v1/groups/${g}/offsets/reset`,
    { topic: "t", to: "offset", offset },
    jwt ? { token: jwt } : {},
  );

/** The kept seqs are consecutive, end at the last seq written, and number min(cap, everything). */
function expectRing(list: any[]): void {
  const seqs = list.map((e) => e.seq);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i], `seqs ${seqs}`).toBe(seqs[i - 1] + 1);
  expect(seqs.length).toBe(Math.min(CAP, seqs.at(-1) ?? 0));
}

describe("what records nothing", () => {
  it("failed admin calls (409, 400) and a dry run leave the history as it was", async () => {
    const g = freshGroup("anone");
    const a = await join(g, "a", { t: 2 });
    await beat(g, a);
    expect(
      (
        await commit(g, [{ topic: "t", partition: 0, offset: 1, logEndOffset: 9 }], {
          memberId: "a",
          memberEpoch: a.memberEpoch,
        })
      ).status,
    ).toBe(200);
    const before = await kept(g);
    // 409s: reset and delete with a member, OffsetDelete of a subscribed topic, a stale epoch.
    expectError(await resetTo(g, 0), 409, "NON_EMPTY_GROUP", 68);
    expectError(await call("DELETE", `/v1/groups/${g}`), 409, "NON_EMPTY_GROUP", 68);
    expectError(await call("DELETE", `/v1/groups/${g}/offsets/t`), 409, "GROUP_SUBSCRIBED_TO_TOPIC", 86);
    expectError(
      await commit(g, [{ topic: "t", partition: 0, offset: 2 }], { memberId: "a", memberEpoch: 99 }),
      409,
      "STALE_MEMBER_EPOCH",
      113,
    );
    expectError(
      await commit(g, [{ topic: "t", partition: 0, offset: 2 }], { memberId: "ghost", memberEpoch: 1 }),
      409,
      "UNKNOWN_MEMBER_ID",
      25,
    );
    expectError(
      await call("POST", `/v1/groups/${g}/heartbeat`, { memberId: "ghost", memberEpoch: 3 }),
      409,
      "UNKNOWN_MEMBER_ID",
      25,
    );
    expectError(
      await call("POST", `/v1/groups/${g}/share/heartbeat`, {
        memberEpoch: 0,
        subscribedTopics: [{ name: "t", partitions: 1 }],
      }),
      409,
      "INCONSISTENT_GROUP_PROTOCOL",
      23,
    );
    // 400s: bad bodies.
    for (const body of [
      { topic: "t", to: "sideways" },
      { topic: "t", to: "offset", offset: -1 },
      { topic: "bad topic!", to: "earliest" },
      "{",
    ]) {
      const res = await call("POST", `/v1/groups/${g}/offsets/reset`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    // Steady heartbeats, describe, lag, offsets and history reads.
    for (let i = 0; i < 3; i++) expect((await beat(g, a)).status).toBe(200);
    for (const path of ["", "/lag", "/offsets", "/events", "/lag/history"])
      expect((await call("GET", `/v1/groups/${g}${path}`)).status).toBe(200);
    expect(await kept(g)).toEqual(before);
  });

  it("a dry-run reset on an Empty group (the console's preview) records no offsets_reset", async () => {
    const g = freshGroup("adry");
    expect((await commit(g, [{ topic: "t", partition: 0, offset: 5, logEndOffset: 9 }])).status).toBe(200);
    const before = await kept(g);
    for (const to of ["earliest", "latest"]) {
      const res = await call("POST", `/v1/groups/${g}/offsets/reset`, { topic: "t", to, dryRun: true });
      expect(res.status).toBe(200);
      expect(res.body.dryRun).toBe(true);
    }
    expect(await kept(g)).toEqual(before);
  });

  it("plain and simple commits of an Empty group record no event after the first", async () => {
    const g = freshGroup("aplain");
    expect((await commit(g, [{ topic: "t", partition: 0, offset: 1 }])).status).toBe(200);
    const before = await kept(g);
    for (let i = 2; i < 6; i++)
      expect((await commit(g, [{ topic: "t", partition: i % 2, offset: i, logEndOffset: 10 }])).status).toBe(
        200,
      );
    expect(await kept(g)).toEqual(before);
  });
});

describe("the actor is the token's sub", () => {
  it("keeps a string sub exactly (unicode, NUL, long) and records null for a sub that is not a string", async () => {
    const g = freshGroup("aact");
    expect((await commit(g, [{ topic: "t", partition: 0, offset: 50 }])).status).toBe(200);
    const subs: [unknown, string | null][] = [
      ["ops\u0000root", "ops\u0000root"],
      ["\u202egnp.exe \ud83d\udca5 \u00e9\u0301", "\u202egnp.exe \ud83d\udca5 \u00e9\u0301"],
      ["__proto__", "__proto__"],
      ["s".repeat(8000), "s".repeat(8000)],
      ["", ""],
      [42, null],
      [{ toString: "x" }, null],
      [["alice"], null],
      [true, null],
      [null, null],
    ];
    let offset = 0;
    for (const [sub, actor] of subs) {
      offset++;
      const jwt = await token({ sub });
      const res = await resetTo(g, offset, jwt);
      expect(res.status, `sub ${JSON.stringify(sub).slice(0, 40)}`).toBe(200);
      const last = (await kept(g)).filter((e) => e.type === "offsets_reset").at(-1);
      expect(last.detail.partitions[0].newOffset).toBe(offset);
      expect(last.actor, `sub ${JSON.stringify(sub).slice(0, 40)}`).toBe(actor);
    }
  });
});

describe("seq across aborts and concurrency", () => {
  it("every acknowledged reset is kept once when objects are aborted with calls in flight", async () => {
    const g = freshGroup("aabort");
    expect((await commit(g, [{ topic: "t", partition: 0, offset: 100 }])).status).toBe(200);
    const inFlight = [1, 2, 3, 4].map((i) => resetTo(g, i).catch(() => null));
    await abortAllDurableObjects();
    const answers = await Promise.all(inFlight);
    const after = [5, 6].map((i) => resetTo(g, i));
    const later = await Promise.all(after);
    for (const r of later) expect(r.status).toBe(200);
    for (const r of answers) if (r) expect([200, 503], JSON.stringify(r.body)).toContain(r.status);
    const list = await kept(g);
    expectRing(list);
    const marks = list.filter((e) => e.type === "offsets_reset").map((e) => e.detail.partitions[0].newOffset);
    expect(new Set(marks).size, `marks ${marks}`).toBe(marks.length);
    const acknowledged = [1, 2, 3, 4].filter((_, i) => answers[i]?.status === 200).concat([5, 6]);
    for (const m of acknowledged) expect(marks, `acknowledged reset ${m}`).toContain(m);
  });

  it("a poller paging at the cap while resets land sees each kept event once, in order", async () => {
    const g = freshGroup("apoll");
    expect((await commit(g, [{ topic: "t", partition: 0, offset: 1000 }])).status).toBe(200);
    const seen: any[] = [];
    let after = 0;
    let writing = true;
    const writer = (async () => {
      for (let batch = 0; batch < 6; batch++) {
        const res = await Promise.all([0, 1, 2, 3].map((i) => resetTo(g, batch * 4 + i + 1)));
        for (const r of res) expect(r.status).toBe(200);
      }
      writing = false;
    })();
    const poll = async () => {
      const page = await eventsPage(g, `?after=${after}&limit=3`);
      expect(page.events.length).toBeLessThanOrEqual(3);
      for (let i = 1; i < page.events.length; i++)
        expect(page.events[i].seq).toBe(page.events[i - 1].seq + 1);
      if (page.events.length > 0) expect(page.events[0].seq).toBeGreaterThan(after);
      expect(page.nextAfter).toBe(page.events.at(-1)?.seq ?? after);
      seen.push(...page.events);
      after = page.nextAfter;
      return page.events.length;
    };
    while (writing) await poll();
    await writer;
    while ((await poll()) > 0);
    const seqs = seen.map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    const marks = seen.filter((e) => e.type === "offsets_reset").map((e) => e.detail.partitions[0].newOffset);
    expect(new Set(marks).size).toBe(marks.length);
    // What the ring keeps at the end, the poller saw, the same.
    const final = await kept(g);
    expectRing(final);
    const bySeq = new Map(seen.map((e) => [e.seq, e]));
    for (const e of final) expect(bySeq.get(e.seq), `seq ${e.seq}`).toEqual(e);
    // Every reset wrote one event: 24 resets, plus what the first commit recorded.
    expect(final.at(-1).seq - (seen[0]?.seq ?? 1) + 1).toBeGreaterThanOrEqual(24);
  });
});

describe("lag samples under concurrent commits", () => {
  it("ten commits at once in one minute leave one sample; since is inclusive", async () => {
    const g = freshGroup("alag");
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        commit(g, [{ topic: "t", partition: i % 3, offset: i, logEndOffset: 20 + i }]),
      ),
    );
    for (const r of replies) expect(r.status).toBe(200);
    const all = await call("GET", `/v1/groups/${g}/lag/history`);
    expect(all.status).toBe(200);
    const samples = all.body.samples as { at: number; totalLag: number }[];
    // Ten commits take well under a minute here, unless they straddle a minute's edge.
    expect(samples.length).toBeGreaterThanOrEqual(1);
    expect(samples.length).toBeLessThanOrEqual(2);
    for (const s of samples) expect(Number.isInteger(s.totalLag) && s.totalLag >= 0).toBe(true);
    const at = samples[0]!.at;
    expect((await call("GET", `/v1/groups/${g}/lag/history?since=${at}`)).body.samples[0]).toEqual(
      samples[0],
    );
    const later = (await call("GET", `/v1/groups/${g}/lag/history?since=${at + 1}`)).body.samples;
    expect(later).toEqual(samples.slice(1));
  });
});

describe("strange queries", () => {
  it("answers non-ASCII digits, signs, spaces and repeats with 400 and changes nothing", async () => {
    const g = freshGroup("aquery");
    expect((await commit(g, [{ topic: "t", partition: 0, offset: 1 }])).status).toBe(200);
    expect((await resetTo(g, 0)).status).toBe(200);
    const before = await kept(g);
    const bad = [
      "?after=%D9%A1",
      "?after=%EF%BC%91",
      "?after=+1",
      "?after=%201",
      "?after=1%20",
      "?after=0x1",
      "?after=1n",
      "?after=Infinity",
      "?after=NaN",
      "?limit=1&limit=1",
      "?limit=%D9%A1",
      "?limit=1.0",
      "?limit=10000",
      "?limit=00000",
      "?after=1%00",
    ];
    for (const q of bad)
      expectError(await call("GET", `/v1/groups/${g}/events${q}`), 400, "INVALID_REQUEST", 42);
    for (const q of [
      "?since=1&since=2",
      "?since=%EF%BC%91",
      "?since=+0",
      "?since=",
      "?since=9007199254740992",
    ])
      expectError(await call("GET", `/v1/groups/${g}/lag/history${q}`), 400, "INVALID_REQUEST", 42);
    // Edges that are valid: the largest after and since, leading zeros, a limit of exactly 1000.
    const top = await eventsPage(g, "?after=9007199254740991&limit=1000");
    expect(top).toEqual({ events: [], nextAfter: 9007199254740991 });
    expect((await eventsPage(g, "?after=0000&limit=0001")).events.map((e) => e.seq)).toEqual([before[0].seq]);
    expect((await call("GET", `/v1/groups/${g}/lag/history?since=9007199254740991`)).body).toEqual({
      samples: [],
    });
    // Unknown and prototype-named parameters are ignored.
    expect((await eventsPage(g, "?__proto__=1&constructor=2&toString=3")).events).toEqual(before);
    expect(await kept(g)).toEqual(before);
  });
});
