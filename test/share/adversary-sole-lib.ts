/**
 * The adversarial one-partition acknowledgement suites' shared pieces (adversary-sole-*.test.ts): the
 * restarts, the outside views (archived list, events, lag samples), and the ledger of what every member
 * was told, whose invariants (an accept answered 200 is never delivered again, SPSO never moves back
 * without a redrive, describe agrees with what members were told) each suite checks after restarts.
 */

import { abortAllDurableObjects, evictDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { call, type Reply } from "../integration/helpers";
import { expand, Member, r } from "./adversary-lib";
import { sleep, stub } from "./share-helpers";

export { inObject } from "../integration/inject-failure";

export const restarts = [
  ["an abort", (_g: string) => abortAllDurableObjects()],
  ["an eviction", (g: string) => evictDurableObject(stub(g))],
] as const;

export const archivedOf = async (g: string, topic?: string): Promise<any[]> => {
  const res = await call(
    "GET",
    `/v1/groups/${g}/share/archived${topic ? `?topic=${encodeURIComponent(topic)}` : ""}`,
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.ranges;
};
export const eventsOf = async (g: string, type?: string): Promise<any[]> => {
  const res = await call("GET", `/v1/groups/${g}/events?limit=1000`);
  expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
  return type ? res.body.events.filter((e: any) => e.type === type) : res.body.events;
};
export const lagSamples = async (g: string): Promise<any[]> => {
  const res = await call("GET", `/v1/groups/${g}/lag/history`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.samples;
};
export const acknowledgeAs = (g: string, memberId: string, acknowledgements: unknown[]) =>
  call("POST", `/v1/groups/${g}/share/acknowledge`, { memberId, acknowledgements });
export const errorsOf = (res: Reply) => {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.acknowledgements.map((x: any) => x.error?.code ?? null);
};

/** The outside view of what every member was told: accepted and archived offsets, SPSO per partition. */
export class Ledger {
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
export function keepAlive(m: Member): { stop: () => Promise<void> } {
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
export async function steady(g: string, id = "a", logEnd = 1_000, topics: Record<string, number> = { t: 1 }) {
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
