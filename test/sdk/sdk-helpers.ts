/** Consumers for SDK tests: the real coordinator through exports.default.fetch, with fast retries. */

import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { CohortConsumer, type ConsumerOptions } from "../../src/client/consumer.ts";
import type { FetchLike } from "../../src/client/http.ts";
import { MemoryLog } from "../../src/client/memory-log.ts";

export const workerFetch: FetchLike = (input, init) => exports.default.fetch(input, init);

let counter = 0;
/** A POST the SDK sent: its path and parsed body. */
export interface Sent {
  path: string;
  body: Record<string, unknown>;
}

/** The coordinator, with every POST a client sends recorded in order. */
export function recorded(): { fetch: FetchLike; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetch: FetchLike = (input, init) => {
    if (init?.method === "POST" && typeof init.body === "string")
      sent.push({ path: new URL(String(input)).pathname, body: JSON.parse(init.body) });
    return workerFetch(input, init);
  };
  return { fetch, sent };
}

export const freshGroup = (prefix = "sdk") => `${prefix}-${Date.now().toString(36)}-${++counter}`;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true (the test fails with `what` after `timeoutMs`). */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) expect.fail(`timed out waiting until ${what}`);
    await sleep(25);
  }
}

export const TOPICS = { orders: 4 };
export const RECORDS_PER_PARTITION = 25;
export const newLog = () => MemoryLog.filled(TOPICS, RECORDS_PER_PARTITION, (t, p, o) => `${t}-${p}-${o}`);

/** Counts how often each record was processed, and by whom. */
export class Ledger {
  readonly counts = new Map<string, number>();
  readonly last = new Map<string, Map<number, number>>(); // consumer -> partition -> last offset

  record(consumer: string, partition: number, offset: number): void {
    const key = `${partition}/${offset}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const mine = this.last.get(consumer) ?? new Map<number, number>();
    mine.set(partition, offset);
    this.last.set(consumer, mine);
  }

  get distinct(): number {
    return this.counts.size;
  }

  get duplicates(): number {
    return [...this.counts.values()].reduce((sum, n) => sum + n - 1, 0);
  }
}

export function consumer(
  groupId: string,
  log: MemoryLog<string>,
  extra: Partial<ConsumerOptions<string>> = {},
): CohortConsumer<string> {
  return new CohortConsumer<string>({
    url: "http://cohort.test",
    fetch: workerFetch,
    retry: { retries: 2, initialDelayMs: 20, maxDelayMs: 100 },
    groupId,
    topics: TOPICS,
    source: log,
    maxRecords: 5,
    idleMs: 20,
    rebalanceTimeoutMs: 5_000,
    ...extra,
  });
}

/** A record source that counts, per partition, the fetches asked of it and the records it returned. */
export class CountingSource<V> {
  readonly fetches = new Map<number, number>();
  returned = 0;
  readonly #inner: MemoryLog<V>;
  readonly #onReturn: ((records: number) => void) | undefined;

  constructor(inner: MemoryLog<V>, onReturn?: (records: number) => void) {
    this.#inner = inner;
    this.#onReturn = onReturn;
  }

  async fetch(topic: string, partition: number, fromOffset: number, maxRecords: number) {
    this.fetches.set(partition, (this.fetches.get(partition) ?? 0) + 1);
    const result = await this.#inner.fetch(topic, partition, fromOffset, maxRecords);
    this.returned += result.records.length;
    this.#onReturn?.(result.records.length);
    return result;
  }
}
