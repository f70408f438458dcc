/**
 * Adversarial: acknowledgements of one share-partition (an acknowledge, or an acquire with the previous
 * batch's accept piggybacked) across aborts and evictions (API.md §7): accepts answered 200 are never
 * delivered again, and what an acknowledgement archives or how far it moves SPSO survives a restart.
 * Members are black boxes that know only what their responses told them.
 */

import { abortAllDurableObjects, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, freshGroup } from "../integration/helpers";
import { expand, Member, part, r } from "./adversary-lib";
import { archivedOf, errorsOf, eventsOf, Ledger, restarts, steady } from "./adversary-sole-lib";
import { DELIVERY_LIMIT, sleep, stub } from "./share-helpers";

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
