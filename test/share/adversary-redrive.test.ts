/**
 * Adversarial: redrive, SPSO, the in-flight cap and logStartOffset archiving, with hostile offsets
 * near 2^53, and across evictions and aborts.
 */

import { abortAllDurableObjects, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, freshGroup } from "../integration/helpers";
import { expand, Member, not5xx, part, r } from "./adversary-lib";
import { MAX_IN_FLIGHT, redrive, stub } from "./share-helpers";

const MAX = 2 ** 53 - 1;
const arch = async (g: string) => (await call("GET", `/v1/groups/${g}/share/archived`)).body.ranges;

describe("redrive", () => {
  it("never makes an acknowledged offset deliverable again, also after redriving twice", async () => {
    const g = freshGroup("adv-rd");
    const a = new Member(g, { t: 1 }, "a");
    await a.join();
    await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 8 }] });
    await a.ack([r(0, 0, "reject"), r(1, 4, "accept"), r(5, 5, "reject"), r(6, 7, "accept")]);
    expect(await part(g)).toMatchObject({ startOffset: 8 });
    const rd = await redrive(g, { topic: "t", partition: 0, firstOffset: 0, lastOffset: 7 });
    expect(rd.body).toEqual({ redriven: 2 });
    expect(await part(g)).toMatchObject({ startOffset: 0 });
    const got = await a.acquire();
    expect(expand(got.body.records)).toEqual(["t-0:0", "t-0:5"]);
    await a.ack([r(0, 0, "accept"), r(5, 5, "accept")]);
    expect(await part(g)).toMatchObject({ startOffset: 8 });
    // Both are acknowledged now: a second redrive finds nothing archived.
    const again = await redrive(g, { topic: "t" });
    expect(again.body).toEqual({ redriven: 0 });
    expect(await part(g)).toMatchObject({ startOffset: 8 });
    expect((await a.acquire()).body.records).toEqual([]);
    for (const restart of [() => evictDurableObject(stub(g)), () => abortAllDurableObjects()]) {
      await restart();
      expect((await redrive(g, { topic: "t" })).body).toEqual({ redriven: 0 });
      await a.beat();
      expect((await a.acquire()).body.records).toEqual([]);
      expect(await part(g)).toMatchObject({ startOffset: 8 });
    }
  });

  it("redrive of offsets a member holds does not hand them to another", async () => {
    const g = freshGroup("adv-rdh");
    const a = new Member(g, { t: 1 }, "a");
    const b = new Member(g, { t: 1 }, "b");
    await a.join();
    await b.join();
    await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 3 }] });
    await a.ack([r(0, 0, "reject")]);
    // a redrives 0, a takes 0 again, then another redrive while a holds it.
    expect((await redrive(g, { topic: "t" })).body).toEqual({ redriven: 1 });
    const a2 = await a.acquire();
    expect(expand(a2.body.records)).toEqual(["t-0:0"]);
    expect((await redrive(g, { topic: "t" })).body).toEqual({ redriven: 0 });
    expect((await b.acquire()).body.records).toEqual([]);
    expect((await a.ack([r(0, 2, "accept")])).body.acknowledgements[0].error).toBeNull();
  });

  it("SPSO does not move backwards without a redrive, across restarts", async () => {
    const g = freshGroup("adv-spso");
    const a = new Member(g, { t: 1 }, "a");
    await a.join();
    await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 50 }], maxRecords: 50 });
    await a.ack([r(0, 9, "accept"), r(10, 19, "reject")]);
    expect(await part(g)).toMatchObject({ startOffset: 20 });
    for (const restart of [() => evictDurableObject(stub(g)), () => abortAllDurableObjects()]) {
      await restart();
      expect(await part(g)).toMatchObject({ startOffset: 20 });
      const offs = await call("GET", `/v1/groups/${g}/offsets`);
      expect(offs.body.offsets).toEqual([expect.objectContaining({ topic: "t", partition: 0, offset: 20 })]);
    }
    // A smaller reported logStartOffset does nothing.
    await a.beat();
    const got = await a.acquire({
      partitions: [{ topic: "t", partition: 0, logEndOffset: 50, logStartOffset: 3 }],
    });
    expect(expand(got.body.records)[0]).toBe("t-0:20");
    expect(await part(g)).toMatchObject({ startOffset: 20 });
  });
});

describe("in-flight cap", () => {
  it("holds at SHARE_PARTITION_MAX_RECORD_LOCKS whatever the states and the order", async () => {
    const g = freshGroup("adv-cap");
    const a = new Member(g, { t: 1 }, "a");
    await a.join();
    const first = await a.acquire({
      maxRecords: 10_000,
      partitions: [{ topic: "t", partition: 0, logEndOffset: 100_000 }],
    });
    expect(expand(first.body.records)).toHaveLength(MAX_IN_FLIGHT);
    // Settle everything but offset 0: SPSO stays, nothing new.
    await a.ack([r(1, 49, "accept"), r(50, 99, "reject")]);
    expect((await a.acquire({ maxRecords: 10_000 })).body.records).toEqual([]);
    expect(await part(g)).toMatchObject({ startOffset: 0 });
    await a.ack([r(0, 0, "release")]);
    const again = await a.acquire({ maxRecords: 10_000 });
    expect(expand(again.body.records)).toEqual(["t-0:0"]);
    await a.ack([r(0, 0, "accept")]);
    expect(await part(g)).toMatchObject({ startOffset: 100 });
    const next = await a.acquire({ maxRecords: 10_000 });
    expect(next.body.records).toEqual([
      expect.objectContaining({ firstOffset: 100, lastOffset: 199, deliveryCount: 1 }),
    ]);
  });

  it("after a redrive below SPSO, no new offsets until in flight falls under the cap again", async () => {
    const g = freshGroup("adv-caprd");
    const a = new Member(g, { t: 1 }, "a");
    await a.join();
    await a.acquire({ maxRecords: 10_000, partitions: [{ topic: "t", partition: 0, logEndOffset: 1000 }] });
    await a.ack([r(0, 0, "reject"), r(1, 99, "accept")]);
    await a.acquire({ maxRecords: 10_000 });
    await a.ack([r(100, 199, "accept")]);
    expect(await part(g)).toMatchObject({ startOffset: 200 });
    expect((await redrive(g, { topic: "t" })).body).toEqual({ redriven: 1 });
    expect(await part(g)).toMatchObject({ startOffset: 0 });
    // 0 .. 199 lie between SPSO and SPEO: 200 in flight, over the cap. Only the redriven offset comes.
    const got = await a.acquire({ maxRecords: 10_000 });
    expect(expand(got.body.records)).toEqual(["t-0:0"]);
    const p = await part(g);
    expect(p.endOffset - p.startOffset).toBeLessThanOrEqual(200);
    await a.ack([r(0, 0, "accept")]);
    expect(await part(g)).toMatchObject({ startOffset: 200 });
    const more = await a.acquire({ maxRecords: 10_000 });
    expect(more.body.records).toEqual([expect.objectContaining({ firstOffset: 200, lastOffset: 299 })]);
  });
});

describe("hostile offsets", () => {
  it("a log near 2^53: offsets at or past the log end are never handed out", async () => {
    const g = freshGroup("adv-big");
    const a = new Member(g, { t: 1 }, "a");
    await a.join();
    const res = await a.acquire({
      maxRecords: 10_000,
      partitions: [{ topic: "t", partition: 0, logStartOffset: MAX - 5, logEndOffset: MAX }],
    });
    not5xx(res);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const offs = res.body.records.flatMap((x: any) => [x.firstOffset, x.lastOffset]);
    for (const o of offs) expect(o).toBeLessThan(MAX);
    expect(expand(res.body.records)).toHaveLength(5);
    not5xx(
      await a.ack(res.body.records.map((x: any) => ({ ...x, deliveryCount: undefined, type: "accept" }))),
    );
    const p = await part(g);
    expect(p.startOffset).toBe(MAX);
    expect((await a.acquire({ maxRecords: 10_000 })).body.records).toEqual([]);
  });

  it("a logStartOffset archiving a 2^53-wide range, its listing and its redrive", async () => {
    const g = freshGroup("adv-wide");
    const a = new Member(g, { t: 1 }, "a");
    await a.join();
    const first = await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 10 }] });
    expect(expand(first.body.records)).toHaveLength(10);
    // a keeps 0-9 locked; the log's start jumps to the top.
    const jump = await a.acquire({
      partitions: [{ topic: "t", partition: 0, logStartOffset: MAX - 1, logEndOffset: MAX }],
    });
    not5xx(jump);
    expect(jump.status, JSON.stringify(jump.body)).toBe(200);
    for (const x of jump.body.records) expect(x.lastOffset).toBeLessThan(MAX);
    const ranges = await arch(g);
    const archivedOffsets = ranges.reduce((n: number, x: any) => n + x.lastOffset - x.firstOffset + 1, 0);
    expect(ranges.every((x: any) => x.reason === "log_start")).toBe(true);
    // What a held is below the log start now; its acknowledgements of them must not resurrect them.
    const late = await a.ack([r(0, 9, "release")]);
    not5xx(late);
    const p = await part(g);
    not5xx(await call("GET", `/v1/groups/${g}/lag`));
    expect(p.startOffset).toBeGreaterThanOrEqual(MAX - 1);
    const rd = await redrive(g, { topic: "t" });
    not5xx(rd);
    expect(rd.status, JSON.stringify(rd.body)).toBe(200);
    const after = await a.acquire({ maxRecords: 10_000 });
    not5xx(after);
    for (const x of after.body.records) expect(x.lastOffset).toBeLessThan(MAX);
    not5xx(await call("GET", `/v1/groups/${g}`));
    not5xx(await call("GET", `/v1/groups/${g}/share/archived`));
    expect(archivedOffsets).toBeGreaterThan(0);
  });

  it("offsets, ranges and partitions at their bounds in every share route", async () => {
    const g = freshGroup("adv-bnd");
    const a = new Member(g, { t: 1 }, "a");
    await a.join();
    const cases: [string, string, unknown][] = [
      [
        "POST",
        "acquire",
        { memberId: a.memberId, partitions: [{ topic: "t", partition: 2 ** 31 - 1, logEndOffset: MAX }] },
      ],
      ["POST", "acquire", { memberId: a.memberId, maxRecords: 10_000, maxWaitMs: 0 }],
      [
        "POST",
        "acknowledge",
        { memberId: a.memberId, acknowledgements: [r(0, MAX, "reject", "t", 2 ** 31 - 1)] },
      ],
      ["POST", "acknowledge", { memberId: a.memberId, acknowledgements: [r(MAX, MAX, "renew")] }],
      ["POST", "archived/redrive", { topic: "t", partition: 2 ** 31 - 1, firstOffset: 0, lastOffset: MAX }],
      ["POST", "archived/redrive", { topic: "t", firstOffset: MAX, lastOffset: MAX }],
      ["GET", "archived?limit=10000", undefined],
      ["GET", "archived?limit=0", undefined],
      ["GET", "archived?limit=99999999999", undefined],
      ["GET", "archived?cursor=%00%ff", undefined],
      ["GET", "archived?cursor=" + "x".repeat(1000), undefined],
      ["GET", "archived?topic=__proto__", undefined],
    ];
    for (const [m, route, body] of cases) {
      const res = await call(m, `/v1/groups/${g}/share/${route}`, body);
      not5xx(res);
    }
  });
});
