/**
 * Black-box observation of SDK consumers for the adversarial tests: every handler call recorded with
 * its member, partition, offset and start/end times, so overlaps (two handlers on one partition at
 * once) and gaps (records never handed out) are found from outside, whatever the SDK does inside.
 */

import { expect } from "vitest";
import { CohortAdmin } from "../../src/client/admin.ts";
import { HttpTransport } from "../../src/client/http.ts";
import { workerFetch } from "../sdk/sdk-helpers";

export interface HandlerCall {
  member: string;
  partition: number;
  offset: number;
  start: number;
  end: number;
}

export class CallLog {
  readonly calls: HandlerCall[] = [];

  /** Runs `work` as one handler call of `member` on a record, recording when it started and ended. */
  async around<T>(member: string, partition: number, offset: number, work: () => Promise<T> | T) {
    const call: HandlerCall = { member, partition, offset, start: performance.now(), end: Number.NaN };
    this.calls.push(call);
    try {
      return await work();
    } finally {
      call.end = performance.now();
    }
  }

  /** Pairs of calls on one partition whose intervals overlap (an unfinished call overlaps everything after it). */
  overlaps(): [HandlerCall, HandlerCall][] {
    const found: [HandlerCall, HandlerCall][] = [];
    const byPartition = new Map<number, HandlerCall[]>();
    for (const c of this.calls) byPartition.set(c.partition, [...(byPartition.get(c.partition) ?? []), c]);
    for (const calls of byPartition.values()) {
      const sorted = [...calls].sort((a, b) => a.start - b.start);
      for (let i = 0; i < sorted.length; i++)
        for (let j = i + 1; j < sorted.length; j++) {
          const a = sorted[i]!;
          const b = sorted[j]!;
          const aEnd = Number.isNaN(a.end) ? Number.POSITIVE_INFINITY : a.end;
          if (b.start < aEnd) found.push([a, b]);
        }
    }
    return found;
  }

  /** Offsets of `partition` never handled, below `end`. */
  missing(partition: number, end: number): number[] {
    const seen = new Set(this.calls.filter((c) => c.partition === partition).map((c) => c.offset));
    return Array.from({ length: end }, (_, i) => i).filter((o) => !seen.has(o));
  }
}

export const admin = () =>
  new CohortAdmin(
    new HttpTransport({
      url: "http://cohort.test",
      fetch: workerFetch,
      retry: { retries: 2, initialDelayMs: 20, maxDelayMs: 100 },
    }),
  );

/** A raw /v1 request: status and parsed body, for driving the coordinator as a hostile or crashed peer. */
export async function raw(method: string, path: string, body?: unknown) {
  const response = await workerFetch(`http://cohort.test${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

/** The group's committed offset of one partition (-1 when none). */
export async function committedOf(group: string, topic: string, partition: number) {
  const { offsets } = await admin().fetchOffsets(group, [topic]);
  return offsets.find((o) => o.partition === partition)?.offset ?? -1;
}

export function expectNoOverlap(log: CallLog) {
  const overlaps = log
    .overlaps()
    .map(([a, b]) => `${a.member}@${a.partition}/${a.offset} ∩ ${b.member}@${b.partition}/${b.offset}`);
  expect(overlaps).toEqual([]);
}

/** A record that takes as long as the test says, its handler staying alive (heartbeat) meanwhile. */
export class Gate {
  #open: () => void = () => {};
  readonly #opened = new Promise<void>((resolve) => {
    this.#open = resolve;
  });

  async hold(heartbeat: () => Promise<void>): Promise<void> {
    const beat = setInterval(() => void heartbeat(), 100);
    await this.#opened;
    clearInterval(beat);
  }

  open(): void {
    this.#open();
  }
}
