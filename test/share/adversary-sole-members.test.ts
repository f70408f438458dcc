/**
 * Adversarial: one-partition acknowledgements against the real alarm (locks expiring under them), two
 * members and membership changes, long rows and hostile names, malformed entries beside a good one,
 * and a refused write (API.md §7): each 200 stays, each refusal changes nothing, no 5xx but 503.
 */

import { abortAllDurableObjects, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, freshGroup, type Reply } from "../integration/helpers";
import { expand, Member, not5xx, part, r } from "./adversary-lib";
import {
  acknowledgeAs,
  archivedOf,
  errorsOf,
  eventsOf,
  inObject,
  keepAlive,
  Ledger,
  lagSamples,
  steady,
} from "./adversary-sole-lib";
import { DELIVERY_LIMIT, LOCK_MS, MAX_IN_FLIGHT, SESSION_MS, sleep, stub } from "./share-helpers";

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
