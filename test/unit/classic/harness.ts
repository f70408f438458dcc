/**
 * A driver for the pure classic state machine with a fake clock: it plays the shell's part (tickets,
 * delivering completions, running the alarm at each deadline) so tests read as request sequences.
 */

import { ClassicGroup, type ClassicRecord } from "../../../src/core/classic/classic-group";
import { joinGroup } from "../../../src/core/classic/classic-join";
import type {
  ClassicContext,
  JoinRequest,
  JoinResponse,
  Step,
  SyncResponse,
} from "../../../src/core/classic/classic-protocol";
import { heartbeat, leaveGroup, syncGroup } from "../../../src/core/classic/classic-sync";
import { type Config, DEFAULT_CONFIG } from "../../../src/core/config";
import type { Result } from "../../../src/core/errors";

export const CONFIG: Config = {
  ...DEFAULT_CONFIG,
  groupMinSessionTimeoutMs: 100,
  groupMaxSessionTimeoutMs: 60_000,
  groupInitialRebalanceDelayMs: 300,
  groupMaxSize: 50,
};

export const SESSION = 1000;
export const REBALANCE = 5000;

export const consumerMeta = (topics: string[]) => JSON.stringify({ topics });
export const consumerAssignment = (topic: string, partitions: number[]) =>
  JSON.stringify({ partitions: [{ topic, partitions }] });

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** The object's SQLite rows: what each persist wrote, and the group a new life builds from them. */
export class Rows {
  private record: ClassicRecord | null = null;
  private readonly members = new Map<string, unknown>();

  /** Writes the rows the group changed, as the shell does after each request or alarm. */
  save(group: ClassicGroup): void {
    const dirty = group.takeDirty();
    if (dirty.group) this.record = clone(group.toRecord());
    for (const [id, row] of dirty.members) {
      if (row === undefined) this.members.delete(id);
      else this.members.set(id, clone(row));
    }
  }

  /** The group a restarted object restores at `now`. */
  load(now: number): ClassicGroup {
    return new ClassicGroup(clone(this.record!), [...this.members.values()].map(clone) as never[], now);
  }
}

/** Issued member ids stay unique across the Drivers of one test (a restarted object keeps issuing). */
let issuedIds = 0;

export class Driver {
  now = 1_000_000;
  readonly group: ClassicGroup;
  config: Config;
  private ticket = 0;
  /** Answers delivered to parked requests, by ticket. */
  readonly answers = new Map<number, Result<unknown>>();
  /** Every delivery in order, with its member and time: for model checks. */
  readonly deliveries: { ticket: number; memberId: string; at: number }[] = [];

  constructor(config: Config = CONFIG, group?: ClassicGroup) {
    this.config = config;
    this.group = group ?? ClassicGroup.simple("g", this.now);
  }

  ctx(): ClassicContext {
    return { now: this.now, config: this.config, ticket: ++this.ticket, newId: () => `id${++issuedIds}` };
  }

  private run<T>(handle: (ctx: ClassicContext) => Step<T>): Step<T> {
    const step = handle(this.ctx());
    this.collect();
    return step;
  }

  join(memberId: string, extra: Partial<JoinRequest> = {}): Step<JoinResponse> {
    const req: JoinRequest = {
      memberId,
      groupInstanceId: null,
      clientId: "client",
      clientHost: "",
      sessionTimeoutMs: SESSION,
      rebalanceTimeoutMs: REBALANCE,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: consumerMeta(["orders"]) }],
      ...extra,
    };
    return this.run((ctx) => joinGroup(this.group, req, ctx));
  }

  /** A dynamic member's two-step join (KIP-394); returns the parked or answered step and the id. */
  newMember(extra: Partial<JoinRequest> = {}): { memberId: string; step: Step<JoinResponse> } {
    const first = this.join("", extra);
    if (first.kind !== "reply" || first.result.ok || first.result.error.code !== "MEMBER_ID_REQUIRED") {
      throw new Error(`expected MEMBER_ID_REQUIRED, got ${JSON.stringify(first)}`);
    }
    const memberId = first.result.error.extra!.memberId as string;
    return { memberId, step: this.join(memberId, extra) };
  }

  sync(memberId: string, generationId: number, assignments: Record<string, string> = {}, instance?: string) {
    return this.run((ctx) =>
      syncGroup(
        this.group,
        {
          memberId,
          generationId,
          groupInstanceId: instance ?? null,
          assignments: Object.entries(assignments).map(([m, a]) => ({ memberId: m, assignment: a })),
        },
        ctx,
      ),
    ) as Step<SyncResponse>;
  }

  heartbeat(memberId: string, generationId: number, instance?: string) {
    return this.run((ctx) =>
      heartbeat(this.group, { memberId, generationId, groupInstanceId: instance ?? null }, ctx),
    );
  }

  leave(...members: { memberId?: string; groupInstanceId?: string }[]) {
    return this.run((ctx) => leaveGroup(this.group, { members }, ctx));
  }

  private collect(): void {
    for (const c of this.group.takeCompletions()) {
      this.answers.set(c.ticket, c.result);
      this.deliveries.push({ ticket: c.ticket, memberId: c.memberId, at: this.now });
    }
  }

  /** Moves the clock, running the alarm at every deadline on the way, as the shell's alarm does. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (let i = 0; i < 10_000; i++) {
      const next = this.group.nextDeadline();
      if (next === null || next > target) break;
      this.now = Math.max(this.now, next);
      this.group.onDeadlines(this.now);
      this.collect();
    }
    this.now = target;
  }

  /** The result of a step: its immediate reply, or what was delivered to its ticket (undefined: still parked). */
  result<T>(step: Step<T>): Result<T> | undefined {
    if (step.kind === "reply") return step.result;
    return this.answers.get(step.ticket) as Result<T> | undefined;
  }

  value<T>(step: Step<T>): T {
    const r = this.result(step);
    if (!r?.ok) throw new Error(`expected a value, got ${JSON.stringify(r)}`);
    return r.value;
  }

  code(step: Step<unknown>): string | undefined {
    const r = this.result(step);
    return r && !r.ok ? r.error.code : r ? "OK" : undefined;
  }

  /** Forms a Stable group of `n` dynamic members through the initial delay and the leader's sync. */
  stableGroup(n: number, assign: (memberId: string, i: number) => string = () => ""): string[] {
    const joins = Array.from({ length: n }, () => this.newMember());
    this.advance(this.config.groupInitialRebalanceDelayMs * (n + 1));
    const ids = joins.map((j) => j.memberId);
    const gen = this.group.generationId;
    const leader = this.group.leaderId!;
    const assignments = Object.fromEntries(ids.map((id, i) => [id, assign(id, i)]));
    for (const id of ids) if (id !== leader) this.sync(id, gen);
    this.sync(leader, gen, assignments);
    if (this.group.state !== "Stable") throw new Error(`group is ${this.group.state}`);
    return ids;
  }
}
