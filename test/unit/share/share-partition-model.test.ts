/**
 * Model test of SharePartition: random schedules of acquire, acknowledge of every type (mostly on what
 * the member holds, sometimes on anything), lock expiry with a fake clock, members leaving or crashing,
 * log ends and starts growing, redrive, and restarts (fromRecord(toRecord())). After every step the
 * partition must agree offset by offset with the per-offset model of share-model.ts, and the
 * invariants of issue 11 must hold; at the end, handlers that keep accepting drain it completely.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SharePartition } from "../../../src/core/share/share-partition.ts";
import type { AcknowledgeType, ArchivedRange, ShareSettings } from "../../../src/core/share/share-types.ts";
import { archive, ModelPartition } from "./share-model.ts";

const MEMBERS = ["m0", "m1", "m2"];
type Op =
  | { t: "report"; grow: number; start: number | null }
  | { t: "acquire"; m: number; max: number }
  | { t: "ack"; m: number; type: AcknowledgeType; pick: number; len: number; held: boolean }
  | { t: "tick"; ms: number; expire: boolean }
  | { t: "leave"; m: number; crashed: boolean }
  | { t: "redrive"; back: number; len: number }
  | { t: "restart" };

/** Events the schedules must reach, with how often at least over all runs (about 40% of what they reach). */
const COVERAGE: Record<string, number> = {
  delivered: 800,
  redelivered: 100,
  "accept done": 250,
  "accept refused": 300,
  "release done": 100,
  "reject done": 100,
  "renew done": 100,
  "archived rejected": 100,
  "archived delivery_limit": 100,
  "archived log_start": 100,
  redriven: 30,
  "redriven below SPSO": 15,
  "restart with locks held": 100,
  "at the in-flight cap": 1000,
  "4+ ranges": 400,
};
const seen = new Map<string, number>();
const see = (what: string): void => {
  seen.set(what, (seen.get(what) ?? 0) + 1);
};

const member = fc.integer({ min: 0, max: MEMBERS.length - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("report" as const),
      grow: fc.nat(20),
      start: fc.option(fc.nat(8), { freq: 4 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("acquire" as const),
      m: member,
      max: fc.integer({ min: 1, max: 12 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant("ack" as const),
      m: member,
      type: fc.constantFrom<AcknowledgeType>("accept", "accept", "release", "reject", "renew"),
      pick: fc.nat(50),
      len: fc.integer({ min: 1, max: 12 }),
      held: fc.nat(5).map((n) => n > 0),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("tick" as const),
      ms: fc.oneof({ weight: 4, arbitrary: fc.nat(6) }, { weight: 1, arbitrary: fc.nat(150) }),
      expire: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("leave" as const), m: member, crashed: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("redrive" as const),
      back: fc.nat(40),
      len: fc.integer({ min: 1, max: 60 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "restart" as const }) },
);
const settings: fc.Arbitrary<ShareSettings> = fc.record({
  lockDurationMs: fc.integer({ min: 20, max: 200 }),
  deliveryCountLimit: fc.integer({ min: 1, max: 4 }),
  maxInFlight: fc.integer({ min: 1, max: 25 }),
  autoOffsetReset: fc.constantFrom<"earliest" | "latest">("earliest", "latest"),
  sessionTimeoutMs: fc.constant(45_000),
  heartbeatIntervalMs: fc.constant(5000),
  retentionMs: fc.constant(604_800_000),
});

/** Archived offsets → contiguous equal-count ranges, as the group's listing would pass them. */
function listed(listing: Map<number, number>, below: number): ArchivedRange[] {
  const out: ArchivedRange[] = [];
  for (const [o, count] of [...listing].filter(([o]) => o < below).sort((a, b) => a[0] - b[0]))
    archive(out, o, count, "rejected", 0);
  return out;
}
const stripReasons = (rs: ArchivedRange[]) =>
  rs.map(({ firstOffset, lastOffset, deliveryCount, reason }) => ({
    firstOffset,
    lastOffset,
    deliveryCount,
    reason,
  }));

class Run {
  sp = SharePartition.create("t", 0);
  model: ModelPartition;
  now = 1_000;
  /** What the test saw handed out and not yet given back: offset → holder. */
  holders = new Map<number, { m: string; lockUntil: number }>();
  accepted = new Set<number>();
  listing = new Map<number, number>();
  saved = JSON.stringify(this.sp.toRecord());
  budget = 1;
  movedBack = false;

  readonly s: ShareSettings;

  constructor(s: ShareSettings) {
    this.s = s;
    this.model = new ModelPartition(s);
  }

  step(o: Op): void {
    const { sp, model, s } = this;
    const spsoBefore = sp.startOffset;
    const speoBefore = sp.endOffset;
    this.budget += 2;
    switch (o.t) {
      case "report": {
        const end = (sp.logEndOffset ?? 0) + o.grow;
        const start = o.start === null ? undefined : Math.min(end, (sp.logStartOffset ?? 0) + o.start);
        this.archived(sp.report(end, start, this.now, s), model.report(end, start, this.now));
        for (const off of this.holders.keys()) if (off < (sp.startOffset ?? 0)) this.holders.delete(off);
        break;
      }
      case "acquire": {
        const m = MEMBERS[o.m]!;
        const got = sp.acquire(m, o.max, this.now, s);
        expect(got).toEqual(model.acquire(m, o.max, this.now));
        for (const r of got) {
          expect(r.deliveryCount).toBeLessThanOrEqual(s.deliveryCountLimit);
          see(r.deliveryCount > 1 ? "redelivered" : "delivered");
          for (let off = r.firstOffset; off <= r.lastOffset; off++) {
            const h = this.holders.get(off);
            // Never two live locks on one offset; never an accepted offset again.
            if (h && h.m !== m) expect(h.lockUntil).toBeLessThanOrEqual(this.now);
            expect(this.accepted.has(off)).toBe(false);
            this.holders.set(off, { m, lockUntil: this.now + s.lockDurationMs });
          }
        }
        if (speoBefore !== null && spsoBefore !== null)
          expect(sp.endOffset!).toBeLessThanOrEqual(Math.max(speoBefore, sp.startOffset! + s.maxInFlight));
        break;
      }
      case "ack": {
        // Mostly what some member holds (as a client acknowledges), else anything near SPSO as `m`.
        const live = [...this.holders].filter(([, h]) => h.lockUntil > this.now).sort((x, y) => x[0] - y[0]);
        const pick = o.held ? live[o.pick % Math.max(1, live.length)] : undefined;
        const m = pick ? pick[1].m : MEMBERS[o.m]!;
        const first = pick ? pick[0] : (sp.startOffset ?? 0) + o.pick - 5;
        let last = first + o.len - 1;
        if (pick) {
          last = first;
          while (last - first + 1 < o.len && this.holders.get(last + 1)?.m === m) last++;
        }
        const got = sp.acknowledge(m, first, last, o.type, this.now, s);
        const want = model.acknowledge(m, first, last, o.type, this.now);
        expect(got.error === null).toBe(want.ok);
        see(`${o.type} ${want.ok ? "done" : "refused"}`);
        if (got.error) expect(got.error.code).toBe("INVALID_RECORD_STATE");
        this.archived(got.archived, want.archived);
        if (got.error === null)
          for (let off = first; off <= last; off++) {
            if (o.type === "renew") this.holders.set(off, { m, lockUntil: this.now + s.lockDurationMs });
            else this.holders.delete(off);
            if (o.type === "accept") this.accepted.add(off);
          }
        break;
      }
      case "tick":
        this.now += o.ms;
        if (o.expire) this.archived(sp.expireLocks(this.now, s), model.expire(this.now));
        break;
      case "leave": {
        const m = MEMBERS[o.m]!;
        this.archived(
          sp.releaseMember(m, o.crashed, this.now, s),
          model.releaseMember(m, o.crashed, this.now),
        );
        for (const [off, h] of this.holders) if (h.m === m) this.holders.delete(off);
        break;
      }
      case "redrive": {
        const below = listed(this.listing, sp.startOffset ?? 0);
        this.budget += 2 * below.length + 1;
        const from = Math.max(0, (sp.startOffset ?? 0) - o.back);
        const n = sp.redrive(from, from + o.len - 1, below, this.now);
        expect(n).toBe(model.redrive(from, from + o.len - 1, this.listing));
        if (n > 0) see("redriven");
        if (sp.startOffset !== null && spsoBefore !== null && sp.startOffset < spsoBefore) {
          this.movedBack = true;
          see("redriven below SPSO");
        }
        break;
      }
      case "restart":
        if (this.sp.counts().acquired > 0) see("restart with locks held");
        this.sp = SharePartition.fromRecord(JSON.parse(JSON.stringify(this.sp.toRecord())));
        model.restart();
        this.holders.clear(); // the coordinator forgot every lock; the old holders' acks will be refused
        break;
    }
    if (o.t !== "redrive" && spsoBefore !== null)
      expect(this.sp.startOffset!).toBeGreaterThanOrEqual(spsoBefore);
    this.check();
  }

  private archived(got: ArchivedRange[], want: ArchivedRange[]): void {
    expect(stripReasons(got)).toEqual(stripReasons(want));
    for (const r of got) {
      see(`archived ${r.reason}`);
      expect(r.archivedAt).toBe(this.now);
      for (let off = r.firstOffset; off <= r.lastOffset; off++) this.listing.set(off, r.deliveryCount);
    }
  }

  check(): void {
    const { sp, model, s } = this;
    expect([sp.startOffset, sp.endOffset, sp.logEndOffset, sp.logStartOffset]).toEqual([
      model.spso,
      model.speo,
      model.logEnd,
      model.logStart,
    ]);
    const view = sp.view();
    const counts = { acquired: 0, available: 0, acknowledged: 0, archived: 0 };
    let next = sp.startOffset;
    let minLock: number | null = null;
    for (const [i, r] of view.entries()) {
      expect(r.first).toBe(next); // contiguous cover of [SPSO, SPEO)
      expect(r.count).toBeLessThanOrEqual(s.deliveryCountLimit);
      const prev = view[i - 1];
      if (prev)
        expect([prev.state, prev.count, prev.owner, prev.lockUntil]).not.toEqual([
          r.state,
          r.count,
          r.owner,
          r.lockUntil,
        ]);
      counts[r.state] += r.last - r.first + 1;
      if (r.state === "acquired" && (minLock === null || r.lockUntil < minLock)) minLock = r.lockUntil;
      for (let off = r.first; off <= r.last; off++)
        expect([off, r.state, r.count, r.owner, r.lockUntil]).toEqual([
          off,
          ...Object.values(model.slots.get(off)!),
        ]);
      next = r.last + 1;
    }
    expect(next).toBe(sp.endOffset);
    expect(view[0] && (view[0].state === "acknowledged" || view[0].state === "archived")).toBeFalsy();
    expect(sp.counts()).toEqual(counts);
    expect(sp.nextLockDeadline()).toBe(minLock);
    const inFlight = (sp.endOffset ?? 0) - (sp.startOffset ?? 0);
    if (!this.movedBack) expect(inFlight).toBeLessThanOrEqual(s.maxInFlight);
    if (inFlight >= s.maxInFlight) see("at the in-flight cap");
    if (sp.rangeCount >= 4) see("4+ ranges");
    expect(sp.rangeCount).toBeLessThanOrEqual(inFlight);
    expect(sp.rangeCount).toBeLessThanOrEqual(this.budget);
    if (sp.logEndOffset !== null && sp.startOffset !== null)
      expect(sp.lag()).toBe(
        Math.max(0, sp.logEndOffset - sp.startOffset - counts.acknowledged - counts.archived),
      );
    // `dirty` false must mean the persisted form is what was saved last.
    const record = JSON.stringify(sp.toRecord());
    if (!sp.dirty) expect(record).toBe(this.saved);
    sp.markSaved();
    this.saved = record;
  }

  /** Handlers that keep accepting: everything below the log end ends acknowledged or archived. */
  drain(): void {
    const { s } = this;
    this.step({ t: "tick", ms: s.lockDurationMs, expire: true });
    for (let round = 0; round < 1000 && this.sp.canAcquire(s); round++) {
      for (const r of this.sp.acquire("drain", 1000, this.now, s)) {
        expect(
          this.sp.acknowledge("drain", r.firstOffset, r.lastOffset, "accept", this.now, s).error,
        ).toBeNull();
        for (let off = r.firstOffset; off <= r.lastOffset; off++) {
          expect(this.accepted.has(off)).toBe(false);
          this.accepted.add(off);
        }
      }
    }
    expect(this.sp.counts()).toEqual({ acquired: 0, available: 0, acknowledged: 0, archived: 0 });
    if (this.sp.logEndOffset !== null && this.sp.startOffset !== null)
      expect(this.sp.startOffset).toBeGreaterThanOrEqual(this.sp.logEndOffset);
    expect(this.sp.lag()).toBe(this.sp.logEndOffset === null ? null : 0);
  }
}

describe("SharePartition against the per-offset model", () => {
  it("agrees on 600 random schedules and keeps the invariants", () => {
    fc.assert(
      fc.property(settings, fc.array(op, { minLength: 10, maxLength: 100 }), (s, ops) => {
        const run = new Run(s);
        run.step({ t: "report", grow: 10, start: s.autoOffsetReset === "latest" ? null : 0 });
        for (const o of ops) run.step(o);
        run.drain();
      }),
      { numRuns: 600 },
    );
    // The schedules reach every transition often enough to mean something.
    for (const [what, least] of Object.entries(COVERAGE))
      expect([what, seen.get(what) ?? 0]).toEqual([what, expect.toSatisfy((n: number) => n >= least)]);
  }, 60_000); // about 2 s alone; the margin is for a machine busy with other suites
});
