/**
 * Black-box share-group clients for the adversarial tests: a member knows only what the coordinator
 * told it (its id, epoch, assignment, the ranges it was handed), plus snapshots of the admin views
 * (describe, offsets, archived) to prove a refused request changed nothing.
 */

import { expect } from "vitest";
import { call, type Reply } from "../integration/helpers";
import { acknowledge, acquire, archived, shareHeartbeat } from "./share-helpers";

export type Range = { topic: string; partition: number; firstOffset: number; lastOffset: number };

export class Member {
  memberId = "";
  memberEpoch = 0;
  assigned: { topic: string; partitions: number[] }[] = [];
  /** Ranges this member was handed and has not settled, as it believes. */
  held: (Range & { deliveryCount: number; at: number })[] = [];
  readonly g: string;
  readonly topics: Record<string, number>;
  readonly wantId: string | undefined;
  constructor(g: string, topics: Record<string, number>, wantId?: string) {
    this.g = g;
    this.topics = topics;
    this.wantId = wantId;
  }

  async join(): Promise<Reply> {
    const res = await shareHeartbeat(this.g, {
      ...(this.wantId ? { memberId: this.wantId } : {}),
      memberEpoch: 0,
      subscribedTopics: Object.entries(this.topics).map(([name, partitions]) => ({ name, partitions })),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    this.memberId = res.body.memberId;
    this.memberEpoch = res.body.memberEpoch;
    this.assigned = res.body.assignment.partitions;
    return res;
  }

  async beat(): Promise<Reply> {
    const res = await shareHeartbeat(this.g, { memberId: this.memberId, memberEpoch: this.memberEpoch });
    if (res.status === 200) {
      this.memberEpoch = res.body.memberEpoch;
      this.assigned = res.body.assignment.partitions;
    }
    return res;
  }

  async leave(): Promise<Reply> {
    return shareHeartbeat(this.g, { memberId: this.memberId, memberEpoch: -1 });
  }

  async acquire(body: Record<string, unknown> = {}): Promise<Reply> {
    const res = await acquire(this.g, { memberId: this.memberId, maxRecords: 100, ...body });
    if (res.status === 200) for (const r of res.body.records) this.held.push({ ...r, at: Date.now() });
    return res;
  }

  async ack(entries: (Range & { type: string })[]): Promise<Reply> {
    return acknowledge(this.g, { memberId: this.memberId, acknowledgements: entries });
  }
}

export const r = (first: number, last: number, type: string, topic = "t", partition = 0) => ({
  topic,
  partition,
  firstOffset: first,
  lastOffset: last,
  type,
});

export const expand = (ranges: Range[]): string[] =>
  ranges.flatMap((x) =>
    Array.from(
      { length: x.lastOffset - x.firstOffset + 1 },
      (_, i) => `${x.topic}-${x.partition}:${x.firstOffset + i}`,
    ),
  );

/** Describe, offsets and archived of a group: what a 4xx must leave untouched. */
export async function snapshot(g: string): Promise<unknown> {
  const d = await call("GET", `/v1/groups/${g}`);
  const o = await call("GET", `/v1/groups/${g}/offsets`);
  const a = await archived(g);
  const strip = (x: any) => {
    if (x && typeof x === "object") {
      for (const k of Object.keys(x)) {
        if (k === "archivedAt" || k === "committedAt") delete x[k];
        else strip(x[k]);
      }
    }
    return x;
  };
  return strip({ d: [d.status, d.body], o: [o.status, o.body], a: [a.status, a.body] });
}

export const part = async (g: string, topic = "t", partition = 0) => {
  const d = await call("GET", `/v1/groups/${g}`);
  expect(d.status, JSON.stringify(d.body)).toBe(200);
  return d.body.partitions?.find((p: any) => p.topic === topic && p.partition === partition);
};

export const not5xx = (res: Reply) => {
  expect(res.status >= 500 && res.status !== 503, `${res.status} ${JSON.stringify(res.body)}`).toBe(false);
};
