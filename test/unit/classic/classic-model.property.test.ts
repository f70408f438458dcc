/**
 * Model-based randomized test of the classic state machine: random schedules of join, sync,
 * heartbeat, leave, commit, static restarts, restarts of the object (the group rebuilt from the rows
 * persisted so far, parked requests lost) and clock advances over several clients, checking the
 * protocol's safety properties after every step and, at the end, that no parked request hangs.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JoinResponse, Step } from "../../../src/core/classic/classic-protocol";
import type { CommitAuth } from "../../../src/core/group";
import { checkCommitter } from "../../../src/core/offsets";
import { consumerAssignment, consumerMeta, Driver, Rows } from "./harness";

const CLIENTS = 4;
/** Clients 0 and 1 are static members (KIP-345); 2 and 3 dynamic. */
const instanceOf = (c: number) => (c < 2 ? `inst-${c}` : null);

type Cmd =
  | { t: "join"; c: number; topics: number }
  | { t: "sync" | "heartbeat" | "leave" | "restart"; c: number }
  | { t: "commit"; c: number; how: "current" | "stale" | "simple" }
  | { t: "advance"; ms: number }
  | { t: "reload" };

const client = fc.integer({ min: 0, max: CLIENTS - 1 });
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("join" as const),
      c: client,
      topics: fc.integer({ min: 0, max: 1 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("sync" as const), c: client }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("heartbeat" as const), c: client }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("leave" as const), c: client }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("restart" as const), c: client }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("commit" as const),
      c: client,
      how: fc.constantFrom("current", "stale", "simple"),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 2500 }) }),
  },
  { weight: 4, arbitrary: fc.constant({ t: "reload" as const }) },
);
const timeouts = fc.array(
  fc.record({ session: fc.constantFrom(200, 1000, 3000), rebalance: fc.constantFrom(500, 2000, 5000) }),
  { minLength: CLIENTS, maxLength: CLIENTS },
);

interface ClientState {
  memberId: string;
  generation: number;
}

function runSchedule(cmds: Cmd[], limits: { session: number; rebalance: number }[]): void {
  let d = new Driver();
  let g = d.group;
  const rows = new Rows();
  rows.save(g);
  /** When the object's current life began, and the members heard (join, sync, heartbeat) in it. */
  let lifeStart = d.now;
  let heard = new Set<string>();
  const clients: ClientState[] = Array.from({ length: CLIENTS }, () => ({ memberId: "", generation: -1 }));
  /** Open (parked) tickets: which client and member they belong to. */
  const open = new Map<number, { c: number; memberId: string; kind: "join" | "sync" }>();
  const lastActive = new Map<string, number>();
  let seenDeliveries = 0;
  let lastGeneration = g.generationId;

  const track = (c: number, kind: "join" | "sync", step: Step<unknown>, memberId: string) => {
    if (step.kind === "parked") open.set(step.ticket, { c, memberId, kind });
    else applyAnswer(c, kind, step.result);
  };
  const applyAnswer = (c: number, kind: "join" | "sync", result: any) => {
    const s = clients[c]!;
    if (result.ok && kind === "join") {
      const r = result.value as JoinResponse;
      s.memberId = r.memberId;
      s.generation = r.generationId;
    } else if (!result.ok && ["UNKNOWN_MEMBER_ID", "FENCED_INSTANCE_ID"].includes(result.error.code)) {
      s.memberId = "";
    } else if (!result.ok && result.error.code === "MEMBER_ID_REQUIRED") {
      s.memberId = result.error.extra.memberId;
    }
  };
  const settleDeliveries = () => {
    for (; seenDeliveries < d.deliveries.length; seenDeliveries++) {
      const done = d.deliveries[seenDeliveries]!;
      const waiting = open.get(done.ticket);
      expect(waiting, `ticket ${done.ticket} answered twice or never parked`).toBeDefined();
      open.delete(done.ticket);
      lastActive.set(done.memberId, done.at);
      heard.add(done.memberId);
      applyAnswer(waiting!.c, waiting!.kind, d.answers.get(done.ticket));
    }
  };

  const check = (auth?: CommitAuth) => {
    settleDeliveries();
    expect(g.generationId).toBeGreaterThanOrEqual(lastGeneration);
    lastGeneration = g.generationId;
    if (g.leaderId !== null) expect(g.members.has(g.leaderId)).toBe(true);
    if (g.members.size > 0 && g.state !== "PreparingRebalance") expect(g.leaderId).not.toBeNull();
    if (g.members.size === 0) expect(["Empty", "PreparingRebalance"]).toContain(g.state);
    if (auth) {
      const accepted = checkCommitter(g, auth, d.now) === null;
      // Kafka's rule: no generation (or −1, as its clients send) is accepted on an Empty group only;
      // any other commit must come from a member of the current generation outside CompletingRebalance.
      const noGeneration = (auth.generationId ?? -1) < 0;
      const legit =
        (noGeneration && g.state === "Empty") ||
        (g.members.has(auth.memberId ?? "") &&
          auth.generationId === g.generationId &&
          g.state !== "CompletingRebalance");
      if (accepted) expect(legit).toBe(true);
    }
    const parkedMembers = new Set([...open.values()].map((o) => o.memberId));
    for (const [id, m] of g.members) {
      if (parkedMembers.has(id)) continue;
      const since = lastActive.get(id);
      expect(since, `member ${id} appeared without a request`).toBeDefined();
      expect(d.now, `member ${id} outlived its session`).toBeLessThan(since! + m.sessionTimeoutMs);
    }
  };

  /** The object restarts: parked requests get the shell's retriable 503; sessions follow the restore rule. */
  const reload = () => {
    const now = d.now;
    const retry = { ok: false, error: { code: "COORDINATOR_NOT_AVAILABLE", message: "restarted" } };
    for (const o of open.values()) applyAnswer(o.c, o.kind, retry);
    open.clear();
    d = new Driver(d.config, rows.load(now));
    d.now = now;
    g = d.group;
    seenDeliveries = 0;
    // Heard in the life that ended: one fresh session from the new life. Not heard: unchanged.
    const woke = Math.max(now, lifeStart + 1);
    for (const id of heard) if (g.members.has(id)) lastActive.set(id, woke);
    lifeStart = woke;
    heard = new Set();
  };

  for (const command of cmds) {
    if (command.t === "advance" || command.t === "reload") {
      if (command.t === "advance") d.advance(command.ms);
      else reload();
      check();
      rows.save(g);
      continue;
    }
    const c = command.c;
    const s = clients[c]!;
    const instance = instanceOf(c);
    const { session, rebalance } = limits[c]!;
    // Only a join, sync or heartbeat keeps a session (API.md §4).
    if (s.memberId !== "" && ["join", "sync", "heartbeat"].includes(command.t)) {
      lastActive.set(s.memberId, d.now);
      heard.add(s.memberId);
    }
    let auth: CommitAuth | undefined;
    switch (command.t) {
      case "join": {
        const step = d.join(s.memberId, {
          groupInstanceId: instance,
          clientId: `c${c}`,
          sessionTimeoutMs: session,
          rebalanceTimeoutMs: rebalance,
          protocols: [{ name: "range", metadata: consumerMeta(command.topics ? ["a", "b"] : ["a"]) }],
        });
        const memberId = s.memberId || (instance ? (g.staticMemberId(instance) ?? "") : "");
        if (memberId) {
          lastActive.set(memberId, d.now);
          heard.add(memberId);
        }
        track(c, "join", step, memberId);
        break;
      }
      case "restart":
        // The client process restarts: a static member rejoins with no member id, a dynamic one starts over.
        s.memberId = "";
        break;
      case "sync": {
        if (s.memberId === "") break;
        const assignments =
          g.leaderId === s.memberId
            ? Object.fromEntries([...g.members.keys()].map((id, i) => [id, consumerAssignment("a", [i])]))
            : {};
        track(c, "sync", d.sync(s.memberId, s.generation, assignments, instance ?? undefined), s.memberId);
        break;
      }
      case "heartbeat":
        if (s.memberId === "") break;
        applyAnswer(c, "sync", d.result(d.heartbeat(s.memberId, s.generation, instance ?? undefined)));
        break;
      case "leave":
        if (s.memberId === "") break;
        d.leave({ memberId: s.memberId });
        s.memberId = "";
        break;
      case "commit":
        auth =
          command.how === "simple"
            ? {}
            : {
                memberId: s.memberId,
                generationId: s.generation - (command.how === "stale" ? 1 : 0),
                groupInstanceId: instance,
              };
        break;
    }
    check(auth);
    rows.save(g);
  }
  // Liveness: with every client silent, every parked request is answered and the group empties.
  d.advance(120_000);
  settleDeliveries();
  expect([...open.keys()]).toEqual([]);
  expect(g.memberCount).toBe(0);
}

describe("classic state machine, model-based", () => {
  it("keeps generation, leadership, commit fencing and sessions right under 500 random schedules", () => {
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 5, maxLength: 60 }), timeouts, (cmds, limits) =>
        runSchedule(cmds, limits),
      ),
      { numRuns: 500 },
    );
  }, 30_000);
});
