/**
 * Classic-protocol (API.md §4) model members: black boxes with a client-side round-robin assignor.
 * A member joins (the KIP-394 round trip when dynamic), syncs (the leader with everyone's assignment),
 * heartbeats once per interval, rejoins on REBALANCE_IN_PROGRESS dropping what it owned (eager), and
 * commits at the generation it was given. Joins and syncs are long polls, so each member's join → sync
 * chain runs in the background while the schedule goes on; the model waits for answers to arrive.
 */

import { REBALANCE_TIMEOUT_MS, type Reply, SESSION_MS, type Tps, type World } from "./world";

/** Errors a member that sends only what it was told must never get while its session lives. */
const FENCING = new Set([
  "FENCED_MEMBER_EPOCH",
  "UNKNOWN_MEMBER_ID",
  "STALE_MEMBER_EPOCH",
  "ILLEGAL_GENERATION",
  "FENCED_INSTANCE_ID",
]);

const RETRIABLE = (r: Reply & { ok: false }) =>
  r.code === "COORDINATOR_NOT_AVAILABLE" || /abortAllDurableObjects/.test(r.code);

/** The leader's assignor: every partition of every topic a member subscribes to, round-robin by id. */
function roundRobin(
  members: { memberId: string; metadata: string }[],
  counts: Record<string, number>,
): Map<string, Tps> {
  const ids = members.map((m) => m.memberId).sort();
  const topics = new Map<string, number>();
  for (const m of members)
    for (const t of JSON.parse(m.metadata).topics as string[]) topics.set(t, counts[t] ?? 0);
  const plan = new Map<string, Tps>(ids.map((id) => [id, []]));
  let i = 0;
  for (const [topic, count] of [...topics].sort()) {
    for (let p = 0; p < count; p++) {
      const tps = plan.get(ids[i++ % ids.length]!)!;
      const tp = tps.find((x) => x.topic === topic) ?? tps[tps.push({ topic, partitions: [] }) - 1]!;
      tp.partitions.push(p);
    }
  }
  return plan;
}

export class ClassicMember {
  memberId = "";
  generation = -1;
  assignment: Tps = [];
  alive = true;
  lastHeard = 0;
  phase: "joining" | "stable" = "joining";
  /** A join → sync chain is in flight. */
  busy = false;

  readonly name: string;
  readonly instanceId: string | null;

  constructor(name: string, instanceId: string | null) {
    this.name = name;
    this.instanceId = instanceId;
  }

  private joinBody(world: World) {
    return {
      memberId: this.memberId,
      groupInstanceId: this.instanceId,
      clientId: "model",
      sessionTimeoutMs: SESSION_MS,
      rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
      protocolType: "consumer",
      protocols: [{ name: "roundrobin", metadata: JSON.stringify({ topics: Object.keys(world.topics) }) }],
    };
  }

  /** Joins, then syncs; returns when the member is stable again or must retry at its next tick. */
  async joinChain(model: ClassicModel): Promise<void> {
    const w = model.world;
    for (let attempt = 0; attempt < 5 && this.alive; attempt++) {
      let joined = await w.send("join", this.joinBody(w));
      model.progress++;
      if (!joined.ok && joined.code === "MEMBER_ID_REQUIRED") {
        this.memberId = joined.error.memberId;
        joined = await w.send("join", this.joinBody(w));
        model.progress++;
      }
      if (!joined.ok) return this.refused(w, "join", joined);
      const j = joined.value;
      this.memberId = j.memberId;
      this.generation = j.generationId;
      this.lastHeard = w.t;
      const plan = j.leaderId === j.memberId ? roundRobin(j.members, w.topics) : new Map<string, Tps>();
      const assignments = [...plan].map(([memberId, partitions]) => ({
        memberId,
        assignment: JSON.stringify({ partitions }),
      }));
      w.log(`${this.name} joined generation ${j.generationId}${plan.size ? " as leader" : ""}`);
      const synced = await w.send("sync", {
        memberId: this.memberId,
        generationId: this.generation,
        groupInstanceId: this.instanceId,
        assignments,
      });
      model.progress++;
      if (synced.ok) {
        this.lastHeard = w.t;
        this.phase = "stable";
        this.assignment = JSON.parse(synced.value.assignment || '{"partitions":[]}').partitions;
        model.check();
        return;
      }
      if (synced.code !== "REBALANCE_IN_PROGRESS") return this.refused(w, "sync", synced);
    }
  }

  async heartbeat(model: ClassicModel): Promise<void> {
    const w = model.world;
    const r = await w.send("classicHeartbeat", {
      memberId: this.memberId,
      generationId: this.generation,
      groupInstanceId: this.instanceId,
    });
    if (r.ok) {
      this.lastHeard = w.t;
      return;
    }
    if (r.code === "REBALANCE_IN_PROGRESS") {
      this.lastHeard = w.t;
      return model.rejoin(this);
    }
    this.refused(w, "heartbeat", r);
    if (!RETRIABLE(r)) model.rejoin(this);
  }

  async commit(world: World): Promise<void> {
    const offsets = this.assignment.flatMap((tp) =>
      tp.partitions.map((partition) => ({ topic: tp.topic, partition, offset: world.offset() })),
    );
    if (this.phase !== "stable" || offsets.length === 0) return;
    const r = await world.send("commit", {
      memberId: this.memberId,
      generationId: this.generation,
      groupInstanceId: this.instanceId,
      offsets,
    });
    if (r.ok) world.ack(offsets);
    // During a rebalance Kafka refuses commits with REBALANCE_IN_PROGRESS: the member learns at its heartbeat.
    else if (r.code !== "REBALANCE_IN_PROGRESS")
      this.refused(world, `commit at generation ${this.generation}`, r);
  }

  /** Fencing a member that did as told is a violation; either way it must rejoin from scratch. */
  private refused(world: World, what: string, r: Reply & { ok: false }): void {
    if (FENCING.has(r.code)) world.violate(r.code, `${this.name} ${what} at generation ${this.generation}`);
    else world.unexpected(this.name, what, r);
    if (r.code === "UNKNOWN_MEMBER_ID" && !this.instanceId) this.memberId = "";
    this.phase = "joining";
    this.assignment = [];
  }
}

/** The classic group under test: its members as the model knows them, and their requests in flight. */
export class ClassicModel {
  readonly members: ClassicMember[] = [];
  /** Responses received, to tell when the background chains have gone quiet. */
  progress = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private named = 0;
  private instances = 0;

  readonly world: World;

  constructor(world: World) {
    this.world = world;
  }

  live(): ClassicMember[] {
    return this.members.filter((m) => m.alive);
  }

  /** A member to act on: only one that is not waiting on a long poll. */
  pick(who: number): ClassicMember | undefined {
    const idle = this.live().filter((m) => !m.busy);
    return idle.length === 0 ? undefined : idle[who % idle.length];
  }

  /** Starts the member's join → sync chain in the background (eager: it owns nothing meanwhile). */
  rejoin(m: ClassicMember): void {
    m.phase = "joining";
    m.assignment = [];
    m.busy = true;
    const chain = m.joinChain(this).finally(() => {
      m.busy = false;
      this.inFlight.delete(chain);
    });
    this.inFlight.add(chain);
  }

  join(isStatic: boolean, instanceId?: string): void {
    if (this.live().length >= 8) return;
    const id = instanceId ?? (isStatic ? `inst-${++this.instances}` : null);
    const m = new ClassicMember(`k${++this.named}${id ? `(${id})` : ""}`, id);
    m.lastHeard = this.world.t;
    this.members.push(m);
    this.world.log(`${m.name} joins`);
    this.rejoin(m);
  }

  async step(step: string, who: number): Promise<void> {
    const w = this.world;
    if (step === "join" || step === "join-static") return this.join(step === "join-static");
    // The runtime evicts only an object with no request in flight: with long polls parked, it crashes.
    if (step === "idle-evict") return this.inFlight.size === 0 ? w.restart("evict") : undefined;
    if (step === "evict" || step === "abort")
      return w.restart(step === "evict" && this.inFlight.size === 0 ? "evict" : "abort");
    const m = this.pick(who);
    if (!m) return;
    // A dynamic member's process restarting is a death: its successor would be a new member.
    w.log(
      `${m.name} ${step === "restart-static" && !m.instanceId ? "dies (a dynamic member restarts)" : step}`,
    );
    if (step === "commit") return m.commit(w);
    m.alive = false;
    if (m.memberId === "") return;
    if (step === "leave") {
      const r = await w.send("leave", {
        members: [{ memberId: m.memberId, ...(m.instanceId ? { groupInstanceId: m.instanceId } : {}) }],
      });
      if (r.ok) w.stopped(m.memberId, m.name, w.t, true);
      else {
        w.unexpected(m.name, "leave", r);
        w.stopped(m.memberId, m.name, m.lastHeard, false);
      }
    } else w.stopped(m.memberId, m.name, m.lastHeard, false);
    // A static member's process restarts: its successor joins with the same instance id, no member id.
    if (step === "restart-static" && m.instanceId) this.join(true, m.instanceId);
    this.check();
  }

  /** One heartbeat interval: the clock moves, the alarm runs if due, every idle member heartbeats. */
  async tick(ms: number): Promise<void> {
    await this.world.advance(ms);
    const beats: Promise<void>[] = [];
    for (const m of this.live()) {
      if (m.busy) continue;
      if (m.phase === "joining") this.rejoin(m);
      else beats.push(m.heartbeat(this));
    }
    await Promise.all(beats);
    await this.settle();
    if (this.world.expiryDue()) await this.world.checkExpiry();
  }

  /** Waits until the long polls in flight stop answering (the rest are parked, legitimately). */
  async settle(): Promise<void> {
    let quiet = 0;
    while (this.inFlight.size > 0 && quiet < 2) {
      const before = this.progress;
      await new Promise((resolve) => setTimeout(resolve, 1));
      quiet = this.progress === before ? quiet + 1 : 0;
    }
  }

  /** After the schedule: members stop (a chain still parked is abandoned with its group). */
  stop(): void {
    for (const m of this.members) m.alive = false;
  }

  check(): void {
    this.world.checkDisjoint(
      this.live()
        .filter((m) => m.phase === "stable")
        .map((m) => ({ name: m.name, owned: m.assignment })),
    );
  }

  async converged(): Promise<boolean> {
    const live = this.live();
    if (live.some((m) => m.busy || m.phase !== "stable")) return false;
    if (new Set(live.map((m) => m.generation)).size > 1) return false;
    if (!this.world.balanced(live.map((m) => m.assignment))) return false;
    const listed = await this.world.checkExpiry();
    return listed !== null && listed.length === live.length && live.every((m) => listed.includes(m.memberId));
  }
}
