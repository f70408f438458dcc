/**
 * The world a model schedule runs in: one group's Durable Object driven over HTTP (through the Worker)
 * or over its RPC surface, a coordinator clock the test moves (src/core/clock.ts), the object's real
 * alarm fired when its time has come, restarts (evict, abort), and the ledger of what the model
 * expects: acknowledged commits, and which members are dead since when. Violations are recorded,
 * not thrown, so that one schedule reports everything it broke.
 */

import {
  abortAllDurableObjects,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { advanceClock, now } from "../../src/core/clock";

/** One heartbeat interval of virtual time; sessions are three of them (vitest.config.ts). */
export const TICK_MS = 1000;
export const SESSION_MS = 3000;
export const REBALANCE_TIMEOUT_MS = 3000;

export type Tps = { topic: string; partitions: number[] }[];

export type Reply = { ok: true; value: any } | { ok: false; code: string; error?: any };

export type Transport = "http" | "rpc";

type Op = "heartbeat" | "join" | "sync" | "classicHeartbeat" | "leave" | "commit" | "fetch" | "describe";

const rpcMethod: Record<Op, string> = {
  heartbeat: "consumerHeartbeat",
  join: "classicJoin",
  sync: "classicSync",
  classicHeartbeat: "classicHeartbeat",
  leave: "classicLeave",
  commit: "commitOffsets",
  fetch: "fetchOffsets",
  describe: "describe",
};

const httpRoute: Record<Op, [string, string]> = {
  heartbeat: ["POST", "/heartbeat"],
  join: ["POST", "/classic/join"],
  sync: ["POST", "/classic/sync"],
  classicHeartbeat: ["POST", "/classic/heartbeat"],
  leave: ["POST", "/classic/leave"],
  commit: ["POST", "/offsets"],
  fetch: ["GET", "/offsets"],
  describe: ["GET", ""],
};

/** Fields the Worker adds after validation, so RPC sees what HTTP would hand the object. */
const rpcDefaults: Partial<Record<Op, Record<string, unknown>>> = {
  heartbeat: { clientHost: "" },
  join: { clientHost: "" },
};

export interface Violation {
  kind: string;
  detail: string;
}

/** The partitions of each topic, `topic-partition` keys. */
export const keysOf = (tps: Tps): string[] =>
  tps.flatMap((tp) => tp.partitions.map((p) => `${tp.topic}-${p}`));

let groups = 0;

export class World {
  readonly groupId: string;
  /** Virtual ms since this schedule started. */
  t = 0;
  readonly violations: Violation[] = [];
  readonly trace: string[] = [];
  /** The last offset acknowledged per `topic-partition`. */
  readonly acked = new Map<string, number>();
  private nextOffset = 1;
  /** Members that stopped talking (died or left): member id → the last time the server heard from it. */
  readonly gone = new Map<string, { name: string; lastHeard: number; left: boolean }>();

  readonly topics: Record<string, number>;
  readonly transport: Transport;

  constructor(topics: Record<string, number>, transport: Transport, prefix: string) {
    this.topics = topics;
    this.transport = transport;
    this.groupId = `${prefix}-${Date.now().toString(36)}-${++groups}`;
  }

  /** Every partition the group's members subscribe to (they all subscribe to every topic). */
  allPartitions(): string[] {
    return Object.entries(this.topics).flatMap(([t, n]) => Array.from({ length: n }, (_, p) => `${t}-${p}`));
  }

  stub() {
    return env.GROUPS.getByName(this.groupId);
  }

  log(line: string): void {
    this.trace.push(`t=${this.t / 1000}s ${line}`);
  }

  violate(kind: string, detail: string): void {
    this.violations.push({ kind, detail: `t=${this.t / 1000}s ${detail}` });
    this.log(`VIOLATION ${kind}: ${detail}`);
  }

  /** Sends one request; a thrown error or a 5xx other than 503 is reported as such, never thrown. */
  async send(op: Op, body?: unknown): Promise<Reply> {
    const r = await this.sendOnce(op, body);
    if (this.verbose) this.log(`${op} ${JSON.stringify(body)} -> ${JSON.stringify(r)}`);
    return r;
  }

  /** Logs every request and reply (for reading one schedule closely). */
  verbose = false;

  private async sendOnce(op: Op, body?: unknown): Promise<Reply> {
    try {
      if (this.transport === "rpc") {
        const args =
          op === "fetch" ? [null] : op === "describe" ? [] : [{ ...rpcDefaults[op], ...(body as object) }];
        const stub = this.stub() as unknown as Record<string, (...a: unknown[]) => Promise<any>>;
        const r = await stub[rpcMethod[op]]!(this.groupId, ...args);
        return r.ok
          ? { ok: true, value: r.value }
          : { ok: false, code: r.error.code, error: { ...r.error, ...r.error.extra } };
      }
      const [method, suffix] = httpRoute[op];
      const res = await exports.default.fetch(`http://cohort.test/v1/groups/${this.groupId}${suffix}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: any;
      try {
        parsed = JSON.parse(text);
      } catch {
        return { ok: false, code: `HTTP_${res.status}` };
      }
      if (res.status === 200) return { ok: true, value: parsed };
      return { ok: false, code: parsed?.error?.code ?? `HTTP_${res.status}`, error: parsed?.error };
    } catch (err) {
      return { ok: false, code: `THROWN ${String(err).slice(0, 120)}` };
    }
  }

  /** Flags a reply no model member should ever see; 503 is allowed (restarts), the caller retries. */
  unexpected(who: string, op: string, r: Reply & { ok: false }): void {
    if (r.code === "COORDINATOR_NOT_AVAILABLE" || r.code === "COORDINATOR_LOAD_IN_PROGRESS") return;
    if (r.code.startsWith("THROWN") && /abortAllDurableObjects/.test(r.code)) return;
    this.violate("unexpected-reply", `${who} ${op}: ${r.code}`);
  }

  /** Moves the coordinator's clock by `ms`, then fires the object's alarm if its time has come. */
  async advance(ms: number): Promise<void> {
    advanceClock(ms);
    this.t += ms;
    await this.fireAlarmIfDue();
  }

  async fireAlarmIfDue(): Promise<void> {
    const at = await runInDurableObject(this.stub(), (_o, state) => state.storage.getAlarm());
    if (at !== null && at <= now()) await runDurableObjectAlarm(this.stub());
  }

  /** When the object was restarted (virtual ms): a restart may restart sessions, once (see `expiresBy`). */
  private readonly restarts: number[] = [];

  async restart(kind: "evict" | "abort"): Promise<void> {
    this.log(kind);
    this.restarts.push(this.t);
    if (kind === "abort") return abortAllDurableObjects();
    // Evicting needs a running object: wake it first (a no-op inside it).
    await runInDurableObject(this.stub(), () => {});
    await evictDurableObject(this.stub());
  }

  /** A fresh offset for a commit; offsets only grow, so the last acknowledged one is what must stay. */
  offset(): number {
    return this.nextOffset++;
  }

  ack(offsets: { topic: string; partition: number; offset: number }[]): void {
    for (const o of offsets) this.acked.set(`${o.topic}-${o.partition}`, o.offset);
  }

  /** Records that a member stopped talking: it must be gone one alarm cycle after its session. */
  stopped(memberId: string, name: string, lastHeard: number, left: boolean): void {
    this.gone.set(memberId, { name, lastHeard, left });
  }

  /**
   * When a member last heard at `lastHeard` must be gone: its session plus one alarm cycle. The object
   * keeps no heartbeat time in storage, so a restart gives a member heard in the life before it a
   * fresh session (as Kafka's coordinator does on failover) — once: a member not heard since the last
   * restart keeps its deadline. The restored object is up by the next tick after a restart step.
   */
  expiresBy(lastHeard: number): number {
    const restart = this.restarts.find((r) => r >= lastHeard && r <= lastHeard + SESSION_MS);
    return (restart === undefined ? lastHeard : restart + TICK_MS) + SESSION_MS + TICK_MS;
  }

  /**
   * Describes the group and flags every member the server still lists after it left, or longer than
   * one alarm cycle (a tick) after its session ended. Returns the listed member ids (null: no group).
   */
  async checkExpiry(): Promise<string[] | null> {
    const d = await this.send("describe");
    if (!d.ok && d.code !== "GROUP_ID_NOT_FOUND") {
      this.unexpected("test", "describe", d);
      return null;
    }
    const listed: string[] = d.ok ? d.value.members.map((m: { memberId: string }) => m.memberId) : [];
    for (const id of listed) {
      const g = this.gone.get(id);
      if (!g) continue;
      if (g.left) this.violate("left-member-listed", `${g.name} left but is still a member`);
      else if (this.t > this.expiresBy(g.lastHeard))
        this.violate(
          "dead-member-outlived-session",
          `${g.name} last heard at ${g.lastHeard / 1000}s is still a member at ${this.t / 1000}s`,
        );
      if (g.left || this.t > this.expiresBy(g.lastHeard)) this.gone.delete(id);
    }
    for (const id of [...this.gone.keys()]) if (!listed.includes(id)) this.gone.delete(id);
    return listed;
  }

  /** Whether some stopped member is past the point where the server must have dropped it. */
  expiryDue(): boolean {
    for (const g of this.gone.values()) if (g.left || this.t > this.expiresBy(g.lastHeard)) return true;
    return false;
  }

  /** Fetches every offset back and flags an acknowledged commit that is not what the group holds. */
  async checkCommits(): Promise<void> {
    const r = await this.send("fetch");
    if (!r.ok) return this.unexpected("test", "fetch offsets", r);
    const held = new Map<string, number>(
      r.value.offsets.map((o: { topic: string; partition: number; offset: number }) => [
        `${o.topic}-${o.partition}`,
        o.offset,
      ]),
    );
    for (const [key, offset] of this.acked)
      if (held.get(key) !== offset)
        this.violate(
          "acked-commit-lost",
          `${key}: acknowledged ${offset}, fetched ${held.get(key) ?? "none"}`,
        );
  }

  /** Flags a partition that two live members were told they own at once. */
  checkDisjoint(views: { name: string; owned: Tps }[]): void {
    const owner = new Map<string, string>();
    for (const v of views)
      for (const key of keysOf(v.owned)) {
        const other = owner.get(key);
        if (other) this.violate("partition-told-twice", `${key} told to ${other} and ${v.name}`);
        owner.set(key, v.name);
      }
  }

  /** Whether the live members' views are a balanced cover of every partition (counts within one). */
  balanced(views: Tps[]): boolean {
    const all = this.allPartitions();
    if (views.length === 0) return true;
    const held = views.flatMap(keysOf);
    if (held.length !== all.length || new Set(held).size !== all.length) return false;
    const counts = views.map((v) => keysOf(v).length);
    return Math.max(...counts) - Math.min(...counts) <= 1;
  }
}
