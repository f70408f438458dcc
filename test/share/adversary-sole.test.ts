/**
 * Adversarial: acknowledgements of one share-partition (an acknowledge, or an acquire with the previous
 * batch's accept piggybacked) across aborts and evictions (API.md §7, §8). Members are black boxes that
 * know only what their responses told them; the invariants are checked from the outside: an accept
 * answered 200 is never delivered again, archived and SPSO survive a restart, SPSO never moves back
 * without a redrive, describe agrees with what members were told, the history follows the acks.
 */

import {
  abortAllDurableObjects,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advanceClock, now } from "../../src/core/clock";
import { call, freshGroup, type Reply } from "../integration/helpers";
import { expand, Member, not5xx, part, r } from "./adversary-lib";
import { DELIVERY_LIMIT, LOCK_MS, MAX_IN_FLIGHT, SESSION_MS, sleep, stub } from "./share-helpers";

const inObject = <R>(g: string, fn: (instance: any) => R): Promise<R> =>
  (runInDurableObject as unknown as (s: unknown, f: (i: any) => R) => Promise<R>)(stub(g), fn);

const restarts = [
  ["an abort", (_g: string) => abortAllDurableObjects()],
  ["an eviction", (g: string) => evictDurableObject(stub(g))],
] as const;

const archivedOf = async (g: string, topic?: string): Promise<any[]> => {
  const res = await call(
    "GET",
    `/v1/groups/${g}/share/archived${topic ? `?topic=${encodeURIComponent(topic)}` : ""}`,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.ranges;
};
const eventsOf = async (g: string, type?: string): Promise<any[]> => {
  const res = await call("GET", `/v1/groups/${g}/events?limit=1000`);
  expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
  return type ? res.body.events.filter((e: any) => e.type === type) : res.body.events;
};
const lagSamples = async (g: string): Promise<any[]> => {
  const res = await call("GET", `/v1/groups/${g}/lag/history`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.samples;
};
const acknowledgeAs = (g: string, memberId: string, acknowledgements: unknown[]) =>
  call("POST", `/v1/groups/${g}/share/acknowledge`, { memberId, acknowledgements });
const errorsOf = (res: Reply) => {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.acknowledgements.map((x: any) => x.error?.code ?? null);
};

/** The outside view of what every member was told: accepted and archived offsets, SPSO per partition. */
class Ledger {
  accepted = new Set<string>();
  delivered = new Map<string, number>();
  spso = new Map<string, number>();
  /** Records handed out; none may be an offset an earlier 200 accepted. */
  handed(records: any[]): void {
    for (const o of expand(records)) {
      expect(this.accepted.has(o), `accepted offset ${o} handed out again`).toBe(false);
      this.delivered.set(o, (this.delivered.get(o) ?? 0) + 1);
    }
  }
  /** The entries of a 200 acknowledgement whose error is null. */
  settled(entries: any[], res: Reply): void {
    if (res.status !== 200) return;
    entries.forEach((e, i) => {
      if (e.type === "accept" && res.body.acknowledgements[i].error === null)
        for (const o of expand([e])) {
          expect(this.accepted.has(o), `${o} accepted twice`).toBe(false);
          this.accepted.add(o);
        }
    });
  }
  /** Describe's SPSO of every partition, which never moves back (no redrive here). */
  async checkSpso(g: string): Promise<void> {
    const d = await call("GET", `/v1/groups/${g}`);
    expect(d.status, JSON.stringify(d.body)).toBe(200);
    for (const p of d.body.partitions ?? []) {
      const key = `${p.topic}-${p.partition}`;
      expect(p.startOffset, `SPSO of ${key}`).toBeGreaterThanOrEqual(this.spso.get(key) ?? 0);
      this.spso.set(key, p.startOffset);
      // Every accepted offset below the log end at or past SPSO counts as acknowledged in flight.
      const above = [...this.accepted].filter((o) => {
        const [k, off] = o.split(":");
        return k === key && Number(off) >= p.startOffset;
      }).length;
      expect(p.acknowledged, `acknowledged of ${key}`).toBeGreaterThanOrEqual(above);
    }
    // OffsetFetch lists SPSO as `offset`, and the lag view agrees with describe's lag.
    const o = await call("GET", `/v1/groups/${g}/offsets`);
    const l = await call("GET", `/v1/groups/${g}/lag`);
    expect([o.status, l.status]).toEqual([200, 200]);
    const described = (d.body.partitions ?? []).map((p: any) => [p.topic, p.partition, p.startOffset]);
    expect(o.body.offsets.map((x: any) => [x.topic, x.partition, x.offset])).toEqual(described);
    const lagSum = (d.body.partitions ?? []).reduce((n: number, p: any) => n + (p.lag ?? 0), 0);
    expect(l.body.totalLag, "lag view vs describe").toBe(lagSum);
  }
}

/** Heartbeats `m` every 500 ms until stopped, so waits on locks do not end its session. */
function keepAlive(m: Member): { stop: () => Promise<void> } {
  let on = true;
  const loop = (async () => {
    while (on) {
      await m.beat();
      await sleep(500);
    }
  })();
  return {
    stop: async () => {
      on = false;
      await loop;
    },
  };
}

/** A member that holds `count` fresh offsets of t-0 and has accepted a first batch (row and sample exist). */
async function steady(g: string, id = "a", logEnd = 1_000, topics: Record<string, number> = { t: 1 }) {
  const m = new Member(g, topics, id);
  await m.join();
  const first = await m.acquire({
    maxRecords: 3,
    partitions: [{ topic: "t", partition: 0, logEndOffset: logEnd }],
  });
  expect(expand(first.body.records)).toEqual(["t-0:0", "t-0:1", "t-0:2"]);
  const second = await m.acquire({ maxRecords: 3, acknowledgements: [r(0, 2, "accept")] });
  expect(errorsOf(second)).toEqual([null]);
  return { m, held: second.body.records as any[] };
}

describe("accepts answered 200 survive a restart", () => {
  for (const [name, restart] of restarts) {
    it(`piggybacked accepts, one restart per round (${name}): nothing accepted comes back, SPSO follows`, async () => {
      const g = freshGroup("sole-rounds");
      const ledger = new Ledger();
      const { m, held: first } = await steady(g);
      ledger.accepted = new Set(expand([{ topic: "t", partition: 0, firstOffset: 0, lastOffset: 2 }]));
      let held: any[] = [...first, ...(await m.acquire({ maxRecords: 1 })).body.records];
      expect(expand(held)).toEqual(["t-0:3", "t-0:4", "t-0:5", "t-0:6"]);
      ledger.handed(held);
      for (let round = 0; round < 6; round++) {
        const entries = held.map((x) => r(x.firstOffset, x.lastOffset, "accept"));
        const res = await m.acquire({ maxRecords: 4, acknowledgements: entries });
        expect(errorsOf(res)).toEqual(entries.map(() => null));
        ledger.settled(entries, res);
        ledger.handed(res.body.records);
        await restart(g);
        await ledger.checkSpso(g);
        // The new batch's locks died with the object: the member only knows they came back.
        const again = await m.acquire({ maxRecords: 4 });
        ledger.handed(again.body.records);
        held = again.body.records;
        expect(expand(held)).toEqual(expand(res.body.records));
      }
      expect(await part(g)).toMatchObject({ startOffset: 3 + 6 * 4, acknowledged: 0 });
    });
  }

  it("acknowledges racing an abort or an eviction: every 200 accept stays accepted, also after a second restart", async () => {
    const stats = { ok: 0, unavailable: 0, appliedAnyway: 0 };
    for (const [delay, kind] of [
      [0, "abort"],
      [1, "abort"],
      [3, "abort"],
      [0, "evict"],
      [1, "evict"],
      [3, "evict"],
    ] as const) {
      const g = freshGroup("sole-race");
      const ledger = new Ledger();
      const { m } = await steady(g, "a", 33);
      ledger.accepted = new Set(["t-0:0", "t-0:1", "t-0:2"]);
      const got = await m.acquire({ maxRecords: 30 });
      ledger.handed(got.body.records);
      const entries = Array.from({ length: 30 }, (_, i) => r(3 + i, 3 + i, "accept"));
      // An accept answered 503 by the abort is in doubt (the crash may follow the write): it may be
      // redelivered or not; one answered 200 must not be.
      const inDoubt = new Set<string>();
      const racing = entries.map((e) =>
        m.ack([e]).then((res) => {
          if (res.status !== 503) expect(res.status, JSON.stringify(res.body)).toBe(200);
          else inDoubt.add(`t-0:${e.firstOffset}`);
          ledger.settled([e], res);
        }),
      );
      if (delay) await sleep(delay);
      await (kind === "abort" ? abortAllDurableObjects() : evictDurableObject(stub(g)));
      await Promise.all(racing);
      await ledger.checkSpso(g);
      await evictDurableObject(stub(g));
      await ledger.checkSpso(g);
      const back = await m.acquire({ maxRecords: 100 });
      ledger.handed(back.body.records);
      const returned = new Set(expand(back.body.records));
      const lost = expand([{ topic: "t", partition: 0, firstOffset: 0, lastOffset: 32 }]).filter(
        (o) => !returned.has(o) && !ledger.accepted.has(o) && !inDoubt.has(o),
      );
      expect(lost, "offsets neither accepted, in doubt nor redelivered").toEqual([]);
      stats.ok += ledger.accepted.size - 3;
      stats.unavailable += inDoubt.size;
      stats.appliedAnyway += [...inDoubt].filter((o) => !returned.has(o)).length;
    }
    console.log(`race: ${JSON.stringify(stats)}`);
  });
});

describe("one partition's acknowledgement that also archives or moves SPSO", () => {
  for (const [name, restart] of restarts) {
    it(`a steady reject is archived, listed and recorded, and stays so after ${name}`, async () => {
      const g = freshGroup("sole-rej");
      const { m, held } = await steady(g);
      expect(expand(held)).toEqual(["t-0:3", "t-0:4", "t-0:5"]);
      const res = await m.ack([r(3, 3, "accept"), r(4, 4, "reject"), r(5, 5, "accept")]);
      expect(errorsOf(res)).toEqual([null, null, null]);
      const told = {
        listed: (await archivedOf(g)).map(({ archivedAt: _, ...x }) => x),
        events: await eventsOf(g, "share_archived"),
        part: await part(g),
      };
      expect(told.listed).toEqual([
        { topic: "t", partition: 0, firstOffset: 4, lastOffset: 4, deliveryCount: 1, reason: "rejected" },
      ]);
      expect(told.events.map((e) => e.detail)).toEqual([
        { topic: "t", partition: 0, firstOffset: 4, lastOffset: 4, reason: "rejected" },
      ]);
      expect(told.part).toMatchObject({ startOffset: 6, archived: 0, acknowledged: 0 });
      await restart(g);
      expect((await archivedOf(g)).map(({ archivedAt: _, ...x }) => x)).toEqual(told.listed);
      expect(await eventsOf(g, "share_archived")).toEqual(told.events);
      expect(await part(g)).toEqual(told.part);
      await m.beat();
      expect(expand((await m.acquire({ maxRecords: 3 })).body.records)).toEqual(["t-0:6", "t-0:7", "t-0:8"]);
    });

    it(`a release at the delivery limit archives it durably (${name}), with SPSO across it`, async () => {
      const g = freshGroup("sole-lim");
      const { m, held } = await steady(g);
      // 3 accepted later; 4 circulates to the limit; 5 is accepted first so SPSO must jump 3 → 6.
      expect(expand(held)).toEqual(["t-0:3", "t-0:4", "t-0:5"]);
      expect(errorsOf(await m.ack([r(5, 5, "accept")]))).toEqual([null]);
      let count = 1;
      for (; count < DELIVERY_LIMIT; count++) {
        const res = await m.acquire({ maxRecords: 1, acknowledgements: [r(4, 4, "release")] });
        expect(errorsOf(res)).toEqual([null]);
        expect(res.body.records).toEqual([
          { topic: "t", partition: 0, firstOffset: 4, lastOffset: 4, deliveryCount: count + 1 },
        ]);
      }
      // One acknowledge of one partition: release 4 at its limit (archive) and accept 3 (SPSO 3 → 6).
      const res = await m.ack([r(4, 4, "release"), r(3, 3, "accept")]);
      expect(errorsOf(res)).toEqual([null, null]);
      expect(await part(g)).toMatchObject({ startOffset: 6, acquired: 0 });
      const listed = (await archivedOf(g)).map(({ archivedAt: _, ...x }) => x);
      expect(listed).toEqual([
        {
          topic: "t",
          partition: 0,
          firstOffset: 4,
          lastOffset: 4,
          deliveryCount: DELIVERY_LIMIT,
          reason: "delivery_limit",
        },
      ]);
      expect((await eventsOf(g, "share_archived")).map((e) => e.detail)).toEqual([
        { topic: "t", partition: 0, firstOffset: 4, lastOffset: 4, reason: "delivery_limit" },
      ]);
      await restart(g);
      expect(await part(g)).toMatchObject({ startOffset: 6, acquired: 0 });
      expect((await archivedOf(g)).map(({ archivedAt: _, ...x }) => x)).toEqual(listed);
      expect(await eventsOf(g, "share_archived")).toHaveLength(1);
      await m.beat();
      expect(expand((await m.acquire({ maxRecords: 1 })).body.records)).toEqual(["t-0:6"]);
    });
  }

  it("a steady acquire carrying a reject, then one carrying a release at the limit: archived, listed, recorded, durable", async () => {
    const g = freshGroup("sole-piggy-arch");
    const { m, held } = await steady(g, "a", 9);
    expect(expand(held)).toEqual(["t-0:3", "t-0:4", "t-0:5"]);
    // Reject 3 and accept 4-5 in one steady acquire; 6-8 come next.
    let res = await m.acquire({ maxRecords: 3, acknowledgements: [r(3, 3, "reject"), r(4, 5, "accept")] });
    expect(errorsOf(res)).toEqual([null, null]);
    expect(expand(res.body.records)).toEqual(["t-0:6", "t-0:7", "t-0:8"]);
    // 6 circulates to the limit by piggybacked releases, 7-8 accepted on the way.
    res = await m.acquire({ maxRecords: 3, acknowledgements: [r(6, 6, "release"), r(7, 8, "accept")] });
    for (let count = 2; count <= DELIVERY_LIMIT; count++) {
      expect(res.body.records).toEqual([
        { topic: "t", partition: 0, firstOffset: 6, lastOffset: 6, deliveryCount: count },
      ]);
      res = await m.acquire({ maxRecords: 3, acknowledgements: [r(6, 6, "release")] });
      expect(errorsOf(res)).toEqual([null]);
    }
    expect(res.body.records).toEqual([]);
    const listed = (await archivedOf(g)).map(({ archivedAt: _, ...x }) => [
      x.firstOffset,
      x.reason,
      x.deliveryCount,
    ]);
    expect(listed).toEqual([
      [3, "rejected", 1],
      [6, "delivery_limit", DELIVERY_LIMIT],
    ]);
    const events = (await eventsOf(g, "share_archived")).map((e) => [e.detail.firstOffset, e.detail.reason]);
    expect(events).toEqual([
      [3, "rejected"],
      [6, "delivery_limit"],
    ]);
    expect(await part(g)).toMatchObject({ startOffset: 9, lag: 0 });
    await abortAllDurableObjects();
    expect(await part(g)).toMatchObject({ startOffset: 9, lag: 0 });
    expect(
      (await archivedOf(g)).map(({ archivedAt: _, ...x }) => [x.firstOffset, x.reason, x.deliveryCount]),
    ).toEqual(listed);
    expect((await eventsOf(g, "share_archived")).map((e) => [e.detail.firstOffset, e.detail.reason])).toEqual(
      events,
    );
  });

  it("an accept that closes the gap below many acknowledged ranges moves SPSO across all of them, durably", async () => {
    const g = freshGroup("sole-gap");
    const { m } = await steady(g, "a", 23);
    const got = await m.acquire({ maxRecords: 20 });
    expect(expand(got.body.records)).toHaveLength(17);
    // 4..22 settled entry by entry, mixing accept and reject, with 3 still held: SPSO stays 3.
    const entries = Array.from({ length: 19 }, (_, i) => r(4 + i, 4 + i, i % 4 === 1 ? "reject" : "accept"));
    for (const e of entries) expect(errorsOf(await m.ack([e]))).toEqual([null]);
    expect(await part(g)).toMatchObject({ startOffset: 3, acknowledged: 14, archived: 5, acquired: 1 });
    await abortAllDurableObjects();
    expect(await part(g)).toMatchObject({ startOffset: 3, acknowledged: 14, archived: 5, acquired: 0 });
    await m.beat();
    const three = await m.acquire({ maxRecords: 100 });
    expect(expand(three.body.records)).toEqual(["t-0:3"]);
    expect(errorsOf(await m.ack([r(3, 3, "accept")]))).toEqual([null]);
    expect(await part(g)).toMatchObject({ startOffset: 23, acknowledged: 0, archived: 0, lag: 0 });
    await abortAllDurableObjects();
    expect(await part(g)).toMatchObject({ startOffset: 23, acknowledged: 0, archived: 0, lag: 0 });
    expect((await archivedOf(g)).map((x) => x.firstOffset)).toEqual([5, 9, 13, 17, 21]);
    await m.beat();
    expect((await m.acquire({ maxRecords: 100 })).body.records).toEqual([]);
  });
});

describe("one partition's steady step that also archives by log start or follows a redrive", () => {
  it("an acquire accepting the batch and reporting a logStartOffset above SPSO archives durably", async () => {
    const g = freshGroup("sole-logstart");
    const ledger = new Ledger();
    const { m, held } = await steady(g, "a", 20);
    ledger.accepted = new Set(["t-0:0", "t-0:1", "t-0:2"]);
    expect(expand(held)).toEqual(["t-0:3", "t-0:4", "t-0:5"]);
    // 6 and 7 in flight (delivered once, released), not done.
    const six = await m.acquire({ maxRecords: 2 });
    expect(expand(six.body.records)).toEqual(["t-0:6", "t-0:7"]);
    expect(errorsOf(await m.ack([r(6, 7, "release")]))).toEqual([null]);
    const entries = [r(3, 5, "accept")];
    const res = await m.acquire({
      maxRecords: 3,
      acknowledgements: entries,
      partitions: [{ topic: "t", partition: 0, logEndOffset: 20, logStartOffset: 8 }],
    });
    expect(errorsOf(res)).toEqual([null]);
    ledger.settled(entries, res);
    ledger.handed(res.body.records);
    expect(expand(res.body.records)).toEqual(["t-0:8", "t-0:9", "t-0:10"]);
    const listed = (await archivedOf(g)).map(({ archivedAt: _, ...x }) => x);
    expect(listed).toEqual([
      { topic: "t", partition: 0, firstOffset: 6, lastOffset: 7, deliveryCount: 1, reason: "log_start" },
    ]);
    await ledger.checkSpso(g);
    await abortAllDurableObjects();
    await ledger.checkSpso(g);
    expect(await part(g)).toMatchObject({ startOffset: 8, acquired: 0, lag: 12 });
    expect((await archivedOf(g)).map(({ archivedAt: _, ...x }) => x)).toEqual(listed);
    expect((await eventsOf(g, "share_archived")).map((e) => e.detail)).toEqual([
      { topic: "t", partition: 0, firstOffset: 6, lastOffset: 7, reason: "log_start" },
    ]);
    await m.beat();
    const again = await m.acquire({ maxRecords: 3 });
    ledger.handed(again.body.records);
    expect(expand(again.body.records)).toEqual(["t-0:8", "t-0:9", "t-0:10"]);
  });

  it("after a redrive below SPSO, steady accepts of the redriven offsets move SPSO back over the done ones, durably", async () => {
    const g = freshGroup("sole-redrive");
    const { m } = await steady(g, "a", 12);
    await m.acquire({ maxRecords: 100 });
    // 3..11 settled: 5 and 8 rejected, the rest accepted; SPSO 12.
    const entries = [
      r(3, 4, "accept"),
      r(5, 5, "reject"),
      r(6, 7, "accept"),
      r(8, 8, "reject"),
      r(9, 11, "accept"),
    ];
    expect(errorsOf(await m.ack(entries))).toEqual(entries.map(() => null));
    expect(await part(g)).toMatchObject({ startOffset: 12, lag: 0 });
    expect((await call("POST", `/v1/groups/${g}/share/archived/redrive`, { topic: "t" })).body).toEqual({
      redriven: 2,
    });
    expect(await part(g)).toMatchObject({ startOffset: 5 });
    const got = await m.acquire({ maxRecords: 100 });
    expect(expand(got.body.records)).toEqual(["t-0:5", "t-0:8"]);
    // Accept 8 first (SPSO stays 5), abort, then 5 comes back alone; its accept moves SPSO to 12.
    expect(errorsOf(await m.ack([r(8, 8, "accept")]))).toEqual([null]);
    await abortAllDurableObjects();
    expect(await part(g)).toMatchObject({ startOffset: 5, acquired: 0 });
    await m.beat();
    const five = await m.acquire({ maxRecords: 100 });
    expect(expand(five.body.records)).toEqual(["t-0:5"]);
    expect(errorsOf(await m.ack([r(5, 5, "accept")]))).toEqual([null]);
    expect(await part(g)).toMatchObject({ startOffset: 12, lag: 0 });
    await evictDurableObject(stub(g));
    expect(await part(g)).toMatchObject({ startOffset: 12, lag: 0, acknowledged: 0, archived: 0 });
    await m.beat();
    expect((await m.acquire({ maxRecords: 100 })).body.records).toEqual([]);
    expect(await archivedOf(g)).toEqual([]);
  });
});

describe("a piggybacked accept of one partition in an acquire that changes more", () => {
  it("the acquire first takes from a second partition (its SPSO set by logStartOffset): both survive an abort", async () => {
    const g = freshGroup("sole-second");
    const ledger = new Ledger();
    const m = new Member(g, { t: 2 }, "a");
    await m.join();
    await m.beat();
    const first = await m.acquire({
      maxRecords: 3,
      partitions: [{ topic: "t", partition: 0, logEndOffset: 50 }],
    });
    expect(expand(first.body.records)).toEqual(["t-0:0", "t-0:1", "t-0:2"]);
    ledger.handed(first.body.records);
    // One accept of t-0, and t-1 seen for the first time, its log starting at 5.
    const entries = [r(0, 2, "accept")];
    const res = await m.acquire({
      maxRecords: 6,
      acknowledgements: entries,
      partitions: [{ topic: "t", partition: 1, logStartOffset: 5, logEndOffset: 9 }],
    });
    expect(errorsOf(res)).toEqual([null]);
    ledger.settled(entries, res);
    ledger.handed(res.body.records);
    const handed = expand(res.body.records);
    expect(handed.filter((o) => o.startsWith("t-1:"))).toEqual(["t-1:5", "t-1:6", "t-1:7", "t-1:8"]);
    await ledger.checkSpso(g);
    await abortAllDurableObjects();
    await ledger.checkSpso(g);
    expect(await part(g, "t", 1)).toMatchObject({ startOffset: 5, logEndOffset: 9, acquired: 0 });
    // A later report without the log start must not bring 0-4 of t-1 back.
    await m.beat();
    const again = await m.acquire({
      maxRecords: 100,
      partitions: [{ topic: "t", partition: 1, logEndOffset: 9 }],
    });
    ledger.handed(again.body.records);
    for (const o of expand(again.body.records))
      if (o.startsWith("t-1:")) expect(Number(o.slice(4))).toBeGreaterThanOrEqual(5);
    await ledger.checkSpso(g);
  });

  it("the accept's acquire reports a larger log end and heartbeats changed epochs: describe is the same after an abort", async () => {
    const g = freshGroup("sole-epochs");
    const ledger = new Ledger();
    const a = new Member(g, { t: 2 }, "a");
    await a.join();
    let held = (
      await a.acquire({ maxRecords: 2, partitions: [{ topic: "t", partition: 0, logEndOffset: 10 }] })
    ).body.records;
    ledger.handed(held);
    const b = new Member(g, { t: 2 }, "b");
    await b.join();
    // a learns its new epoch and assignment; then steady piggybacked accepts with a growing log end.
    for (let round = 0; round < 4; round++) {
      await a.beat();
      await b.beat();
      const entries = held.map((x: any) => r(x.firstOffset, x.lastOffset, "accept", x.topic, x.partition));
      const res = await a.acquire({
        maxRecords: 2,
        acknowledgements: entries,
        partitions: [{ topic: "t", partition: 0, logEndOffset: 10 + 10 * round }],
      });
      expect(errorsOf(res).every((c: any) => c === null)).toBe(true);
      ledger.settled(entries, res);
      ledger.handed(res.body.records);
      held = res.body.records;
      const view = async () => {
        const d = (await call("GET", `/v1/groups/${g}`)).body;
        return {
          members: d.members.map((x: any) => [x.memberId, x.memberEpoch, x.assignment]),
          parts: d.partitions.map((p: any) => [p.topic, p.partition, p.startOffset, p.logEndOffset]),
        };
      };
      const before = await view();
      await abortAllDurableObjects();
      expect(await view()).toEqual(before);
      await ledger.checkSpso(g);
      // Both members' epochs as they were told still work.
      expect((await a.beat()).status).toBe(200);
      expect((await b.beat()).status).toBe(200);
      held = (await a.acquire({ maxRecords: 2 })).body.records;
      ledger.handed(held);
    }
    expect(await part(g)).toMatchObject({ logEndOffset: 40 });
    expect(ledger.accepted.size, "a kept t-0 and accepted every batch").toBe(8);
  });
});

describe("acknowledgements and the real alarm", () => {
  it("acks racing the lock expiry by the alarm: a 200 accept is final, a refused one comes back", async () => {
    const g = freshGroup("sole-exp");
    const ledger = new Ledger();
    const { m } = await steady(g, "a", 13);
    const alive = keepAlive(m);
    ledger.accepted = new Set(["t-0:0", "t-0:1", "t-0:2"]);
    const got = await m.acquire({ maxRecords: 10 });
    ledger.handed(got.body.records);
    const start = Date.now();
    // One accept per offset, spread around the lock's end (the alarm decides which side they land on).
    const results = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        await sleep(LOCK_MS - 400 + i * 100 - (Date.now() - start));
        const e = r(3 + i, 3 + i, "accept");
        const res = await m.ack([e]);
        ledger.settled([e], res);
        return errorsOf(res)[0];
      }),
    );
    for (const code of results) expect([null, "INVALID_RECORD_STATE"]).toContain(code);
    await sleep(LOCK_MS);
    await alive.stop();
    await abortAllDurableObjects();
    await ledger.checkSpso(g);
    await m.beat();
    const back = await m.acquire({ maxRecords: 100 });
    ledger.handed(back.body.records);
    expect(expand(back.body.records).length + ledger.accepted.size).toBe(13);
    // Expired by the alarm or by the restart: counted at most once more.
    for (const x of back.body.records) expect([1, 2]).toContain(x.deliveryCount);
  });

  it("an expiry at the limit archived by the alarm, then a steady accept on the same partition: both survive an abort", async () => {
    const g = freshGroup("sole-explim");
    const { m, held } = await steady(g, "a", 6);
    expect(expand(held)).toEqual(["t-0:3", "t-0:4", "t-0:5"]);
    const alive = keepAlive(m);
    // 3 expires DELIVERY_LIMIT times; 4, 5 are released each time (their counts stand).
    for (let count = 2; count <= DELIVERY_LIMIT; count++) {
      expect(errorsOf(await m.ack([r(4, 5, "release")]))).toEqual([null]);
      await expect.poll(async () => (await part(g)).acquired, { timeout: 10_000, interval: 200 }).toBe(0);
      const got = await m.acquire({ maxRecords: 3 });
      expect(got.body.records).toEqual([
        { topic: "t", partition: 0, firstOffset: 3, lastOffset: 5, deliveryCount: count },
      ]);
    }
    // At the last delivery: keep 4, 5 held by renewing, let 3's lock expire by the alarm (archived).
    for (let i = 0; i < 20; i++) {
      expect(errorsOf(await m.ack([r(4, 5, "renew")]))).toEqual([null]);
      if ((await part(g)).startOffset === 4) break;
      await sleep(400);
    }
    // Archived at the limit by the alarm: done, so SPSO moves past it.
    expect(await part(g)).toMatchObject({ startOffset: 4, archived: 0, acquired: 2 });
    expect(errorsOf(await m.ack([r(4, 5, "accept")]))).toEqual([null]);
    await alive.stop();
    expect(await part(g)).toMatchObject({ startOffset: 6, archived: 0, acquired: 0, lag: 0 });
    await abortAllDurableObjects();
    expect(await part(g)).toMatchObject({ startOffset: 6, archived: 0, acquired: 0, lag: 0 });
    expect((await archivedOf(g)).map(({ archivedAt: _, ...x }) => x)).toEqual([
      {
        topic: "t",
        partition: 0,
        firstOffset: 3,
        lastOffset: 3,
        deliveryCount: DELIVERY_LIMIT,
        reason: "delivery_limit",
      },
    ]);
    expect(await eventsOf(g, "share_archived")).toHaveLength(1);
  });
});

describe("two members and membership changes", () => {
  it("two members accepting the same partition concurrently: each 200 stays, a stranger's accept changes nothing", async () => {
    const g = freshGroup("sole-two");
    const ledger = new Ledger();
    const a = new Member(g, { t: 1 }, "a");
    const b = new Member(g, { t: 1 }, "b");
    await a.join();
    await b.join();
    await a.beat();
    const ga = await a.acquire({
      maxRecords: 20,
      partitions: [{ topic: "t", partition: 0, logEndOffset: 40 }],
    });
    const gb = await b.acquire({ maxRecords: 20 });
    ledger.handed(ga.body.records);
    ledger.handed(gb.body.records);
    const mine = (res: Reply) => expand(res.body.records).map((o) => Number(o.split(":")[1]));
    const aOffsets = mine(ga);
    const bOffsets = mine(gb);
    expect(aOffsets.length + bOffsets.length).toBe(40);
    // Each member accepts its own offsets one by one and also tries the other's; all at once.
    const tries = [
      ...aOffsets.flatMap((o) => [
        [a, r(o, o, "accept")],
        [b, r(o, o, "accept")],
      ]),
      ...bOffsets.flatMap((o) => [
        [b, r(o, o, "accept")],
        [a, r(o, o, "accept")],
      ]),
    ] as [Member, any][];
    const codes = await Promise.all(
      tries.map(async ([m, e]) => {
        const res = await m.ack([e]);
        ledger.settled([e], res);
        return [m.memberId, e.firstOffset, errorsOf(res)[0]] as const;
      }),
    );
    for (const [id, offset, code] of codes) {
      const owner = aOffsets.includes(offset) ? "a" : "b";
      expect(code, `${id} accepting ${offset} of ${owner}`).toBe(
        id === owner ? null : "INVALID_RECORD_STATE",
      );
    }
    expect(await part(g)).toMatchObject({ startOffset: 40, acquired: 0, lag: 0 });
    await abortAllDurableObjects();
    await ledger.checkSpso(g);
    expect(await part(g)).toMatchObject({ startOffset: 40, acquired: 0, lag: 0 });
  });

  it("one request mixing held, foreign and unheld entries: each entry all-or-nothing, durably", async () => {
    const g = freshGroup("sole-mix");
    const a = new Member(g, { t: 1 }, "a");
    const b = new Member(g, { t: 1 }, "b");
    await a.join();
    await b.join();
    await a.beat();
    await a.acquire({ maxRecords: 5, partitions: [{ topic: "t", partition: 0, logEndOffset: 12 }] });
    const gb = await b.acquire({ maxRecords: 5 });
    expect(expand(gb.body.records)).toEqual(["t-0:5", "t-0:6", "t-0:7", "t-0:8", "t-0:9"]);
    const res = await a.ack([
      r(0, 1, "accept"),
      r(4, 5, "accept"), // 5 is b's: the whole entry fails, 4 stays a's
      r(2, 2, "reject"),
      r(10, 11, "accept"), // never acquired
      r(3, 3, "release"),
      r(0, 0, "accept"), // already accepted by the first entry
      r(4, 4, "accept"),
    ]);
    expect(errorsOf(res)).toEqual([
      null,
      "INVALID_RECORD_STATE",
      null,
      "INVALID_RECORD_STATE",
      null,
      "INVALID_RECORD_STATE",
      null,
    ]);
    const told = await part(g);
    expect(told).toMatchObject({ startOffset: 3, acquired: 5, available: 1 });
    await abortAllDurableObjects();
    expect(await part(g)).toMatchObject({ startOffset: 3, acquired: 0, acknowledged: 1 });
    expect((await archivedOf(g)).map((x) => [x.firstOffset, x.reason])).toEqual([[2, "rejected"]]);
    await a.beat();
    const back = await a.acquire({ maxRecords: 100 });
    expect(expand(back.body.records).sort()).toEqual(
      expand([{ topic: "t", partition: 0, firstOffset: 3, lastOffset: 3 }])
        .concat(expand([{ topic: "t", partition: 0, firstOffset: 5, lastOffset: 11 }]))
        .sort(),
    );
  });

  it("a leave right after an accept: the accept stays, the released offsets come back uncounted", async () => {
    const g = freshGroup("sole-leave");
    const ledger = new Ledger();
    const { m } = await steady(g, "a", 10);
    ledger.accepted = new Set(["t-0:0", "t-0:1", "t-0:2"]);
    const got = await m.acquire({ maxRecords: 7 });
    ledger.handed(got.body.records);
    const [acked, left] = await Promise.all([m.ack([r(3, 5, "accept")]), m.leave()]);
    expect([200, 409]).toContain(acked.status);
    if (acked.status === 200) ledger.settled([r(3, 5, "accept")], acked);
    expect(left.status, JSON.stringify(left.body)).toBe(200);
    await abortAllDurableObjects();
    await ledger.checkSpso(g);
    const b = new Member(g, { t: 1 }, "b");
    await b.join();
    const back = await b.acquire({ maxRecords: 100 });
    ledger.handed(back.body.records);
    expect(expand(back.body.records).length + ledger.accepted.size).toBe(10);
    // A leave does not count its locks as deliveries.
    for (const x of back.body.records) expect(x.deliveryCount).toBe(1);
  });

  it("a session expiry right after an accept: the accept stays, the locks come back counted", async () => {
    const g = freshGroup("sole-session");
    const { m } = await steady(g, "a", 10);
    await m.acquire({ maxRecords: 7 });
    expect(errorsOf(await m.ack([r(3, 6, "accept")]))).toEqual([null]);
    await sleep(SESSION_MS);
    await expect
      .poll(async () => (await call("GET", `/v1/groups/${g}`)).body.members, {
        timeout: 10_000,
        interval: 200,
      })
      .toEqual([]);
    const b = new Member(g, { t: 1 }, "b");
    await b.join();
    const counted = await b.acquire({ maxRecords: 100 });
    expect(counted.body.records).toEqual([
      { topic: "t", partition: 0, firstOffset: 7, lastOffset: 9, deliveryCount: 2 },
    ]);
    await abortAllDurableObjects();
    expect(await part(g)).toMatchObject({ startOffset: 7, acquired: 0 });
    expect((await eventsOf(g, "member_fenced")).map((e) => [e.memberId, e.detail.reason])).toEqual([
      ["a", "session_timeout"],
    ]);
    await b.beat();
    const back = await b.acquire({ maxRecords: 100 });
    expect(expand(back.body.records)).toEqual(["t-0:7", "t-0:8", "t-0:9"]);
  });
});

describe("long rows and hostile names", () => {
  it("a partition with as many ranges as the in-flight cap allows, near 2^53, under a 249-char topic", async () => {
    const g = freshGroup("sole-long");
    const topic = `${"x".repeat(240)}.__proto_`;
    expect(topic).toHaveLength(249);
    const base = 2 ** 53 - 1 - MAX_IN_FLIGHT - 5;
    const m = new Member(g, { [topic]: 1 }, "a");
    await m.join();
    const got = await m.acquire({
      maxRecords: MAX_IN_FLIGHT,
      partitions: [{ topic, partition: 0, logStartOffset: base, logEndOffset: base + MAX_IN_FLIGHT + 5 }],
    });
    expect(expand(got.body.records)).toHaveLength(MAX_IN_FLIGHT);
    // base stays held (SPSO stays); then offset by offset: accept, reject, release, keep.
    const kinds = ["accept", "reject", "release", "keep"];
    const want = { acknowledged: 0, archived: 0, available: 0, acquired: 1 };
    for (let i = 1; i < MAX_IN_FLIGHT; i++) {
      const kind = kinds[i % 4] as string;
      if (kind === "keep") {
        want.acquired++;
        continue;
      }
      const res = await m.ack([r(base + i, base + i, kind, topic)]);
      expect(errorsOf(res), `${kind} ${i}`).toEqual([null]);
      if (kind === "accept") want.acknowledged++;
      else if (kind === "reject") want.archived++;
      else want.available++;
    }
    const rows = () =>
      inObject(g, (i) =>
        i.ctx.storage.sql
          .exec("SELECT * FROM share_partitions")
          .toArray()
          .map((row: any) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v).length]))),
      );
    console.log("share rows of the long partition", JSON.stringify(await rows()));
    expect(await part(g, topic)).toMatchObject({ startOffset: base, ...want });
    await abortAllDurableObjects();
    // Held ones (base and every 4th) come back as available with count 1.
    expect(await part(g, topic)).toMatchObject({
      startOffset: base,
      acknowledged: want.acknowledged,
      archived: want.archived,
      acquired: 0,
    });
    // Shrinking the row again: accept all that comes back, in one entry each, till SPSO reaches the end.
    await m.beat();
    const accepted = new Set<number>();
    for (let round = 0; round < 10; round++) {
      const next = await m.acquire({ maxRecords: MAX_IN_FLIGHT });
      if (next.body.records.length === 0) break;
      for (const x of next.body.records)
        for (let o = x.firstOffset; o <= x.lastOffset; o++) {
          const k = o - base;
          const settledBefore = k < MAX_IN_FLIGHT && k > 0 && (k % 4 === 0 || k % 4 === 1);
          expect(settledBefore || accepted.has(o), `offset base+${k} handed out again`).toBe(false);
          accepted.add(o);
        }
      const res = await m.ack(
        next.body.records.map((x: any) => r(x.firstOffset, x.lastOffset, "accept", topic)),
      );
      expect(errorsOf(res).every((c: any) => c === null)).toBe(true);
      await abortAllDurableObjects();
      await m.beat();
    }
    expect(await part(g, topic)).toMatchObject({ startOffset: base + MAX_IN_FLIGHT + 5, lag: 0 });
    console.log("share rows after shrinking", JSON.stringify(await rows()));
  });

  it("prototype-key topics, unicode and prototype-key member ids: steady accepts survive restarts, no 5xx", async () => {
    const g = freshGroup("sole-proto");
    const topics = ["__proto__", "constructor", "toString", "hasOwnProperty"];
    const ids = ["__proto__", "constructor", "ünï-🙂-\u200b", "m".repeat(200)];
    const members = ids.map((id) => new Member(g, Object.fromEntries(topics.map((t) => [t, 1])), id));
    for (const m of members) {
      const res = await m.join();
      not5xx(res);
    }
    for (const m of members) not5xx(await m.beat());
    const ledger = new Ledger();
    const held = new Map<Member, any[]>();
    for (const m of members) {
      const res = await m.acquire({
        maxRecords: 6,
        partitions: topics.map((topic) => ({ topic, partition: 0, logEndOffset: 48 })),
      });
      not5xx(res);
      ledger.handed(res.body.records);
      held.set(m, res.body.records);
    }
    for (let round = 0; round < 6; round++) {
      for (const m of members) {
        const entries = held
          .get(m)!
          .map((x: any) => r(x.firstOffset, x.lastOffset, "accept", x.topic, x.partition));
        const res = await m.acquire({ maxRecords: 6, acknowledgements: entries });
        not5xx(res);
        expect(errorsOf(res).every((c: any) => c === null)).toBe(true);
        ledger.settled(entries, res);
        ledger.handed(res.body.records);
        held.set(m, res.body.records);
      }
      await (round % 2 ? abortAllDurableObjects() : evictDurableObject(stub(g)));
      await ledger.checkSpso(g);
      for (const m of members) {
        not5xx(await m.beat());
        const again = await m.acquire({ maxRecords: 6 });
        ledger.handed(again.body.records);
        held.set(m, again.body.records);
      }
    }
    const d = await call("GET", `/v1/groups/${g}`);
    expect(d.body.members.map((x: any) => x.memberId).sort()).toEqual([...ids].sort());
    const lag = (await call("GET", `/v1/groups/${g}/lag`)).status;
    expect(lag).toBe(200);
  });
});

describe("hostile entries next to a good one", () => {
  it("a request with one malformed entry is refused whole: the good accept beside it is not stored", async () => {
    const g = freshGroup("sole-bad");
    const { m, held } = await steady(g);
    expect(expand(held)).toEqual(["t-0:3", "t-0:4", "t-0:5"]);
    const good = r(3, 3, "accept");
    const bad: Record<string, unknown>[] = [
      { ...r(5, 4, "accept") },
      { ...r(4, 4, "accept"), type: "__proto__" },
      { ...r(4, 4, "accept"), type: "constructor" },
      { ...r(4, 4, "accept"), partition: 2 ** 31 },
      { ...r(4, 4, "accept"), firstOffset: 2 ** 53, lastOffset: 2 ** 53 },
      { ...r(4, 4, "accept"), firstOffset: 4.5 },
      { ...r(4, 4, "accept"), topic: "no spaces" },
      { ...r(4, 4, "accept"), topic: "ü" },
      { ...r(4, 4, "accept"), topic: "x".repeat(250) },
      JSON.parse(
        '{"__proto__": {"type": "accept"}, "topic": "t", "partition": 0, "firstOffset": 4, "lastOffset": 4}',
      ),
    ];
    const before = await part(g);
    for (const entry of bad) {
      for (const res of [
        await m.ack([good, entry as any]),
        await m.acquire({ maxRecords: 3, acknowledgements: [good, entry] }),
      ]) {
        not5xx(res);
        expect(res.status, `${JSON.stringify(entry)} → ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body.error.code).toBe("INVALID_REQUEST");
      }
      expect(await part(g)).toEqual(before);
    }
    // Unknown members, prototype keys among them, are refused whole too.
    for (const memberId of ["__proto__", "constructor", "A", "a ", ""]) {
      const res = await acknowledgeAs(g, memberId, [good]);
      not5xx(res);
      expect([400, 409], JSON.stringify(res.body)).toContain(res.status);
    }
    // A body with a "__proto__" key of its own.
    const proto = await call(
      "POST",
      `/v1/groups/${g}/share/acknowledge`,
      `{"memberId":"a","__proto__":{"memberId":"b"},"acknowledgements":[${JSON.stringify(r(4, 4, "renew"))}]}`,
    );
    not5xx(proto);
    expect(await part(g)).toMatchObject({ startOffset: 3, acquired: 3, acknowledged: 0 });
    await abortAllDurableObjects();
    expect(await part(g)).toMatchObject({ startOffset: 3, acquired: 0, acknowledged: 0 });
    await m.beat();
    expect(expand((await m.acquire({ maxRecords: 3 })).body.records)).toEqual(["t-0:3", "t-0:4", "t-0:5"]);
  });
});

describe("a refused one-partition write", () => {
  it("a steady acknowledge that archives and fails answers 503 and changes nothing outside; the retry stores it", async () => {
    const g = freshGroup("sole-503");
    const { m } = await steady(g);
    const view = async () => ({
      part: await part(g),
      archived: await archivedOf(g),
      events: await eventsOf(g),
      samples: await lagSamples(g),
      offsets: (await call("GET", `/v1/groups/${g}/offsets`)).body,
    });
    const before = await view();
    // A real SQLite failure in every statement that writes share state (group_row's CHECK (id = 1)).
    await inObject(g, (instance) => {
      const share = instance.store.share;
      const refuse = () =>
        instance.ctx.storage.sql.exec("INSERT INTO group_row (id, record) VALUES (2, '{}')");
      // The one-statement write is replaced by a refused statement (one statement fails whole); the
      // transactional save writes for real and then fails inside its transaction, when it writes.
      share.writePiece = refuse;
      const save = Object.getPrototypeOf(share).save;
      share.save = (changes: any) => {
        save.call(share, changes);
        const wrote =
          changes.partitions.size + changes.archivedAdded.length + changes.archivedRemoved.length > 0;
        if (wrote) refuse();
      };
    });
    for (const entries of [
      [r(3, 3, "reject")],
      [r(3, 3, "accept")],
      [r(3, 4, "accept"), r(5, 5, "reject")],
    ]) {
      const failed = await m.ack(entries);
      expect(failed.status, JSON.stringify(failed.body)).toBe(503);
      expect(await view()).toEqual(before);
      const piggy = await m.acquire({ maxRecords: 3, acknowledgements: entries });
      expect(piggy.status, JSON.stringify(piggy.body)).toBe(503);
      expect(await view()).toEqual(before);
    }
    await inObject(g, (instance) => {
      delete instance.store.share.writePiece;
      delete instance.store.share.save;
    });
    const ok = await m.ack([r(3, 4, "accept"), r(5, 5, "reject")]);
    expect(errorsOf(ok)).toEqual([null, null]);
    await abortAllDurableObjects();
    expect(await part(g)).toMatchObject({ startOffset: 6 });
    expect((await archivedOf(g)).map((x) => x.firstOffset)).toEqual([5]);
  });
});

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

  // A parked acquire applies (and stores) its acknowledgements before it waits. If it then fails as a
  // whole, the member is told its accepts failed although they are stored: what it was told and
  // what the coordinator did disagree (API.md §7: the request fails only as a whole; a 503 changes
  // nothing). Either answer is consistent: 200 with the accept's result, or a failure with nothing stored.
  it("a parked acquire carrying an accept, then an abort: not answered 503 once the accept is stored", async () => {
    const g = freshGroup("sole-park-abort");
    const { m } = await steady(g, "a", 6);
    const alive = keepAlive(m);
    const parked = m.acquire({ maxRecords: 3, maxWaitMs: 2_000, acknowledgements: [r(3, 5, "accept")] });
    await sleep(300);
    await abortAllDurableObjects();
    const res = await parked;
    await alive.stop();
    const stored = (await part(g)).startOffset === 6;
    const told = res.status === 200 && res.body.acknowledgements[0].error === null;
    expect(
      told,
      `answered ${res.status} ${JSON.stringify(res.body)}, the accept ${stored ? "is" : "is not"} stored`,
    ).toBe(stored);
  });

  it("a parked acquire carrying an accept whose member's session ends while it waits: not a bare 409 once stored", async () => {
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
