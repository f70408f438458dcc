/**
 * The records a share consumer hands its handler, and how they are read: cohort hands out offset
 * ranges, the consumer reads those offsets from the user's `RecordSource` (the same interface the
 * consumer-group consumer reads through) and reports each assigned partition's log end so the
 * coordinator knows what exists.
 */

import type { ConsumedRecord, RecordSource, SourceRecord } from "./consumer.ts";
import { CohortError } from "./errors.ts";
import type { Settlement } from "./share-holdings.ts";
import type { AcquiredRecords, ReportedPartition } from "./share-types.ts";

/**
 * A record source for share consumers. `logEndOffset` (and `logStartOffset`, for a log with
 * retention) are optional: without `logEndOffset` the consumer asks `fetch` for zero records at the
 * last end it saw and reads the end from the answer. `MemoryLog` has both kinds.
 */
export interface ShareRecordSource<V = unknown> extends RecordSource<V> {
  logEndOffset?(topic: string, partition: number): number | Promise<number>;
  logStartOffset?(topic: string, partition: number): number | Promise<number>;
}

/** A record under an acquisition lock. Acknowledge it once; what is left unacknowledged follows the mode. */
export interface ShareRecord<V = unknown> extends ConsumedRecord<V> {
  /** 1 on the first delivery; the coordinator archives the record after SHARE_DELIVERY_COUNT_LIMIT. */
  readonly deliveryCount: number;
  /** How it was acknowledged so far (undefined: not yet). */
  readonly acknowledgement: Settlement | undefined;
  /** Processed: never delivered again. Sent with the next acquire (or renewal, or close). */
  accept(): void;
  /** Give it back for another delivery (archived once its delivery count reached the limit). */
  release(): void;
  /** Unprocessable: archived at once (the dead-letter list; `redrive` makes it available again). */
  reject(): void;
  /**
   * Restarts the lock now (KIP-1222 renew), with the other records still held from the same
   * acquisition; rejects with INVALID_RECORD_STATE when the lock is already gone.
   */
  renew(): Promise<void>;
}

/** What a record needs from its consumer. */
export interface RecordOwner {
  settle(record: HeldShareRecord<unknown>, type: Settlement): void;
  renew(record: HeldShareRecord<unknown>): Promise<void>;
}

export class HeldShareRecord<V> implements ShareRecord<V> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly value: V;
  readonly key?: string | null;
  readonly timestamp?: number;
  readonly deliveryCount: number;
  #acknowledgement: Settlement | undefined;
  readonly #owner: RecordOwner;

  constructor(owner: RecordOwner, range: AcquiredRecords, record: SourceRecord<V>) {
    this.#owner = owner;
    this.topic = range.topic;
    this.partition = range.partition;
    this.offset = record.offset;
    this.value = record.value;
    if (record.key !== undefined) this.key = record.key;
    if (record.timestamp !== undefined) this.timestamp = record.timestamp;
    this.deliveryCount = range.deliveryCount;
  }

  get acknowledgement(): Settlement | undefined {
    return this.#acknowledgement;
  }

  accept(): void {
    this.#settle("accept");
  }

  release(): void {
    this.#settle("release");
  }

  reject(): void {
    this.#settle("reject");
  }

  renew(): Promise<void> {
    if (this.#acknowledgement !== undefined)
      return Promise.reject(new Error(`record ${this.#where()} is acknowledged already; nothing to renew`));
    return this.#owner.renew(this as HeldShareRecord<unknown>);
  }

  #settle(type: Settlement): void {
    if (this.#acknowledgement !== undefined)
      throw new Error(`record ${this.#where()} is acknowledged already (${this.#acknowledgement})`);
    this.#acknowledgement = type;
    this.#owner.settle(this as HeldShareRecord<unknown>, type);
  }

  #where(): string {
    return `${this.topic}/${this.partition}@${this.offset}`;
  }
}

export const lockGone = (record: { topic: string; partition: number; offset: number }) =>
  new CohortError({
    code: "INVALID_RECORD_STATE",
    kafkaCode: 121,
    status: 409,
    message: `the lock on ${record.topic}/${record.partition}@${record.offset} is gone`,
  });

/** Each assigned partition's log end (and start, where the source knows it), read in parallel. */
export function reportLogEnds(
  source: ShareRecordSource<unknown>,
  partitions: readonly { topic: string; partition: number }[],
  known: Map<string, number>,
): Promise<ReportedPartition[]> {
  return Promise.all(
    partitions.map(async ({ topic, partition }) => {
      const key = `${topic}\u0000${partition}`;
      const logEndOffset = source.logEndOffset
        ? await source.logEndOffset(topic, partition)
        : (await source.fetch(topic, partition, known.get(key) ?? 0, 0)).logEndOffset;
      known.set(key, logEndOffset);
      const report: ReportedPartition = { topic, partition, logEndOffset };
      if (source.logStartOffset) report.logStartOffset = await source.logStartOffset(topic, partition);
      return report;
    }),
  );
}

/** One acquired range as read: records found, offsets the source skipped, offsets it returned nothing for. */
export interface RangeRead<V> {
  range: AcquiredRecords;
  records: SourceRecord<V>[];
  /** Skipped over by the source (compacted away, transaction markers): accepted, as Kafka's gaps. */
  gaps: number[];
  /** The source answered nothing from here on: released, to be read again on a later delivery. */
  missing: number[];
}

/** Reads [firstOffset, lastOffset] of a range, page by page, in offset order. */
export async function readRange<V>(source: RecordSource<V>, range: AcquiredRecords): Promise<RangeRead<V>> {
  const read: RangeRead<V> = { range, records: [], gaps: [], missing: [] };
  let next = range.firstOffset;
  while (next <= range.lastOffset) {
    const { records } = await source.fetch(range.topic, range.partition, next, range.lastOffset - next + 1);
    const from = next;
    const inRange = records
      .filter((r) => r.offset >= from && r.offset <= range.lastOffset)
      .sort((a, b) => a.offset - b.offset);
    if (inRange.length === 0) {
      // Records past the range mean the source skipped it all; none at all is no answer.
      const skipped = records.some((r) => r.offset > range.lastOffset);
      for (let o = next; o <= range.lastOffset; o++) (skipped ? read.gaps : read.missing).push(o);
      break;
    }
    for (const record of inRange) {
      if (record.offset < next) continue; // a duplicate in the page
      for (let o = next; o < record.offset; o++) read.gaps.push(o);
      read.records.push(record);
      next = record.offset + 1;
    }
  }
  return read;
}
