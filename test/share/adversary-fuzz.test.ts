/**
 * Adversarial fuzz: several black-box members acquire, accept, release, reject and renew at random,
 * concurrently, with redrives, leaves and rejoins, and evictions and aborts between rounds. The
 * checker knows only the responses: an offset whose accept was answered with no error is never
 * handed out again; no offset is handed to a member while another holds a lock on it that must still
 * be live; no delivery count passes the limit; nothing at or past the largest reported log end.
 */

import { abortAllDurableObjects, evictDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { freshGroup } from "../integration/helpers";
import { expand, Member, not5xx, r } from "./adversary-lib";
import { DELIVERY_LIMIT, LOCK_MS, redrive, stub } from "./share-helpers";

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

for (const seed of [1, 2, 3]) {
  it(`keeps its invariants under random concurrent traffic (seed ${seed})`, async () => {
    const rand = rng(seed);
    const g = freshGroup("adv-fz");
    const P = 2;
    const ms = Array.from({ length: 4 }, (_, i) => new Member(g, { t: P }, `m${i}`));
    for (const m of ms) await m.join();
    const accepted = new Set<string>();
    /** offset → holder and the earliest moment its lock may end (request sent + LOCK_MS). */
    const holds = new Map<string, { who: string; liveUntil: number; settling: boolean }>();
    const logEnd = [0, 0];
    const violations: string[] = [];
    let handed = 0;
    for (let round = 0; round < 30; round++) {
      if (round % 8 === 3) await new Promise((res) => setTimeout(res, LOCK_MS + 100));
      if (round % 6 === 5) {
        if (rand() < 0.5) await evictDurableObject(stub(g));
        else await abortAllDurableObjects();
        holds.clear();
      }
      for (const m of ms) {
        const b = await m.beat();
        if (b.status === 409) {
          await m.join();
          for (const [o, h] of holds) if (h.who === m.memberId) holds.delete(o);
        }
      }
      const ops = ms.map(async (m) => {
        const x = rand();
        const sent = Date.now();
        if (x < 0.5) {
          const parts = [0, 1].map((p) => {
            if (rand() < 0.4) logEnd[p]! += Math.floor(rand() * 15);
            return { topic: "t", partition: p, logEndOffset: logEnd[p] };
          });
          const ends = [...logEnd];
          const res = await m.acquire({ maxRecords: 1 + Math.floor(rand() * 12), partitions: parts });
          not5xx(res);
          if (res.status !== 200) return;
          handed += res.body.records.length;
          for (const rec of res.body.records) {
            if (rec.deliveryCount > DELIVERY_LIMIT)
              violations.push(`count ${rec.deliveryCount} ${JSON.stringify(rec)}`);
            if (rec.lastOffset >= ends[rec.partition]!)
              violations.push(`past log end ${ends[rec.partition]}: ${JSON.stringify(rec)}`);
            for (const o of expand([rec])) {
              if (accepted.has(o)) violations.push(`accepted ${o} handed again to ${m.memberId}`);
              const h = holds.get(o);
              if (h && h.who !== m.memberId && !h.settling && h.liveUntil > Date.now())
                violations.push(`${o} handed to ${m.memberId} while ${h.who} holds a live lock`);
              holds.set(o, { who: m.memberId, liveUntil: sent + LOCK_MS, settling: false });
            }
          }
        } else if (x < 0.9) {
          const mine = [...holds.entries()].filter(([, h]) => h.who === m.memberId).map(([o]) => o);
          if (mine.length === 0) return;
          const entries = mine
            .filter(() => rand() < 0.7)
            .map((o) => {
              const [tp, off] = o.split(":");
              const y = rand();
              const type = y < 0.55 ? "accept" : y < 0.75 ? "release" : y < 0.85 ? "reject" : "renew";
              return r(Number(off), Number(off), type, "t", Number(tp!.split("-")[1]));
            });
          if (entries.length === 0) return;
          for (const e of entries) {
            const h = holds.get(`t-${e.partition}:${e.firstOffset}`);
            if (h && e.type !== "renew") h.settling = true;
          }
          const res = await m.ack(entries);
          not5xx(res);
          if (res.status !== 200) return;
          res.body.acknowledgements.forEach((a: any, i: number) => {
            const e = entries[i]!;
            const o = `t-${e.partition}:${e.firstOffset}`;
            if (a.error === null && e.type === "accept") accepted.add(o);
            if (a.error === null && e.type !== "renew") holds.delete(o);
            if (a.error === null && e.type === "renew") {
              const h = holds.get(o);
              if (h) h.liveUntil = sent + LOCK_MS;
            }
          });
        } else if (x < 0.95) {
          const res = await redrive(g, { topic: "t" });
          not5xx(res);
        } else {
          for (const h of holds.values()) if (h.who === m.memberId) h.settling = true;
          await m.leave();
          for (const [o, h] of holds) if (h.who === m.memberId) holds.delete(o);
          await m.join();
        }
      });
      await Promise.all(ops);
    }
    expect(violations).toEqual([]);
    // The traffic did something.
    expect(handed).toBeGreaterThan(10);
    expect(accepted.size).toBeGreaterThan(5);
  });
}
