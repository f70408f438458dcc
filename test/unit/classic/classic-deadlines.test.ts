/**
 * The classic group's deadlines on the pure core with a fake clock: sessions across restarts of the
 * object (a member heard in the previous life gets one fresh session; a silent one keeps its deadline
 * however often the object restarts), a mass expiry handled whole by one alarm, the member indexes
 * requests use instead of scanning, the deadline heap's lookups, and Kafka's admin commit (−1).
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ClassicGroup } from "../../../src/core/classic/classic-group";
import { commonProtocols } from "../../../src/core/classic/classic-rebalance";
import { DeadlineHeap } from "../../../src/core/deadline-heap";
import { checkCommitter } from "../../../src/core/offsets";
import { CONFIG, Driver, REBALANCE, Rows, SESSION } from "./harness";

/** A new life of the object at `now`, driven by a fresh Driver on the restored group. */
function wake(rows: Rows, now: number): Driver {
  const d = new Driver(CONFIG, rows.load(now));
  d.now = now;
  return d;
}

describe("classic sessions across restarts", () => {
  it("gives a member heard in the previous life one fresh session, and never another to a silent one", () => {
    const d = new Driver();
    const [a, b] = d.stableGroup(2);
    const rows = new Rows();
    rows.save(d.group);
    const firstRestart = d.now + 300;
    let life = wake(rows, firstRestart);
    // Both were heard in the life before: a fresh session each, as Kafka gives on loading a group.
    expect(life.group.nextDeadline()).toBe(firstRestart + SESSION);
    rows.save(life.group);
    // A new life every 100 ms (an object evicted or failing between alarms); only `a` speaks.
    for (let t = firstRestart + 100; t < firstRestart + SESSION; t += 100) {
      life = wake(rows, t);
      expect(life.code(life.heartbeat(a!, 1))).toBe("OK");
      rows.save(life.group);
    }
    // Still a member one millisecond before the deadline its first restart gave it; gone at it.
    life.group.onDeadlines(firstRestart + SESSION - 1);
    expect(life.group.members.has(b!)).toBe(true);
    life.group.onDeadlines(firstRestart + SESSION);
    expect([...life.group.members.keys()]).toEqual([a]);
    expect(life.group.state).toBe("PreparingRebalance");
  });

  it("keeps a silent static member's long session fixed through lives that persist nothing", () => {
    const long = CONFIG.groupMaxSessionTimeoutMs;
    const d = new Driver();
    const live = d.join("", { groupInstanceId: "live" });
    const quiet = d.join("", { groupInstanceId: "quiet", sessionTimeoutMs: long });
    d.advance(CONFIG.groupInitialRebalanceDelayMs * 3);
    const [liveId, quietId] = [d.value(live).memberId, d.value(quiet).memberId];
    d.sync(quietId, 1, {}, "quiet");
    d.sync(liveId, 1, {}, "live");
    expect(d.group.state).toBe("Stable");
    const rows = new Rows();
    rows.save(d.group);
    const firstRestart = d.now + 1000;
    let t = firstRestart;
    for (let i = 0; t < firstRestart + long; i++, t += 500) {
      const life = wake(rows, t);
      // Every other life only serves reads and is gone before it writes anything.
      if (i % 2 === 1) continue;
      expect(life.code(life.heartbeat(liveId, 1, "live"))).toBe("OK");
      rows.save(life.group);
    }
    const last = wake(rows, t);
    expect(last.group.members.has(quietId)).toBe(true);
    last.group.onDeadlines(firstRestart + long);
    expect([...last.group.members.keys()]).toEqual([liveId]);
  });

  it("never expires early a member heard in a life that did not write the group row", () => {
    const d = new Driver();
    const [a] = d.stableGroup(1);
    const record = { ...d.group.toRecord(), wokeAt: d.now - 5000, priorWokeAt: d.now - 9000 };
    const row = { ...d.group.memberRecord(a!)!, heardIn: d.now };
    const restored = new ClassicGroup(record, [row], d.now + 100);
    expect(restored.nextDeadline()).toBe(d.now + 100 + SESSION);
    restored.onDeadlines(d.now + 100);
    expect([...restored.members.keys()]).toEqual([a]);
  });
});

describe("classic deadlines at scale", () => {
  it("removes 5,000 members whose sessions expire together in one alarm firing", () => {
    const n = 5000;
    const d = new Driver({ ...CONFIG, groupMaxSize: n });
    const ids = Array.from({ length: n }, () => d.newMember().memberId);
    d.advance(CONFIG.groupInitialRebalanceDelayMs * 2 + 1);
    expect(d.group.state).toBe("CompletingRebalance");
    const leader = d.group.leaderId!;
    d.sync(leader, 1, {});
    for (const id of ids) if (id !== leader) d.sync(id, 1);
    expect(d.group.state).toBe("Stable");
    const due = d.group.nextDeadline()!;
    expect(due).toBe(d.now + SESSION);
    d.group.onDeadlines(due);
    expect(d.group.members.size).toBe(0);
    expect(d.group.state).toBe("Empty");
    expect(d.group.nextDeadline()).toBeNull();
  });

  it("answers static lookups, common protocols and subscriptions from indexes that agree with a scan", () => {
    const protocols = ["range", "roundrobin", "sticky"];
    const subset = fc.subarray(protocols, { minLength: 1 });
    const op = fc.oneof(
      fc.record({
        join: fc.integer({ min: 0, max: 5 }),
        offer: subset,
        topics: fc.subarray(["t", "u"]),
        instance: fc.boolean(),
      }),
      fc.record({ leave: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ wait: fc.constantFrom(CONFIG.groupInitialRebalanceDelayMs, REBALANCE) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const d = new Driver();
        for (const o of ops) {
          const g = d.group;
          if ("join" in o) {
            const known = [...g.members.keys()][o.join];
            d.join(o.instance ? "" : (known ?? ""), {
              groupInstanceId: o.instance ? `i${o.join}` : null,
              protocols: o.offer.map((name) => ({ name, metadata: JSON.stringify({ topics: o.topics }) })),
            });
          } else if ("leave" in o) {
            const id = [...g.members.keys()][o.leave];
            if (id) d.leave({ memberId: id });
          } else d.advance(o.wait);
          for (let i = 0; i <= 5; i++) {
            const scan = [...g.members.values()].find((m) => m.groupInstanceId === `i${i}`)?.memberId;
            expect(g.staticMemberId(`i${i}`)).toBe(scan);
          }
          for (const exclude of [undefined, ...g.members.keys()]) {
            const scan = protocols.filter((name) =>
              [...g.members.values()].every(
                (m) => m.memberId === exclude || m.protocols.some((p) => p.name === name),
              ),
            );
            expect(commonProtocols(g, protocols, exclude)).toEqual(scan);
          }
          for (const topic of ["t", "u"]) {
            const scan = [...g.members.values()].some((m) => m.subscribedTopics?.includes(topic));
            expect(g.isSubscribed(topic)).toBe(scan);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe("DeadlineHeap lookups", () => {
  it("first, has and delete agree with a Map", () => {
    const key = fc.integer({ min: 0, max: 9 }).map((n) => `k${n}`);
    const op = fc.oneof(
      fc.record({ set: key, at: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ del: key }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const heap = new DeadlineHeap();
        const ref = new Map<string, number>();
        for (const o of ops) {
          if ("set" in o) {
            heap.set(o.set, o.at);
            ref.set(o.set, o.at);
          } else expect(heap.delete(o.del)).toBe(ref.delete(o.del));
          const first = heap.first();
          const min = ref.size === 0 ? null : Math.min(...ref.values());
          expect(first === undefined ? null : ref.get(first)).toBe(min);
          for (let i = 0; i < 10; i++) expect(heap.has(`k${i}`)).toBe(ref.has(`k${i}`));
        }
      }),
    );
  });
});

describe("Kafka's admin commit (generationId −1)", () => {
  it("is a simple commit: accepted without members, UNKNOWN_MEMBER_ID with them", () => {
    const adminCommit = { memberId: "", generationId: -1 };
    expect(checkCommitter(null, adminCommit, 0)).toBeNull();
    expect(checkCommitter(null, { generationId: -1 }, 0)).toBeNull();
    expect(checkCommitter(null, { memberEpoch: -1 }, 0)).toBeNull();
    const d = new Driver();
    expect(checkCommitter(d.group, adminCommit, d.now)).toBeNull();
    const [a] = d.stableGroup(1);
    expect(checkCommitter(d.group, adminCommit, d.now)?.code).toBe("UNKNOWN_MEMBER_ID");
    // A member id with −1 is a member's commit: checked, and −1 is no generation of the group.
    expect(checkCommitter(d.group, { memberId: a, generationId: -1 }, d.now)?.code).toBe(
      "ILLEGAL_GENERATION",
    );
    d.leave({ memberId: a });
    expect(d.group.state).toBe("Empty");
    expect(checkCommitter(d.group, adminCommit, d.now)).toBeNull();
  });
});
