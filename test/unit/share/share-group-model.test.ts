/**
 * The share group's model test (issue 11, "Must show"): random schedules of members joining,
 * heartbeating or going silent (crashing), leaving, acquiring (with and without long polls) while log
 * ends grow, acknowledging with every type (whole ranges, parts of them, stale ones), time passing so
 * locks and sessions expire, and object restarts (rebuilt from the rows the harness wrote). An oracle
 * follows every lock the group handed out; after every step:
 *
 * - no offset is ever handed to a member while another holds it under a live lock;
 * - an accepted offset is never handed out again (across restarts too);
 * - an acknowledgement succeeds exactly when the oracle says the member holds a live lock on every offset;
 * - records come only from partitions assigned to the member at the time;
 * - delivery counts never exceed the limit; SPSO never decreases; in flight ≤ SHARE_PARTITION_MAX_RECORD_LOCKS;
 * - state rows stay proportional to ranges (no more ranges than offsets in flight);
 * - no acquire stays parked while one of its partitions could hand it something;
 *
 * and at the end, when a handler keeps accepting, every offset below the log end is acknowledged or
 * archived, and every parked acquire has been answered.
 */

import fc from "fast-check";
import { expect, it } from "vitest";
import type { AcquireCompletion, ShareGroup } from "../../../src/core/share/share-group";
import type { AcknowledgeType, AcquiredRecords } from "../../../src/core/share/share-types";
import { entry, ShareHarness } from "./harness";

const LOCK = 2000;
const SETTINGS = {
  lockDurationMs: LOCK,
  deliveryCountLimit: 3,
  maxInFlight: 8,
  sessionTimeoutMs: 3000,
  heartbeatIntervalMs: 1000,
  autoOffsetReset: "earliest" as const,
};
const MEMBERS = ["m0", "m1", "m2", "m3"];
const PARTITIONS = 2;

type Command =
  | { k: "join"; m: number }
  | { k: "beat"; m: number }
  | { k: "beatAll" }
  | { k: "leave"; m: number }
  | { k: "acquire"; m: number; max: number; grow: number; wait: boolean }
  | { k: "ack"; m: number; type: AcknowledgeType; pick: number; cut: number; stale: boolean }
  | { k: "time"; ms: number }
  | { k: "restart" };

const member = fc.integer({ min: 0, max: MEMBERS.length - 1 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ k: fc.constant("join" as const), m: member }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("beat" as const), m: member }) },
  { weight: 3, arbitrary: fc.constant({ k: "beatAll" as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("leave" as const), m: member }) },
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant("acquire" as const),
      m: member,
      max: fc.integer({ min: 1, max: 6 }),
      grow: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8 })),
      wait: fc.boolean(),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant("ack" as const),
      m: member,
      type: fc.constantFrom<AcknowledgeType>("accept", "accept", "release", "reject", "renew"),
      pick: fc.nat(),
      cut: fc.nat({ max: 3 }),
      stale: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant("time" as const), ms: fc.integer({ min: 0, max: 1200 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ k: "restart" as const }) },
);

interface Lock {
  member: string;
  until: number;
}

class Oracle {
  /** `partition:offset` -> the live lock the group handed out. */
  locks = new Map<string, Lock>();
  accepted = new Set<string>();
  logEnd = new Array<number>(PARTITIONS).fill(0);
  spso = new Array<number>(PARTITIONS).fill(0);
  /** Ranges each member was handed, for acknowledgements to pick from. */
  handed = new Map<string, AcquiredRecords[]>();
  pending = new Set<number>();

  readonly h: ShareHarness;

  constructor(h: ShareHarness) {
    this.h = h;
  }

  get group(): ShareGroup {
    return this.h.share;
  }

  /** Records handed to `m` now: check the exclusivity, acceptance, limit and assignment rules. */
  handOut(m: string, records: AcquiredRecords[], now: number): void {
    const assigned = this.group.members.get(m)?.assignment.t ?? [];
    for (const r of records) {
      expect(assigned).toContain(r.partition);
      expect(r.deliveryCount).toBeLessThanOrEqual(SETTINGS.deliveryCountLimit);
      expect(r.deliveryCount).toBeGreaterThanOrEqual(1);
      for (let o = r.firstOffset; o <= r.lastOffset; o++) {
        const key = `${r.partition}:${o}`;
        const held = this.locks.get(key);
        // A member removed in this same step (its session ended) lost its locks with it.
        if (held && held.until > now && this.group.members.has(held.member))
          throw new Error(`offset ${key} handed to ${m} while ${held.member} holds it`);
        if (this.accepted.has(key)) throw new Error(`accepted offset ${key} handed out again`);
        expect(o).toBeLessThan(this.logEnd[r.partition]!);
        this.locks.set(key, { member: m, until: now + LOCK });
      }
      this.handed.set(m, [...(this.handed.get(m) ?? []), r]);
    }
  }

  /** Whether the group must accept an acknowledgement of these offsets by `m` now. */
  holds(m: string, p: number, first: number, last: number, now: number): boolean {
    for (let o = first; o <= last; o++) {
      const l = this.locks.get(`${p}:${o}`);
      if (!l || l.member !== m || l.until <= now) return false;
    }
    return true;
  }

  acknowledged(m: string, p: number, first: number, last: number, type: AcknowledgeType, now: number): void {
    for (let o = first; o <= last; o++) {
      const key = `${p}:${o}`;
      if (type === "renew") this.locks.set(key, { member: m, until: now + LOCK });
      else this.locks.delete(key);
      if (type === "accept") this.accepted.add(key);
    }
  }

  /** Members the group removed lost their locks; a restart loses every lock and parked acquire. */
  sync(restarted = false): void {
    for (const [key, l] of this.locks)
      if (restarted || !this.group.members.has(l.member)) this.locks.delete(key);
    if (restarted) this.pending.clear();
    this.checkState();
  }

  checkState(): void {
    const g = this.group;
    for (const view of g.describe().partitions) {
      const p = view.partition;
      expect(view.startOffset!).toBeGreaterThanOrEqual(this.spso[p]!);
      this.spso[p] = view.startOffset!;
      expect(view.endOffset! - view.startOffset!).toBeLessThanOrEqual(SETTINGS.maxInFlight);
    }
    for (const row of this.h.rows.partitions.values()) {
      const inFlight = row.endOffset! - row.startOffset!;
      expect(row.ranges.length).toBeLessThanOrEqual(inFlight);
    }
    expect(this.h.rows.partitions.size).toBeLessThanOrEqual(PARTITIONS);
    // No acquire waits while one of its partitions could hand it something.
    const internals = g as unknown as {
      dispatch: { parked: Map<string, unknown> };
      assignedLists: Map<string, { key: string }[]>;
      table: { get(key: string): { canAcquire(s: unknown): boolean } | undefined };
      settings: unknown;
    };
    for (const m of internals.dispatch.parked.keys())
      for (const { key } of internals.assignedLists.get(m) ?? [])
        expect(internals.table.get(key)?.canAcquire(internals.settings) ?? false).toBe(false);
  }
}

function run(commands: Command[]): void {
  const h = new ShareHarness(SETTINGS);
  const o = new Oracle(h);
  const tickets = new Map<number, string>();
  h.onDeliver = (c: AcquireCompletion, now: number) => {
    const m = tickets.get(c.ticket)!;
    expect(o.pending.delete(c.ticket)).toBe(true);
    if (c.result.ok) o.handOut(m, c.result.value.records, now);
  };
  for (const m of MEMBERS.slice(0, 3)) h.join(m, { t: PARTITIONS });
  for (const c of commands) {
    if (c.k === "time") h.pass(c.ms);
    else if (c.k === "beatAll") for (const m of [...h.share.memberIds()]) h.beat(m);
    else if (c.k === "restart") {
      h.restart();
      o.sync(true);
      continue;
    } else if (c.k === "join") h.join(MEMBERS[c.m]!, { t: PARTITIONS });
    else {
      // The member named, or (if it is not in the group) one that is: few commands go to waste.
      const present = [...h.share.memberIds()];
      const m = h.share.members.has(MEMBERS[c.m]!)
        ? MEMBERS[c.m]!
        : present[c.m % Math.max(1, present.length)];
      const current = m === undefined ? undefined : h.share.members.get(m);
      if (!current || m === undefined) continue;
      if (c.k === "beat") h.beat(m);
      else if (c.k === "leave") h.must({ memberId: m, memberEpoch: -1 });
      else if (c.k === "acquire") {
        const partitions = (current.assignment.t ?? []).map((p) => {
          o.logEnd[p]! += c.grow;
          return { topic: "t", partition: p, logEndOffset: o.logEnd[p] };
        });
        const { step, ticket } = h.acquire(m, c.max, { maxWaitMs: c.wait ? 1500 : 0, partitions });
        if (step.kind === "parked") {
          tickets.set(ticket, m);
          o.pending.add(ticket);
        } else {
          expect(step.result.ok).toBe(true);
          if (step.result.ok) o.handOut(m, step.result.value.records, h.now);
        }
      } else {
        const handed = o.handed.get(m) ?? [];
        if (handed.length === 0) continue;
        // A live range of the member's (from its latest), or with `stale` any range it was ever handed;
        // `cut` acknowledges only the tail of it (Kafka's batches split).
        const live = handed.filter((x) => o.holds(m, x.partition, x.firstOffset, x.lastOffset, h.now));
        const from = c.stale || live.length === 0 ? handed : live;
        const r = from[from.length - 1 - (c.pick % from.length)]!;
        const first = Math.min(r.firstOffset + c.cut, r.lastOffset);
        const valid = o.holds(m, r.partition, first, r.lastOffset, h.now);
        if (!valid && !c.stale) continue;
        // The oracle first: what the acknowledgement frees may go to a parked acquire within the call.
        if (valid) o.acknowledged(m, r.partition, first, r.lastOffset, c.type, h.now);
        const res = h.ack(m, [entry("t", r.partition, first, r.lastOffset, c.type)]);
        expect(res.ok).toBe(true);
        const err = res.ok ? res.value.acknowledgements[0]!.error : null;
        expect(err === null).toBe(valid);
      }
    }
    o.sync();
  }
  drain(h, o);
}

/** Everyone goes quiet; one handler that accepts everything finishes the log. */
function drain(h: ShareHarness, o: Oracle): void {
  h.pass(SETTINGS.sessionTimeoutMs + LOCK + 2000);
  o.sync();
  expect(o.pending.size).toBe(0); // every parked acquire was answered
  h.join("drainer", { t: PARTITIONS });
  const done = () => h.share.describe().partitions.every((p) => p.startOffset === o.logEnd[p.partition]);
  for (let i = 0; i < 100 && !done(); i++) {
    const r = h.take("drainer", 100);
    o.handOut("drainer", r.records, h.now);
    const acks = r.records.map((x) => entry("t", x.partition, x.firstOffset, x.lastOffset, "accept"));
    if (acks.length > 0) {
      for (const x of r.records)
        o.acknowledged("drainer", x.partition, x.firstOffset, x.lastOffset, "accept", h.now);
      h.ack("drainer", acks);
    } else h.pass(LOCK);
    h.beat("drainer");
    o.sync();
  }
  for (const view of h.share.describe().partitions) {
    expect(view.startOffset).toBe(o.logEnd[view.partition]);
    expect(view.lag).toBe(0);
  }
}

it("share group model: invariants of issue 11 over random schedules with restarts", () => {
  fc.assert(
    fc.property(fc.array(command, { minLength: 10, maxLength: 80, size: "max" }), (commands) =>
      run(commands),
    ),
    { numRuns: 500 },
  );
}, 120_000);

it("the oracle sees restarts: acquired offsets come back, accepted ones never", () => {
  run([
    { k: "acquire", m: 0, max: 4, grow: 4, wait: false },
    { k: "ack", m: 0, type: "accept", pick: 0, cut: 2, stale: false },
    { k: "restart" },
    { k: "beat", m: 0 },
    { k: "acquire", m: 0, max: 4, grow: 0, wait: false },
  ]);
});
