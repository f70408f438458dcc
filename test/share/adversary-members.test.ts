/**
 * Adversarial: members as black boxes — acquisition only from assigned partitions (revocations at
 * once), removed and left members, long polls, prototype-key and odd names, cross-protocol calls.
 */

import { describe, expect, it } from "vitest";
import { call, commit, freshGroup } from "../integration/helpers";
import { expand, Member, not5xx, part, r } from "./adversary-lib";
import { acquire, LOCK_MS, SESSION_MS, shareHeartbeat, sleep } from "./share-helpers";

const assignedSet = (m: Member) =>
  new Set(m.assigned.flatMap((a) => a.partitions.map((p) => `${a.topic}-${p}`)));

describe("assignment", () => {
  it("a member not yet told of a revocation cannot acquire from the revoked partition", async () => {
    const g = freshGroup("adv-rev");
    const a = new Member(g, { t: 2 }, "a");
    await a.join();
    expect(assignedSet(a)).toEqual(new Set(["t-0", "t-1"]));
    const b = new Member(g, { t: 2 }, "b");
    await b.join();
    // With 2 members and 2 partitions each partition has 1 member: b's partitions are no longer a's.
    const bParts = assignedSet(b);
    expect(bParts.size).toBe(1);
    // a, not having heartbeated, still believes it owns both.
    const got = await a.acquire({
      partitions: [
        { topic: "t", partition: 0, logEndOffset: 5 },
        { topic: "t", partition: 1, logEndOffset: 5 },
      ],
    });
    for (const x of got.body.records) expect(bParts.has(`${x.topic}-${x.partition}`)).toBe(false);
    const bGot = await b.acquire();
    const aOffs = new Set(expand(got.body.records));
    for (const o of expand(bGot.body.records)) expect(aOffs.has(o)).toBe(false);
    await a.beat();
    await b.beat();
    expect([...assignedSet(a), ...assignedSet(b)].sort()).toEqual(["t-0", "t-1"]);
  });

  it("a member acquires only from the topics it subscribes to, whatever it reports", async () => {
    const g = freshGroup("adv-sub");
    const a = new Member(g, { t: 1 }, "a");
    const b = new Member(g, { u: 1 }, "b");
    await a.join();
    await b.join();
    const got = await a.acquire({
      partitions: [
        { topic: "u", partition: 0, logEndOffset: 5 },
        { topic: "t", partition: 7, logEndOffset: 5 },
      ],
    });
    expect(got.body.records).toEqual([]);
    const bGot = await b.acquire({ partitions: [{ topic: "u", partition: 0, logEndOffset: 5 }] });
    expect(expand(bGot.body.records)).toHaveLength(5);
  });

  it("many members on one partition: no offset is ever held by two at once", async () => {
    const g = freshGroup("adv-many");
    const ms = Array.from({ length: 6 }, (_, i) => new Member(g, { t: 2 }, `m${i}`));
    for (const m of ms) await m.join();
    for (const m of ms) await m.beat();
    const holder = new Map<string, { who: string; until: number }>();
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(
        ms.map((m) =>
          m.acquire({
            maxRecords: 7,
            partitions: [
              { topic: "t", partition: 0, logEndOffset: 40 + round * 10 },
              { topic: "t", partition: 1, logEndOffset: 40 + round * 10 },
            ],
          }),
        ),
      );
      const now = Date.now();
      results.forEach((res, i) => {
        expect(res.status).toBe(200);
        for (const o of expand(res.body.records)) {
          const h = holder.get(o);
          if (h && h.until > now - 200)
            throw new Error(`${o} handed to ${ms[i]!.memberId} while ${h.who} holds it`);
          holder.set(o, { who: ms[i]!.memberId, until: now + LOCK_MS });
        }
      });
      // Each member releases half of what it holds, accepts the rest.
      await Promise.all(
        results.map((res, i) => {
          const recs = res.body.records;
          if (recs.length === 0) return null;
          const entries = recs.map((x: any, k: number) =>
            r(x.firstOffset, x.lastOffset, k % 2 ? "release" : "accept", x.topic, x.partition),
          );
          return ms[i]!.ack(entries).then((ackRes) => {
            ackRes.body.acknowledgements.forEach((e: any, k: number) => {
              expect(e.error).toBeNull();
              for (const o of expand([recs[k]])) holder.delete(o);
            });
          });
        }),
      );
    }
  });
});

describe("removed and left members", () => {
  it("a member removed by session timeout cannot acknowledge, even after rejoining with its old id", async () => {
    const g = freshGroup("adv-rm");
    const a = new Member(g, { t: 1 }, "a");
    const b = new Member(g, { t: 1 }, "b");
    await a.join();
    await b.join();
    const held = await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 3 }] });
    expect(expand(held.body.records)).toHaveLength(3);
    // a goes silent; b keeps its session and takes nothing (all locked, then released by expiry of a).
    const deadline = Date.now() + SESSION_MS + 2500;
    let bGot: any[] = [];
    while (Date.now() < deadline) {
      await sleep(400);
      await b.beat();
    }
    const gone = await a.ack([r(0, 0, "accept")]);
    expect(gone.status).toBe(409);
    expect(gone.body.error.code).toBe("UNKNOWN_MEMBER_ID");
    bGot = (await b.acquire()).body.records;
    await a.join();
    const late = await a.ack([r(0, 2, "accept")]);
    expect(late.body.acknowledgements[0].error?.code).toBe("INVALID_RECORD_STATE");
    expect(expand(bGot).length).toBe(3);
    // b accepts them: exactly once.
    expect(
      (await b.ack(bGot.map((x: any) => r(x.firstOffset, x.lastOffset, "accept")))).body.acknowledgements[0]
        .error,
    ).toBeNull();
  });

  it("a member that leaves and rejoins at once with the same id cannot acknowledge its old locks", async () => {
    const g = freshGroup("adv-lv");
    const a = new Member(g, { t: 1 }, "a");
    await a.join();
    await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 3 }] });
    expect((await a.leave()).status).toBe(200);
    await a.join();
    const res = await a.ack([r(0, 2, "accept")]);
    expect(res.body.acknowledgements[0].error?.code).toBe("INVALID_RECORD_STATE");
    const again = await a.acquire();
    expect(again.body.records).toEqual([
      expect.objectContaining({ firstOffset: 0, lastOffset: 2, deliveryCount: 1 }),
    ]);
  });

  it("a member that rejoins with epoch 0 while still a member: its old locks go to one member only", async () => {
    const g = freshGroup("adv-rj");
    const a = new Member(g, { t: 1 }, "a");
    const b = new Member(g, { t: 1 }, "b");
    await a.join();
    await b.join();
    await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 3 }] });
    await a.join(); // a restarted: it remembers nothing of what it held.
    const bGot = await b.acquire();
    // Either the old incarnation's locks are released (b gets them) or they still stand for a; never both.
    const aAck = await a.ack([r(0, 2, "accept")]);
    if (expand(bGot.body.records).length > 0)
      expect(aAck.body.acknowledgements[0].error?.code).toBe("INVALID_RECORD_STATE");
    else expect(aAck.body.acknowledgements[0].error).toBeNull();
  });
});

describe("long polls", () => {
  it("a parked acquire wakes on a release with exactly what was released", async () => {
    const g = freshGroup("adv-lp");
    const a = new Member(g, { t: 1 }, "a");
    const b = new Member(g, { t: 1 }, "b");
    await a.join();
    await b.join();
    await b.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 10 }] });
    const t0 = Date.now();
    const parked = a.acquire({ maxWaitMs: 5000 });
    await sleep(200);
    await b.ack([r(0, 4, "release")]);
    const res = await parked;
    expect(Date.now() - t0).toBeLessThan(1200);
    expect(expand(res.body.records)).toEqual(["t-0:0", "t-0:1", "t-0:2", "t-0:3", "t-0:4"]);
    expect((await b.ack([r(5, 9, "accept")])).body.acknowledgements[0].error).toBeNull();
  });

  it("a parked acquire wakes on a larger log end another member reports", async () => {
    const g = freshGroup("adv-lp2");
    const a = new Member(g, { t: 1 }, "a");
    const b = new Member(g, { t: 1 }, "b");
    await a.join();
    await b.join();
    await b.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 0 }] });
    const t0 = Date.now();
    const parked = a.acquire({ maxWaitMs: 5000, maxRecords: 3 });
    await sleep(200);
    const bGot = await b.acquire({
      maxRecords: 2,
      partitions: [{ topic: "t", partition: 0, logEndOffset: 10 }],
    });
    const res = await parked;
    expect(Date.now() - t0).toBeLessThan(1500);
    const aOffs = expand(res.body.records);
    const bOffs = expand(bGot.body.records);
    expect(aOffs.filter((o) => bOffs.includes(o))).toEqual([]);
    expect(aOffs.length + bOffs.length).toBeGreaterThan(2);
  });

  it("a parked acquire of a member that then leaves does not take records", async () => {
    const g = freshGroup("adv-lp3");
    const a = new Member(g, { t: 1 }, "a");
    const b = new Member(g, { t: 1 }, "b");
    await a.join();
    await b.join();
    await b.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 3 }] });
    const parked = a.acquire({ maxWaitMs: 4000 });
    await sleep(200);
    expect((await a.leave()).status).toBe(200);
    await b.ack([r(0, 2, "release")]);
    const res = await parked;
    not5xx(res);
    const taken = res.status === 200 ? res.body.records : [];
    expect(taken).toEqual([]);
    const bGot = await b.acquire();
    expect(expand(bGot.body.records)).toHaveLength(3);
  });

  it("a parked acquire of a member whose partition is revoked does not take from it", async () => {
    const g = freshGroup("adv-lp4");
    const a = new Member(g, { t: 2 }, "a");
    await a.join();
    await a.acquire({
      partitions: [
        { topic: "t", partition: 0, logEndOffset: 0 },
        { topic: "t", partition: 1, logEndOffset: 0 },
      ],
    });
    // Shorter than the session: a parked acquire is not a heartbeat.
    const parked = a.acquire({ maxWaitMs: 2000 });
    await sleep(200);
    const b = new Member(g, { t: 2 }, "b");
    await b.join();
    const bPart = b.assigned[0]!.partitions[0];
    const bGot = await b.acquire({
      partitions: [{ topic: "t", partition: bPart, logEndOffset: 5 }],
      maxRecords: 2,
    });
    const res = await parked;
    expect(res.status).toBe(200);
    for (const x of res.body.records) expect(x.partition).not.toBe(bPart);
    expect(expand(bGot.body.records)).toHaveLength(2);
  });

  it("a parked acquire wakes when a lock expires", async () => {
    const g = freshGroup("adv-lp5");
    const a = new Member(g, { t: 1 }, "a");
    const b = new Member(g, { t: 1 }, "b");
    await a.join();
    await b.join();
    await b.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 1 }] });
    const t0 = Date.now();
    const res = await a.acquire({ maxWaitMs: 6000 });
    expect(Date.now() - t0).toBeLessThan(LOCK_MS + 1500);
    expect(res.body.records).toEqual([expect.objectContaining({ firstOffset: 0, deliveryCount: 2 })]);
    expect((await b.ack([r(0, 0, "accept")])).body.acknowledgements[0].error?.code).toBe(
      "INVALID_RECORD_STATE",
    );
  });
});

describe("names and protocols", () => {
  it("prototype-key and odd topic names", async () => {
    const g = freshGroup("adv-proto");
    const names = [
      "__proto__",
      "constructor",
      "hasOwnProperty",
      "toString",
      "valueOf",
      "prototype",
      "__defineGetter__",
    ];
    const a = new Member(g, Object.fromEntries(names.map((n) => [n, 1])), "__proto__");
    await a.join();
    expect(a.memberId).toBe("__proto__");
    const got = await a.acquire({
      partitions: names.map((topic) => ({ topic, partition: 0, logEndOffset: 2 })),
    });
    expect(expand(got.body.records)).toHaveLength(names.length * 2);
    const res = await a.ack(names.map((n) => r(0, 0, "reject", n)));
    expect(res.body.acknowledgements.every((x: any) => x.error === null)).toBe(true);
    const d = await call("GET", `/v1/groups/${g}`);
    expect(d.status).toBe(200);
    expect(d.body.partitions.map((p: any) => p.topic).sort()).toEqual([...names].sort());
    for (const n of names) {
      const ar = await call("GET", `/v1/groups/${g}/share/archived?topic=${n}`);
      expect(ar.body.ranges, n).toEqual([
        expect.objectContaining({ topic: n, firstOffset: 0, lastOffset: 0 }),
      ]);
    }
    const o = await call("GET", `/v1/groups/${g}/offsets?topic=__proto__`);
    expect(o.body.offsets).toEqual([expect.objectContaining({ topic: "__proto__", offset: 1 })]);
    const one = await call("GET", `/v1/groups/${g}/offsets/constructor/0`);
    expect(one.body).toMatchObject({ topic: "constructor", offset: 1 });
    expect(
      (await call("POST", `/v1/groups/${g}/share/archived/redrive`, { topic: "__proto__" })).body,
    ).toEqual({ redriven: 1 });
    expect(
      (await call("POST", `/v1/groups/${g}/share/archived/redrive`, { topic: "toString", partition: 0 }))
        .body,
    ).toEqual({ redriven: 1 });
    // A group whose id is a prototype key.
    for (const gid of ["__proto__", "constructor", "hasOwnProperty"]) {
      const res2 = await shareHeartbeat(gid, {
        memberEpoch: 0,
        subscribedTopics: [{ name: "t", partitions: 1 }],
      });
      not5xx(res2);
      expect(res2.status, gid).toBe(200);
      const acq = await acquire(gid, {
        memberId: res2.body.memberId,
        partitions: [{ topic: "t", partition: 0, logEndOffset: 1 }],
      });
      expect(acq.status).toBe(200);
      expect((await shareHeartbeat(gid, { memberId: res2.body.memberId, memberEpoch: -1 })).status).toBe(200);
    }
    for (const bad of ["t\u00e9", "\u{1F600}", "a b", "", "x".repeat(250), "a/b"]) {
      const res3 = await shareHeartbeat(g, {
        memberEpoch: 0,
        subscribedTopics: [{ name: bad, partitions: 1 }],
      });
      not5xx(res3);
      expect(res3.status, bad).toBe(400);
    }
  });

  it("cross-protocol: every share route on consumer and classic groups, and the reverse", async () => {
    const consumerG = freshGroup("adv-xc");
    const hb = await call("POST", `/v1/groups/${consumerG}/heartbeat`, {
      memberEpoch: 0,
      subscribedTopics: [{ name: "t", partitions: 1 }],
      ownedPartitions: [],
    });
    expect(hb.status, JSON.stringify(hb.body)).toBe(200);
    const simpleG = freshGroup("adv-xs");
    expect((await commit(simpleG, [{ topic: "t", partition: 0, offset: 5 }])).status).toBe(200);
    for (const g of [consumerG, simpleG]) {
      const routes: [string, string, unknown][] = [
        ["POST", "share/heartbeat", { memberEpoch: 0, subscribedTopics: [{ name: "t", partitions: 1 }] }],
        ["POST", "share/heartbeat", { memberId: hb.body.memberId, memberEpoch: hb.body.memberEpoch }],
        ["POST", "share/acquire", { memberId: hb.body.memberId }],
        ["POST", "share/acknowledge", { memberId: hb.body.memberId, acknowledgements: [r(0, 0, "accept")] }],
        ["GET", "share/archived", undefined],
        ["POST", "share/archived/redrive", { topic: "t" }],
      ];
      for (const [m, route, body] of routes) {
        const res = await call(m, `/v1/groups/${g}/${route}`, body);
        not5xx(res);
        expect(res.body?.error?.code, `${g} ${route}`).toBe("INCONSISTENT_GROUP_PROTOCOL");
      }
    }
    const shareG = freshGroup("adv-xsh");
    const s = new Member(shareG, { t: 1 }, "s");
    await s.join();
    const reverse: [string, string, unknown, string][] = [
      [
        "POST",
        "heartbeat",
        { memberEpoch: 0, subscribedTopics: [{ name: "t", partitions: 1 }], ownedPartitions: [] },
        "INCONSISTENT_GROUP_PROTOCOL",
      ],
      ["POST", "heartbeat", { memberId: "s", memberEpoch: s.memberEpoch }, "INCONSISTENT_GROUP_PROTOCOL"],
      [
        "POST",
        "classic/join",
        {
          memberId: "",
          protocolType: "consumer",
          sessionTimeoutMs: 10000,
          protocols: [{ name: "r", metadata: "" }],
        },
        "INCONSISTENT_GROUP_PROTOCOL",
      ],
      [
        "POST",
        "classic/join",
        {
          memberId: "s",
          protocolType: "consumer",
          sessionTimeoutMs: 10000,
          protocols: [{ name: "r", metadata: "" }],
        },
        "INCONSISTENT_GROUP_PROTOCOL",
      ],
      [
        "POST",
        "classic/sync",
        { memberId: "s", generationId: 1, assignments: [] },
        "INCONSISTENT_GROUP_PROTOCOL",
      ],
      ["POST", "classic/heartbeat", { memberId: "s", generationId: 1 }, "INCONSISTENT_GROUP_PROTOCOL"],
      ["POST", "classic/leave", { members: [{ memberId: "s" }] }, "INCONSISTENT_GROUP_PROTOCOL"],
      [
        "POST",
        "offsets",
        { offsets: [{ topic: "t", partition: 0, offset: 1 }] },
        "INCONSISTENT_GROUP_PROTOCOL",
      ],
      [
        "POST",
        "offsets",
        { memberId: "s", memberEpoch: s.memberEpoch, offsets: [{ topic: "t", partition: 0, offset: 1 }] },
        "INCONSISTENT_GROUP_PROTOCOL",
      ],
      [
        "POST",
        "offsets",
        { memberId: "s", generationId: 1, offsets: [{ topic: "t", partition: 0, offset: 1 }] },
        "INCONSISTENT_GROUP_PROTOCOL",
      ],
    ];
    for (const [m, route, body, code] of reverse) {
      const res = await call(m, `/v1/groups/${shareG}/${route}`, body);
      not5xx(res);
      expect(res.body?.error?.code, route).toBe(code);
    }
    // s is still a member and still holds its epoch.
    expect((await s.beat()).status).toBe(200);
  });

  it("an Empty share group: OffsetCommit still refused, reset works and clears in-flight", async () => {
    const g = freshGroup("adv-empty");
    const a = new Member(g, { t: 1 }, "a");
    await a.join();
    await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 10 }] });
    await a.ack([r(0, 2, "accept"), r(3, 3, "reject")]);
    await a.leave();
    const d = await call("GET", `/v1/groups/${g}`);
    expect(d.body).toMatchObject({ type: "share", state: "Empty" });
    const c = await commit(g, [{ topic: "t", partition: 0, offset: 0 }]);
    expect(c.body?.error?.code).toBe("INCONSISTENT_GROUP_PROTOCOL");
    const shift = await call("POST", `/v1/groups/${g}/offsets/reset`, {
      topic: "t",
      to: "shift",
      shiftBy: -2,
    });
    not5xx(shift);
    expect(shift.body?.error?.code).toBe("INVALID_REQUEST");
    const dry = await call("POST", `/v1/groups/${g}/offsets/reset`, {
      topic: "t",
      to: "offset",
      offset: 1,
      dryRun: true,
    });
    expect(dry.status).toBe(200);
    expect(await part(g)).toMatchObject({ startOffset: 4 });
    const reset = await call("POST", `/v1/groups/${g}/offsets/reset`, {
      topic: "t",
      to: "offset",
      offset: 2,
    });
    expect(reset.body.offsets).toEqual([expect.objectContaining({ previousOffset: 4, newOffset: 2 })]);
    await a.join();
    const got = await a.acquire();
    // From 2: a fresh state, every offset available once more.
    expect(got.body.records[0]).toMatchObject({ firstOffset: 2, deliveryCount: 1 });
    expect(expand(got.body.records)).toHaveLength(8);
  });
});
