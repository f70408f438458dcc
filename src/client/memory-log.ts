/**
 * An in-memory partitioned log implementing RecordSource: for tests of consumer code, demos and
 * examples. Records are appended per partition with consecutive offsets from 0.
 */

import type { RecordSource, SourceRecord } from "./consumer.ts";

export class MemoryLog<V = unknown> implements RecordSource<V> {
  readonly #partitions = new Map<string, SourceRecord<V>[]>();

  /** A log with `partitions` partitions per topic, each holding `records(topic, partition, i)` for i < count. */
  static filled<V>(
    topics: Record<string, number>,
    count: number,
    value: (topic: string, partition: number, offset: number) => V,
  ): MemoryLog<V> {
    const log = new MemoryLog<V>();
    for (const [topic, partitions] of Object.entries(topics)) {
      for (let p = 0; p < partitions; p++) {
        for (let i = 0; i < count; i++) log.append(topic, p, value(topic, p, i));
      }
    }
    return log;
  }

  /** Appends a record and returns its offset. */
  append(topic: string, partition: number, value: V): number {
    const records = this.#records(topic, partition);
    records.push({ offset: records.length, value, timestamp: Date.now() });
    return records.length - 1;
  }

  logEndOffset(topic: string, partition: number): number {
    return this.#records(topic, partition).length;
  }

  async fetch(topic: string, partition: number, fromOffset: number, maxRecords: number) {
    const records = this.#records(topic, partition);
    return { records: records.slice(fromOffset, fromOffset + maxRecords), logEndOffset: records.length };
  }

  #records(topic: string, partition: number): SourceRecord<V>[] {
    const key = `${topic}/${partition}`;
    let records = this.#partitions.get(key);
    if (!records) {
      records = [];
      this.#partitions.set(key, records);
    }
    return records;
  }
}
