/**
 * Sets of partitions per topic as the consumer protocol keeps them: `topic -> ascending partitions`,
 * JSON-friendly so member rows persist them as they are. Every function returns a new map with no
 * empty topics, so two equal sets always serialize alike (and compare with `samePartitions`).
 *
 * Topics are client strings (`__proto__` and `constructor` are valid names): every map made here has
 * a null prototype (dict.ts) and every lookup reads own keys only, so a map that came from elsewhere
 * (a literal `{}`, a parsed row) is read safely too; `partitionMapFrom` makes such a map safe to write.
 */

import { type Dict, dict, own } from "../dict.ts";
import type { TopicPartitions } from "../group.ts";

export type PartitionMap = Dict<number[]>;

/** An empty map (null prototype: safe to add any topic to). */
export const noPartitions = (): PartitionMap => dict<number[]>();

/** The partitions of `topic` in `map` (own keys only), or undefined. */
export const partitionsOf = (map: Readonly<PartitionMap>, topic: string): number[] | undefined =>
  own(map, topic);

/**
 * A safe copy of a map read from storage or built elsewhere: own topics only, in a null-prototype
 * object, lists kept as they are (rows hold ascending, duplicate-free lists).
 */
export function partitionMapFrom(map: Readonly<PartitionMap> | null | undefined): PartitionMap {
  const out = noPartitions();
  if (!map) return out;
  for (const topic of Object.keys(map)) {
    const list = map[topic];
    if (Array.isArray(list) && list.length > 0) out[topic] = list;
  }
  return out;
}

const ascending = (a: number, b: number) => a - b;

function build(entries: Iterable<[string, Iterable<number>]>): PartitionMap {
  const out = noPartitions();
  const topics: [string, number[]][] = [];
  for (const [topic, ps] of entries) {
    const list = [...new Set(ps)].sort(ascending);
    if (list.length > 0) topics.push([topic, list]);
  }
  topics.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [topic, list] of topics) out[topic] = list;
  return out;
}

/** From the API's list form; duplicates are merged. */
export function fromList(list: readonly TopicPartitions[] | undefined): PartitionMap {
  const merged = new Map<string, number[]>();
  for (const tp of list ?? []) merged.set(tp.topic, [...(merged.get(tp.topic) ?? []), ...tp.partitions]);
  return build(merged);
}

/** To the API's list form, sorted by topic. */
export const toList = (map: PartitionMap): TopicPartitions[] =>
  Object.entries(map).map(([topic, partitions]) => ({ topic, partitions: [...partitions] }));

export const isEmpty = (map: PartitionMap): boolean => Object.keys(map).length === 0;

export const has = (map: PartitionMap, topic: string, partition: number): boolean =>
  own(map, topic)?.includes(partition) ?? false;

/**
 * Partitions of `a` that are (`inB`) or are not in `b`. Both are sorted and duplicate-free (every map
 * here is), so one merge per topic: linear, where a lookup per partition was quadratic for members
 * that hold tens of thousands of partitions.
 */
function merge(a: PartitionMap, b: PartitionMap, inB: boolean): PartitionMap {
  const out = noPartitions();
  for (const topic of Object.keys(a)) {
    const pa = a[topic]!;
    const pb = own(b, topic);
    let list: number[];
    if (pb === undefined) list = inB ? [] : pa.slice();
    else {
      list = [];
      let j = 0;
      for (const p of pa) {
        while (j < pb.length && pb[j]! < p) j++;
        if ((j < pb.length && pb[j] === p) === inB) list.push(p);
      }
    }
    if (list.length > 0) out[topic] = list;
  }
  return out;
}

export const minus = (a: PartitionMap, b: PartitionMap): PartitionMap => merge(a, b, false);

export const intersect = (a: PartitionMap, b: PartitionMap): PartitionMap => merge(a, b, true);

export function union(a: PartitionMap, b: PartitionMap): PartitionMap {
  const topics = new Set([...Object.keys(a), ...Object.keys(b)]);
  return build([...topics].map((t) => [t, [...(own(a, t) ?? []), ...(own(b, t) ?? [])]]));
}

export const isSubset = (a: PartitionMap, b: PartitionMap): boolean => isEmpty(minus(a, b));

export const overlaps = (a: PartitionMap, b: PartitionMap): boolean => !isEmpty(intersect(a, b));

export function samePartitions(a: PartitionMap, b: PartitionMap): boolean {
  const ta = Object.keys(a);
  if (ta.length !== Object.keys(b).length) return false;
  return ta.every((t) => {
    const pa = a[t]!;
    const pb = own(b, t);
    return pb !== undefined && pa.length === pb.length && pa.every((p, i) => p === pb[i]);
  });
}

/** The partitions of a `topic -> partitions` Map (as assignors return), as a PartitionMap. */
export const fromAssignorMap = (m: ReadonlyMap<string, readonly number[]> | undefined): PartitionMap =>
  build(m ? [...m.entries()] : []);
