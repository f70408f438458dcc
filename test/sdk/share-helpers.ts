/**
 * Share consumers for SDK tests: the real coordinator through exports.default.fetch (the workers-sdk
 * project sets 1 s locks, a delivery limit of 3, `earliest`), and a ledger of every delivery handled.
 */

import { CohortAdmin } from "../../src/client/admin.ts";
import type { MemoryLog } from "../../src/client/memory-log.ts";
import { ShareConsumer, type ShareConsumerOptions } from "../../src/client/share-consumer.ts";
import type { ShareRecord } from "../../src/client/share-records.ts";
import { workerFetch } from "./sdk-helpers.ts";

/** SHARE_RECORD_LOCK_DURATION_MS and SHARE_DELIVERY_COUNT_LIMIT of the workers-sdk project. */
export const LOCK_MS = 1000;
export const DELIVERY_LIMIT = 3;

export const admin = new CohortAdmin({ url: "http://cohort.test", fetch: workerFetch });

export function shareConsumer(
  groupId: string,
  log: MemoryLog<string>,
  topics: Record<string, number>,
  extra: Partial<ShareConsumerOptions<string>> = {},
): ShareConsumer<string> {
  return new ShareConsumer<string>({
    url: "http://cohort.test",
    fetch: workerFetch,
    retry: { retries: 2, initialDelayMs: 20, maxDelayMs: 100 },
    groupId,
    topics,
    source: log,
    maxRecords: 3,
    maxWaitMs: 200,
    idleMs: 20,
    ...extra,
  });
}

export interface Delivery {
  consumer: string;
  partition: number;
  offset: number;
  deliveryCount: number;
  at: number;
}

/** Every delivery a handler saw, in order. */
export class Deliveries {
  readonly all: Delivery[] = [];

  note(consumer: string, record: ShareRecord<string>): void {
    this.all.push({
      consumer,
      partition: record.partition,
      offset: record.offset,
      deliveryCount: record.deliveryCount,
      at: Date.now(),
    });
  }

  of(partition: number, offset: number): Delivery[] {
    return this.all.filter((d) => d.partition === partition && d.offset === offset);
  }

  by(consumer: string): Delivery[] {
    return this.all.filter((d) => d.consumer === consumer);
  }

  /** Distinct records delivered. */
  get distinct(): number {
    return new Set(this.all.map((d) => `${d.partition}/${d.offset}`)).size;
  }
}
