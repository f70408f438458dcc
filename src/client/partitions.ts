/**
 * Topic-partitions as the consumer handles them: a flat list of {topic, partition} with a string key,
 * converted to and from the wire's per-topic lists ({topic, partitions: [...]}).
 */

import type { TopicPartitionList } from "./types.ts";

export interface TopicPartition {
  topic: string;
  partition: number;
}

export const keyOf = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

/** Per-topic lists → flat, sorted by topic then partition. */
export function flatten(lists: readonly TopicPartitionList[]): TopicPartition[] {
  const flat = lists.flatMap((l) => l.partitions.map((partition) => ({ topic: l.topic, partition })));
  return sortPartitions(flat);
}

/** Flat → per-topic lists with ascending partitions, topics sorted: the shape cohort reads and returns. */
export function group(partitions: Iterable<TopicPartition>): TopicPartitionList[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = byTopic.get(topic) ?? [];
    list.push(partition);
    byTopic.set(topic, list);
  }
  return [...byTopic.keys()].sort().map((topic) => ({
    topic,
    partitions: byTopic.get(topic)!.sort((a, b) => a - b),
  }));
}

export function sortPartitions(partitions: TopicPartition[]): TopicPartition[] {
  return partitions.sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
  );
}

/** The partitions of `a` that are not in `b`. */
export function minus(a: Iterable<TopicPartition>, b: Iterable<TopicPartition>): TopicPartition[] {
  const keys = new Set([...b].map(keyOf));
  return sortPartitions([...a].filter((tp) => !keys.has(keyOf(tp))));
}

/** "orders:0,1 payments:3", for logs and the demo. */
export function describePartitions(partitions: Iterable<TopicPartition>): string {
  const lists = group(partitions);
  return lists.length === 0 ? "(none)" : lists.map((l) => `${l.topic}:${l.partitions.join(",")}`).join(" ");
}
