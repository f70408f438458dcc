/**
 * Adversarial: parked acquires carrying acknowledgements, long requests, random one-partition steps with
 * restarts racing them, and the history following the acknowledgements (API.md §7, §8).
 */

import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advanceClock, now } from "../../src/core/clock";
import { call, freshGroup, type Reply } from "../integration/helpers";
import { expand, Member, not5xx, part, r } from "./adversary-lib";
import { archivedOf, errorsOf, eventsOf, keepAlive, Ledger, lagSamples, steady } from "./adversary-sole-lib";
import { LOCK_MS, MAX_IN_FLIGHT, sleep, stub } from "./share-helpers";

describe("parked acquires and long requests", () => {
  it("a parked acquire carrying an accept: answered 200 after its wait, the accept is stored", async () => {
    const g = freshGroup("sole-park");
    const { m, held } = await steady(g, "a", 6);
    expect(expand(held)).toEqual(["t-0:3", "t-0:4", "t-0:5"]);
    // Nothing left to hand out: the acquire waits its 300 ms and answers with the accept's result.
    const res = await m.acquire({ maxRecords: 3, maxWaitMs: 300, acknowledgements: [r(3, 5, "accept")] });
    expect(errorsOf(res)).toEqual([null]);
    expect(res.body.records).toEqual([]);
    await abortAllDurableObjects();
    expect(await part(g)).toMatchObject({ startOffset: 6, lag: 0 });
  });

  it("a parked acquire carrying an accept, woken by another member's release: both stored", async () => {
    const g = freshGroup("sole-park2");
    const a = new Member(g, { t: 1 }, "a");
    const b = new Member(g, { t: 1 }, "b");
    await a.join();
    await b.join();
    await a.beat();
    const ga = await a.acquire({
      maxRecords: 3,
      partitions: [{ topic: "t", partition: 0, logEndOffset: 6 }],
    });
    const gb = await b.acquire({ maxRecords: 3 });
    expect(expand(ga.body.records)).toEqual(["t-0:0", "t-0:1", "t-0:2"]);
    expect(expand(gb.body.records)).toEqual(["t-0:3", "t-0:4", "t-0:5"]);
    const parked = a.acquire({ maxRecords: 3, maxWaitMs: 10_000, acknowledgements: [r(0, 2, "accept")] });
    await sleep(200);
    expect(errorsOf(await b.ack([r(3, 3, "accept"), r(4, 5, "release")]))).toEqual([null, null]);
    const res = await parked;
    expect(errorsOf(res)).toEqual([null]);
    expect(res.body.records).toEqual([
      { topic: "t", partition: 0, firstOffset: 4, lastOffset: 5, deliveryCount: 2 },
    ]);
    await abortAllDurableObjects();
    expect(await part(g)).toMatchObject({ startOffset: 4, acquired: 0 });
    await a.beat();
    expect(expand((await a.acquire({ maxRecords: 10 })).body.records)).toEqual(["t-0:4", "t-0:5"]);
  });

  // A parked acquire applies and stores its acknowledgements before it waits (API.md §7: the wait
  // holds the request). An abort during the wait answers 503 with the accept already stored: in doubt,
  // as any answer lost to a crash after its commit. What must hold: the accept is stored once, its
  // offsets are never delivered again, and the retried accept is refused (INVALID_RECORD_STATE: the
  // offsets are no longer held) without changing anything.
  it("a parked acquire carrying an accept, then an abort: in doubt, stored once, never redelivered", async () => {
    const g = freshGroup("sole-park-abort");
    const { m } = await steady(g, "a", 6);
    const alive = keepAlive(m);
    const parked = m.acquire({ maxRecords: 3, maxWaitMs: 2_000, acknowledgements: [r(3, 5, "accept")] });
    await sleep(300);
    await abortAllDurableObjects();
    const res = await parked;
    await alive.stop();
    if (res.status === 200) expect(res.body.acknowledgements[0].error).toBeNull();
    else expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect((await part(g)).startOffset).toBe(6);
    const retry = await m.acquire({ maxRecords: 3, acknowledgements: [r(3, 5, "accept")] });
    expect(errorsOf(retry)).toEqual(["INVALID_RECORD_STATE"]);
    expect(retry.body.records).toEqual([]);
    expect(await part(g)).toMatchObject({ startOffset: 6, acquired: 0 });
  });

  // The member's session ends during the wait: the acknowledgements it carried were applied while it
  // was known, so the wait ends as waits do — no records, the results — and its next call is refused.
  it("a parked acquire carrying an accept whose member's session ends while it waits: answered with the accept's result", async () => {
    const g = freshGroup("sole-park-session");
    const { m } = await steady(g, "a", 6);
    // No heartbeats: the session (3 s) ends during the 8 s wait.
    const res = await m.acquire({ maxRecords: 3, maxWaitMs: 8_000, acknowledgements: [r(3, 5, "accept")] });
    const stored = (await part(g)).startOffset === 6;
    const told = res.status === 200 && res.body.acknowledgements[0].error === null;
    expect(
      told,
      `answered ${res.status} ${JSON.stringify(res.body)}, the accept ${stored ? "is" : "is not"} stored`,
    ).toBe(stored);
    expect(res.body.records).toEqual([]);
    const next = await m.acquire({ maxRecords: 3 });
    expect([next.status, next.body.error?.code]).toEqual([409, "UNKNOWN_MEMBER_ID"]);
  });

  it("one acknowledge of a hundred single-offset entries of one partition, half rejected, survives an abort", async () => {
    const g = freshGroup("sole-many");
    const m = new Member(g, { t: 1 }, "a");
    await m.join();
    const got = await m.acquire({
      maxRecords: MAX_IN_FLIGHT,
      partitions: [{ topic: "t", partition: 0, logEndOffset: MAX_IN_FLIGHT + 1 }],
    });
    expect(expand(got.body.records)).toHaveLength(MAX_IN_FLIGHT);
    // 0 stays held so SPSO stays at 0 and the row keeps every range.
    const entries = Array.from({ length: MAX_IN_FLIGHT - 1 }, (_, i) =>
      r(i + 1, i + 1, i % 2 ? "reject" : "accept"),
    );
    const res = await m.ack(entries);
    expect(errorsOf(res).every((c: any) => c === null)).toBe(true);
    const told = {
      part: await part(g),
      archived: (await archivedOf(g)).map((x) => x.firstOffset),
      events: (await eventsOf(g, "share_archived")).length,
    };
    expect(told.part).toMatchObject({ startOffset: 0, acquired: 1, acknowledged: 50, archived: 49 });
    await abortAllDurableObjects();
    expect(await part(g)).toMatchObject({ startOffset: 0, acquired: 0, acknowledged: 50, archived: 49 });
    expect((await archivedOf(g)).map((x) => x.firstOffset)).toEqual(told.archived);
    expect((await eventsOf(g, "share_archived")).length).toBe(told.events);
    await m.beat();
    const back = await m.acquire({ maxRecords: 100 });
    // The in-flight cap counts done offsets above SPSO too: only 0 comes back until SPSO moves.
    expect(expand(back.body.records)).toEqual(["t-0:0"]);
    expect(errorsOf(await m.ack([r(0, 0, "accept")]))).toEqual([null]);
    await evictDurableObject(stub(g));
    expect(await part(g)).toMatchObject({ startOffset: MAX_IN_FLIGHT, acknowledged: 0, archived: 0, lag: 1 });
    await m.beat();
    expect(expand((await m.acquire({ maxRecords: 100 })).body.records)).toEqual([`t-0:${MAX_IN_FLIGHT}`]);
  });
});

describe("random one-partition steps with restarts racing them", () => {
  const rng = (seed: number) => () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (const seed of [7, 11]) {
    it(`no accept lost or repeated, and every offset ends accepted or archived (seed ${seed})`, async () => {
      const rand = rng(seed);
      const g = freshGroup("sole-fuzz");
      const END = 60;
      const ledger = new Ledger();
      const inDoubt = new Set<string>();
      const ms = [0, 1, 2].map((i) => new Member(g, { t: 2 }, `m${i}`));
      for (const m of ms) await m.join();
      const report = [0, 1].map((partition) => ({ topic: "t", partition, logEndOffset: END }));
      /** The member's settlement of some of what it holds: one entry per range, types at random. */
      const settle = (m: Member) => {
        const picked = m.held.splice(0, 1 + Math.floor(rand() * 3));
        return picked.map((x) => {
          const y = rand();
          const type = y < 0.6 ? "accept" : y < 0.75 ? "release" : y < 0.85 ? "reject" : "renew";
          return r(x.firstOffset, x.lastOffset, type, x.topic, x.partition);
        });
      };
      const note = (entries: any[], res: Reply) => {
        not5xx(res);
        if (res.status === 503)
          for (const e of entries) if (e.type === "accept") for (const o of expand([e])) inDoubt.add(o);
        ledger.settled(entries, res);
        if (res.status === 200 && res.body.records) ledger.handed(res.body.records);
      };
      for (let round = 0; round < 36; round++) {
        for (const m of ms) if ((await m.beat()).status === 409) await m.join();
        const steps = ms.map(async (m) => {
          const entries = settle(m);
          if (rand() < 0.6) {
            const res = await m.acquire({
              maxRecords: 1 + Math.floor(rand() * 6),
              acknowledgements: entries,
              ...(round === 0 ? { partitions: report } : {}),
            });
            note(entries, res);
          } else if (entries.length > 0) {
            note(entries, await m.ack(entries));
          }
        });
        // Every third round a restart lands while the steps are in flight.
        if (round % 3 === 2) {
          await sleep(Math.floor(rand() * 3));
          await (rand() < 0.5 ? abortAllDurableObjects() : evictDurableObject(stub(g)));
        }
        await Promise.all(steps);
        await ledger.checkSpso(g);
      }
      // Drain: the others leave (their locks return), m0 accepts everything it is handed.
      for (const m of ms.slice(1)) not5xx(await m.leave());
      const m0 = ms[0]!;
      if ((await m0.beat()).status === 409) await m0.join();
      m0.held = [];
      for (let i = 0; i < 40; i++) {
        const res = await m0.acquire({ maxRecords: 100 });
        note([], res);
        if (res.status !== 200) continue;
        if (res.body.records.length === 0) {
          const d = (await call("GET", `/v1/groups/${g}`)).body.partitions;
          if (d.every((p: any) => p.startOffset === END)) break;
          await sleep(LOCK_MS / 2);
          continue;
        }
        const entries = res.body.records.map((x: any) =>
          r(x.firstOffset, x.lastOffset, "accept", x.topic, x.partition),
        );
        note(entries, await m0.ack(entries));
        m0.held = [];
      }
      await ledger.checkSpso(g);
      for (const p of [0, 1]) expect(await part(g, "t", p)).toMatchObject({ startOffset: END, lag: 0 });
      const archivedOffsets = new Set(expand(await archivedOf(g)));
      const all = [0, 1].flatMap((p) =>
        expand([{ topic: "t", partition: p, firstOffset: 0, lastOffset: END - 1 }]),
      );
      const neither = all.filter(
        (o) => !ledger.accepted.has(o) && !archivedOffsets.has(o) && !inDoubt.has(o),
      );
      expect(neither, "offsets below SPSO neither accepted nor archived").toEqual([]);
      const both = [...ledger.accepted].filter((o) => archivedOffsets.has(o));
      expect(both, "accepted offsets also listed as archived").toEqual([]);
      console.log(
        `fuzz ${seed}: ${ledger.accepted.size} accepted with 200, ${archivedOffsets.size} archived, ${inDoubt.size} in doubt, ${[...ledger.delivered.values()].reduce((a, b) => a + b, 0)} deliveries`,
      );
    });
  }
});

// Last in the file: it moves the coordinator's clock forward, which delays every later real alarm.
describe("history follows the acknowledgements", () => {
  it("the first acknowledgement of a group and of a minute each leave one lag sample, durably", async () => {
    const g = freshGroup("sole-hist");
    const m = new Member(g, { t: 1 }, "a");
    await m.join();
    await m.acquire({ maxRecords: 3, partitions: [{ topic: "t", partition: 0, logEndOffset: 20 }] });
    expect(await lagSamples(g)).toEqual([]);
    // The group's first acknowledgement: one sample, with the lag after it.
    expect(errorsOf(await m.ack([r(0, 2, "accept")]))).toEqual([null]);
    await abortAllDurableObjects();
    const first = await lagSamples(g);
    expect(first.map((s) => s.totalLag)).toEqual([17]);
    // Later in the same minute: no new sample.
    await m.beat();
    const again = await m.acquire({ maxRecords: 3 });
    expect(errorsOf(await m.acquire({ maxRecords: 3, acknowledgements: [r(3, 5, "accept")] }))).toEqual([
      null,
    ]);
    expect(expand(again.body.records)).toEqual(["t-0:3", "t-0:4", "t-0:5"]);
    const sameMinute = await lagSamples(g);
    if (Math.floor(now() / 60_000) === Math.floor(first[0].at / 60_000)) expect(sameMinute).toHaveLength(1);
    // The next minute's first acknowledgement is a steady one-partition accept: its sample is stored
    // too. Moving the clock expires a's session and locks; the alarm removes it, b takes 6-8 again.
    advanceClock(60_000 - (now() % 60_000) + 10);
    await runDurableObjectAlarm(stub(g));
    const b = new Member(g, { t: 1 }, "b");
    await b.join();
    const retaken = await b.acquire({ maxRecords: 3 });
    expect(expand(retaken.body.records)).toEqual(["t-0:6", "t-0:7", "t-0:8"]);
    const mid = await lagSamples(g);
    const res = await b.ack([r(6, 8, "accept")]);
    expect(errorsOf(res)).toEqual([null]);
    expect(await lagSamples(g)).toHaveLength(mid.length + 1);
    await abortAllDurableObjects();
    const after = await lagSamples(g);
    expect(after.length).toBe(mid.length + 1);
    expect(after.at(-1)).toMatchObject({ totalLag: 11 });
    expect(await part(g)).toMatchObject({ startOffset: 9, lag: 11 });
  });
});
