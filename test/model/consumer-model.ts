/**
 * Consumer-protocol (API.md §5) model members: black boxes that know only what their heartbeat
 * responses told them. Each heartbeats once per heartbeat interval reporting exactly the assignment it
 * was last given (a member told to revoke stops owning at once), commits its partitions at the epoch
 * it was last given, leaves, dies silently, or restarts as a static member (−2, then a rejoin).
 */

import { REBALANCE_TIMEOUT_MS, type Reply, type Tps, type World } from "./world";

/** Errors a member that sends only what it was told must never get while its session lives. */
const FENCING = new Set([
  "FENCED_MEMBER_EPOCH",
  "UNKNOWN_MEMBER_ID",
  "STALE_MEMBER_EPOCH",
  "ILLEGAL_GENERATION",
]);

export class ConsumerMember {
  memberId: string | undefined;
  epoch = 0;
  owned: Tps = [];
  alive = true;
  lastHeard = 0;

  readonly name: string;
  readonly instanceId: string | null;

  constructor(name: string, instanceId: string | null) {
    this.name = name;
    this.instanceId = instanceId;
  }

  private subscriptions(world: World) {
    return Object.entries(world.topics).map(([name, partitions]) => ({ name, partitions }));
  }

  /** Joins (epoch 0; the first time with no member id: the coordinator issues one), or rejoins. */
  async join(world: World): Promise<void> {
    this.epoch = 0;
    this.owned = [];
    await this.heartbeat(world);
  }

  /** One heartbeat at the epoch it was told, owning what it was told; it adopts the answer. */
  async heartbeat(world: World): Promise<void> {
    const joining = this.epoch === 0 && {
      clientId: "model",
      rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
      subscribedTopics: this.subscriptions(world),
      serverAssignor: "uniform",
    };
    const r = await world.send("heartbeat", {
      ...(this.memberId === undefined ? {} : { memberId: this.memberId }),
      memberEpoch: this.epoch,
      groupInstanceId: this.instanceId,
      ownedPartitions: this.owned,
      ...joining,
    });
    if (r.ok) {
      this.memberId = r.value.memberId;
      this.epoch = r.value.memberEpoch;
      if (r.value.assignment) this.owned = r.value.assignment.partitions;
      this.lastHeard = world.t;
      return;
    }
    await this.refused(world, "heartbeat", r);
  }

  async commit(world: World): Promise<void> {
    const offsets = this.owned.flatMap((tp) =>
      tp.partitions.map((partition) => ({ topic: tp.topic, partition, offset: world.offset() })),
    );
    if (this.memberId === undefined || offsets.length === 0) return;
    const r = await world.send("commit", { memberId: this.memberId, memberEpoch: this.epoch, offsets });
    if (r.ok) world.ack(offsets);
    else await this.refused(world, `commit at epoch ${this.epoch}`, r);
  }

  async leave(world: World): Promise<void> {
    if (this.memberId === undefined) return this.die(world);
    const r = await world.send("heartbeat", {
      memberId: this.memberId,
      memberEpoch: -1,
      groupInstanceId: this.instanceId,
    });
    this.alive = false;
    if (r.ok) world.stopped(this.memberId!, this.name, world.t, true);
    else {
      world.stopped(this.memberId!, this.name, this.lastHeard, false);
      if (FENCING.has(r.code)) world.violate(r.code, `${this.name} leave at epoch ${this.epoch}`);
      else world.unexpected(this.name, "leave", r);
    }
  }

  /** A static member's process stops (−2: it will be back); the caller starts its successor. */
  async leaveTemporarily(world: World): Promise<void> {
    if (this.memberId === undefined) return this.die(world);
    const r = await world.send("heartbeat", {
      memberId: this.memberId,
      memberEpoch: -2,
      groupInstanceId: this.instanceId,
    });
    this.alive = false;
    if (r.ok) this.lastHeard = world.t;
    else if (FENCING.has(r.code)) world.violate(r.code, `${this.name} −2 leave at epoch ${this.epoch}`);
    else world.unexpected(this.name, "−2 leave", r);
  }

  die(world: World): void {
    this.alive = false;
    if (this.memberId !== undefined) world.stopped(this.memberId, this.name, this.lastHeard, false);
  }

  /** A fencing of a member that only sent what it was told is a violation; it then rejoins, as Kafka's. */
  private async refused(world: World, what: string, r: Reply & { ok: false }): Promise<void> {
    if (FENCING.has(r.code)) {
      world.violate(r.code, `${this.name} ${what} (member ${this.memberId?.slice(0, 8)})`);
      await this.join(world);
    } else world.unexpected(this.name, what, r);
  }
}

/** The consumer group under test: its members, as the model knows them. */
export class ConsumerModel {
  readonly members: ConsumerMember[] = [];
  private named = 0;
  private instances = 0;

  readonly world: World;

  constructor(world: World) {
    this.world = world;
  }

  live(): ConsumerMember[] {
    return this.members.filter((m) => m.alive);
  }

  pick(who: number): ConsumerMember | undefined {
    const live = this.live();
    return live.length === 0 ? undefined : live[who % live.length];
  }

  async join(isStatic: boolean, instanceId?: string): Promise<void> {
    if (this.live().length >= 8) return;
    const id = instanceId ?? (isStatic ? `inst-${++this.instances}` : null);
    const m = new ConsumerMember(`c${++this.named}${id ? `(${id})` : ""}`, id);
    this.members.push(m);
    this.world.log(`${m.name} joins`);
    await m.join(this.world);
    this.check();
  }

  /** Runs one schedule step (the event only; the caller then lets a heartbeat interval pass). */
  async step(step: string, who: number): Promise<void> {
    const w = this.world;
    const m = this.pick(who);
    if (step === "join" || step === "join-static") return this.join(step === "join-static");
    if (step === "evict" || step === "abort") return w.restart(step);
    if (step === "idle-evict") return w.restart("evict");
    if (!m) return;
    // A dynamic member's process restarting is a death: its successor would be a new member.
    w.log(
      `${m.name} ${step === "restart-static" && !m.instanceId ? "dies (a dynamic member restarts)" : step}`,
    );
    if (step === "leave") await m.leave(w);
    else if (step === "die") m.die(w);
    else if (step === "commit") await m.commit(w);
    else if (step === "restart-static") {
      if (!m.instanceId) return m.die(w);
      await m.leaveTemporarily(w);
      // The old process is gone; its successor with the same instance id takes its place.
      if (m.memberId !== undefined) w.stopped(m.memberId, m.name, m.lastHeard, false);
      await this.join(true, m.instanceId);
    }
    this.check();
  }

  /** One heartbeat interval: every live member heartbeats once, after the clock moved and the alarm ran. */
  async tick(ms: number): Promise<void> {
    await this.world.advance(ms);
    // Members heartbeat independently of one another: concurrently, each view checked as it changes.
    await Promise.all(this.live().map((m) => m.heartbeat(this.world).then(() => this.check())));
    if (this.world.expiryDue()) await this.world.checkExpiry();
  }

  check(): void {
    this.world.checkDisjoint(this.live().map((m) => ({ name: m.name, owned: m.owned })));
  }

  /** Whether the group has converged: a balanced cover by the live members, and nobody else listed. */
  async converged(): Promise<boolean> {
    if (!this.world.balanced(this.live().map((m) => m.owned))) return false;
    const listed = await this.world.checkExpiry();
    const live = this.live().map((m) => m.memberId);
    return listed !== null && listed.length === live.length && live.every((id) => listed.includes(id!));
  }
}
