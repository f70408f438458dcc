/**
 * The static-membership adversary's client model (test/consumer/adversary-static*.test.ts): members as
 * they were told over HTTP, checked after every answer that no partition is held twice, with the group's
 * object restarted (evicted or aborted) between steps, and the history's departures and timeline.
 */

import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { expect } from "vitest";
import { advanceClock } from "../../src/core/clock";
import { call, type Reply } from "../integration/helpers";
import { heartbeat, partitionsOf, stub } from "./consumer-helpers";

export type Restart = "none" | "evict" | "abort";
export const RESTARTS: Restart[] = ["none", "evict", "abort"];
/** Answers after which a client gives up every partition it holds. */
export const FENCED = ["UNKNOWN_MEMBER_ID", "FENCED_MEMBER_EPOCH", "FENCED_INSTANCE_ID"];

export async function restart(g: string, kind: Restart): Promise<void> {
  if (kind === "evict") await evictDurableObject(stub(g));
  if (kind === "abort") await abortAllDurableObjects();
}

/**
 * The group as its members were told: every 200 heartbeat replaces what that member may use; a member
 * that left or was refused as unknown/fenced is dropped. After every answer no partition of "t" may be
 * held by two members.
 */
export class Group {
  told = new Map<string, { epoch: number; owned: number[] }>();
  readonly g: string;
  readonly kind: Restart;
  constructor(g: string, kind: Restart) {
    this.g = g;
    this.kind = kind;
  }

  private check(): void {
    const all = [...this.told.values()].flatMap((m) => m.owned);
    expect(new Set(all).size, JSON.stringify([...this.told])).toBe(all.length);
  }

  async send(body: Record<string, unknown>): Promise<Reply> {
    const res = await heartbeat(this.g, body);
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
    const id = (res.body?.memberId ?? body.memberId) as string;
    if (res.status === 200 && res.body.memberEpoch >= 0) {
      this.told.set(id, { epoch: res.body.memberEpoch, owned: partitionsOf(res.body.assignment.partitions) });
    } else if (res.status === 200 || FENCED.includes(res.body?.error?.code)) {
      this.told.delete(id);
    }
    this.check();
    await restart(this.g, this.kind);
    return res;
  }

  async join(memberId: string, instance?: string | null, partitions = 6, extra = {}): Promise<Reply> {
    return this.send({ ...joining(memberId, instance, partitions), ...extra });
  }

  /** A heartbeat reporting what the member was last told (so it revokes at once). */
  async beat(memberId: string, extra: Record<string, unknown> = {}): Promise<Reply> {
    const m = this.told.get(memberId);
    if (!m) throw new Error(`${memberId} holds nothing`);
    const res = await this.send({
      memberId,
      memberEpoch: m.epoch,
      ownedPartitions: [{ topic: "t", partitions: m.owned }],
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res;
  }

  async leave(memberId: string, epoch: -1 | -2, instance?: string): Promise<Reply> {
    const res = await this.send({ memberId, memberEpoch: epoch, groupInstanceId: instance });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.memberEpoch).toBe(epoch);
    return res;
  }

  /**
   * Beats every member still told something until the group is Stable and each member was told the
   * assignment the group describes for it; returns the description.
   */
  async settle(): Promise<any> {
    for (let round = 0; round < 8; round++) {
      for (const id of [...this.told.keys()]) await this.beat(id);
      const d = await describeGroup(this.g);
      const agreed = d.members.every(
        (m: any) => m.memberEpoch < 0 || `${this.owned(m.memberId)}` === `${partitionsOf(m.assignment)}`,
      );
      if (d.state === "Stable" && agreed) return d;
    }
    throw new Error(`${this.g} did not settle: ${JSON.stringify(await describeGroup(this.g))}`);
  }

  owned(memberId: string): number[] {
    return [...(this.told.get(memberId)?.owned ?? [])].sort((a, b) => a - b);
  }
}

/** A join (memberEpoch 0) subscribing to "t". */
export const joining = (memberId: string, instance: string | null | undefined, partitions: number) => ({
  memberId,
  memberEpoch: 0,
  groupInstanceId: instance,
  subscribedTopics: [{ name: "t", partitions }],
  ownedPartitions: [],
});

export const describeGroup = async (g: string) => (await call("GET", `/v1/groups/${g}`)).body;

export async function events(g: string): Promise<any[]> {
  const res = await call("GET", `/v1/groups/${g}/events?limit=1000`);
  expect(res.status).toBe(200);
  return res.body.events;
}

/** The member events as [type, memberId, reason]. */
export const departures = async (g: string) =>
  (await events(g))
    .filter((e) => e.type === "member_left" || e.type === "member_fenced")
    .map((e) => [e.type, e.memberId, e.detail?.reason]);

export const instanceOf = (d: any, instance: string) =>
  d.members.filter((m: any) => m.groupInstanceId === instance);

/** Past the 1.5 s session of this project on the coordinator's clock, keeping `alive` beating; fires the alarm. */
export async function expireSessions(group: Group, alive: string[]): Promise<void> {
  for (let i = 0; i < 4; i++) {
    advanceClock(500);
    for (const id of alive) await group.beat(id);
  }
  await runDurableObjectAlarm(stub(group.g) as never);
}

/** The members the history's member events leave in the group, replayed oldest first. */
export async function replayedMembers(g: string): Promise<string[]> {
  const present = new Set<string>();
  for (const e of await events(g)) {
    if (e.type === "member_joined") present.add(e.memberId);
    if (e.type === "member_left" || e.type === "member_fenced") present.delete(e.memberId);
  }
  return [...present].sort();
}

export const liveMembers = async (g: string) =>
  (await describeGroup(g)).members
    .filter((m: any) => m.memberEpoch >= 0)
    .map((m: any) => m.memberId)
    .sort();
