/**
 * Interns a GroupSpec into integer indexes once, so that assignors run their hot loops over
 * typed arrays instead of string-keyed maps. Topics are sorted by name and every partition gets
 * a global index (`topicStart[t] + p`), so "all partitions in topic order" is just 0..P-1.
 */
import type { Assignment, GroupSpec, MemberSpec } from "./types.ts";

/** "input" keeps the spec's order (fastest); "kafka" sorts static members first by instanceId, then by memberId. */
export type MemberOrder = "input" | "kafka";

export interface GroupModel {
  /** Members in processing order; member index = position. */
  readonly members: readonly MemberSpec[];
  /** `members.length`. */
  readonly memberCount: number;
  readonly topicNames: readonly string[];
  readonly topicIndex: ReadonlyMap<string, number>;
  /** First global partition index of each topic; `topicStart[topicNames.length]` is the partition total. */
  readonly topicStart: Int32Array;
  readonly partitionTotal: number;
  /** Subscription id per member; members with the same topic set share an id. */
  readonly subscriptionOf: Int32Array;
  /** Sorted topic indexes of each subscription id. */
  readonly subscriptionTopics: readonly Int32Array[];
  /** True when every member has the same set of topics with partitions. */
  readonly homogeneous: boolean;
  /** Member that validly claims each partition (first claimant in member order wins), or -1. */
  readonly claimedBy: Int32Array;
  /** Number of partitions each member validly claims. */
  readonly claimCount: Int32Array;
  /**
   * The one member holding each partition, valid claim or not (-1: nobody), when the caller knows
   * ownership that way (the coordinator's target index); `cooperative-sticky` withholds moves by it.
   * Unset when ownership came from `owned` maps, which may report a partition twice.
   */
  readonly heldBy?: Int32Array;
  /** Members subscribed to topic t, in member order: `subscribers.subarray(subscriberStart[t], subscriberStart[t+1])`. */
  topicSubscribers(): { subscriberStart: Int32Array; subscribers: Int32Array };
}

export function compareKafkaMemberOrder(a: MemberSpec, b: MemberSpec): number {
  const ai = a.instanceId ?? null;
  const bi = b.instanceId ?? null;
  if (ai !== null && bi !== null && ai !== bi) return ai < bi ? -1 : 1;
  if (ai !== null && bi === null) return -1;
  if (ai === null && bi !== null) return 1;
  return a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0;
}

const RECENT_SUBSCRIPTIONS = 8;

function sameTopics(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function partitionCountOf(topics: ReadonlyMap<string, number>, name: string): number {
  const n = topics.get(name);
  return typeof n === "number" && n > 0 ? Math.floor(Math.min(n, 0x3fffffff)) : 0;
}

export function buildGroupModel(spec: GroupSpec, order: MemberOrder): GroupModel {
  const members = order === "kafka" ? [...spec.members].sort(compareKafkaMemberOrder) : spec.members;
  const n = members.length;

  // Distinct raw topic lists. Groups have few distinct subscriptions, often interleaved, so compare
  // with the most recently seen ones before paying for a new list (equal lists that slip through
  // are merged below by their topic indexes).
  const rawOf = new Int32Array(n);
  const raws: (readonly string[])[] = [];
  const recent: number[] = [];
  const names = new Set<string>();
  for (let m = 0; m < n; m++) {
    const topics = members[m]!.topics;
    let raw = -1;
    for (let i = 0; i < recent.length && raw < 0; i++)
      if (sameTopics(raws[recent[i]!]!, topics)) raw = recent[i]!;
    if (raw < 0) {
      raw = raws.push(topics) - 1;
      for (const t of topics) names.add(t);
      if (recent.unshift(raw) > RECENT_SUBSCRIPTIONS) recent.pop();
    }
    rawOf[m] = raw;
  }
  const topicNames = [...names].sort();
  const topicIndex = new Map<string, number>();
  const topicStart = new Int32Array(topicNames.length + 1);
  for (let t = 0; t < topicNames.length; t++) {
    topicIndex.set(topicNames[t]!, t);
    topicStart[t + 1] = topicStart[t]! + partitionCountOf(spec.topics, topicNames[t]!);
  }
  const partitionTotal = topicStart[topicNames.length]!;

  // Raw lists -> subscription ids keyed by their sorted, de-duplicated topic indexes. Topics without
  // partitions are left out, so a member also subscribed to a missing topic does not make the group
  // heterogeneous.
  const subscriptionTopics: Int32Array[] = [];
  const subscriptionByKey = new Map<string, number>();
  // Groups can also hold hundreds of distinct subscriptions (members of one group subscribing to
  // varied subsets): the key is one UTF-16 pair per topic index, and a subscription's list is only
  // allocated the first time its key is seen.
  let scratch: number[] = [];
  const subscriptionOfRaw = raws.map((raw) => {
    scratch.length = 0;
    let ascending = true;
    for (let i = 0; i < raw.length; i++) {
      const t = topicIndex.get(raw[i]!)!;
      if (topicStart[t + 1]! === topicStart[t]!) continue;
      if (scratch.length > 0 && t <= scratch[scratch.length - 1]!) ascending = false;
      scratch.push(t);
    }
    if (!ascending) scratch = [...new Set(scratch)].sort((a, b) => a - b);
    let key = "";
    for (const t of scratch) key += String.fromCharCode(t & 0xffff, t >>> 16);
    let id = subscriptionByKey.get(key);
    if (id === undefined) {
      id = subscriptionTopics.length;
      subscriptionByKey.set(key, id);
      subscriptionTopics.push(Int32Array.from(scratch));
    }
    return id;
  });
  const subscriptionOf = rawOf.map((r) => subscriptionOfRaw[r]!);

  const { claimedBy, claimCount } = claimOwnedPartitions(
    members,
    topicIndex,
    topicStart,
    subscriptionOf,
    subscriptionTopics,
  );

  let subscribersCache: { subscriberStart: Int32Array; subscribers: Int32Array } | undefined;
  return {
    members,
    memberCount: n,
    topicNames,
    topicIndex,
    topicStart,
    partitionTotal,
    subscriptionOf,
    subscriptionTopics,
    homogeneous: subscriptionTopics.length <= 1,
    claimedBy,
    claimCount,
    topicSubscribers() {
      subscribersCache ??= buildTopicSubscribers(topicNames.length, subscriptionOf, subscriptionTopics);
      return subscribersCache;
    },
  };
}

/** Validates current ownership: only subscribed topics, partitions in range, each partition claimed once. */
function claimOwnedPartitions(
  members: readonly MemberSpec[],
  topicIndex: ReadonlyMap<string, number>,
  topicStart: Int32Array,
  subscriptionOf: Int32Array,
  subscriptionTopics: readonly Int32Array[],
): { claimedBy: Int32Array; claimCount: Int32Array } {
  const topicCount = topicStart.length - 1;
  const claimedBy = new Int32Array(topicStart[topicCount]!).fill(-1);
  const claimCount = new Int32Array(members.length);
  // Subscription flags per subscription id, built only when some member owns something.
  const flags: (Uint8Array | undefined)[] = [];
  for (let m = 0; m < members.length; m++) {
    const owned = members[m]!.owned;
    if (owned === undefined || owned === null) continue;
    const sub = subscriptionOf[m]!;
    let subscribed = flags[sub];
    if (subscribed === undefined) {
      subscribed = new Uint8Array(topicCount);
      for (const t of subscriptionTopics[sub]!) subscribed[t] = 1;
      flags[sub] = subscribed;
    }
    // for-in and an int check instead of Object.keys and Number.isInteger: this runs for every
    // owned partition of every member, and the allocation-free forms are measurably faster. Only own
    // keys count: a topic may be named `constructor`, which an ordinary object inherits.
    for (const name in owned) {
      if (!Object.hasOwn(owned, name)) continue;
      const t = topicIndex.get(name);
      const list = owned[name];
      if (t === undefined || subscribed[t] === 0 || !Array.isArray(list)) continue;
      const start = topicStart[t]!;
      const count = topicStart[t + 1]! - start;
      for (let i = 0; i < list.length; i++) {
        const p = list[i]!;
        if ((p | 0) !== p || p < 0 || p >= count || claimedBy[start + p] !== -1) continue;
        claimedBy[start + p] = m;
        claimCount[m]!++;
      }
    }
  }
  return { claimedBy, claimCount };
}

function buildTopicSubscribers(
  topicCount: number,
  subscriptionOf: Int32Array,
  subscriptionTopics: readonly Int32Array[],
): { subscriberStart: Int32Array; subscribers: Int32Array } {
  // Indexed loops: this touches every (member, topic) pair, up to millions of them.
  const members = subscriptionOf.length;
  const membersPerSubscription = new Int32Array(subscriptionTopics.length);
  for (let m = 0; m < members; m++) membersPerSubscription[subscriptionOf[m]!]!++;
  const subscriberStart = new Int32Array(topicCount + 1);
  for (let s = 0; s < subscriptionTopics.length; s++) {
    const topics = subscriptionTopics[s]!;
    for (let i = 0; i < topics.length; i++) subscriberStart[topics[i]! + 1]! += membersPerSubscription[s]!;
  }
  for (let t = 0; t < topicCount; t++) subscriberStart[t + 1]! += subscriberStart[t]!;
  const subscribers = new Int32Array(subscriberStart[topicCount]!);
  const fill = subscriberStart.slice(0, topicCount);
  for (let m = 0; m < members; m++) {
    const topics = subscriptionTopics[subscriptionOf[m]!]!;
    for (let i = 0; i < topics.length; i++) subscribers[fill[topics[i]!]!++] = m;
  }
  return { subscriberStart, subscribers };
}

/** Turns a partition -> member array (-1 = unassigned) into the public Assignment, partitions ascending. */
export function toAssignment(model: GroupModel, owner: Int32Array): Assignment {
  const n = model.members.length;
  const maps: Map<string, number[]>[] = new Array(n);
  const result: Assignment = new Map();
  for (let m = 0; m < n; m++) {
    maps[m] = new Map();
    result.set(model.members[m]!.memberId, maps[m]!);
  }
  // Count first, then allocate every list at its exact size: scattered assignments produce one
  // small list per (member, topic), and growing them by push was most of the garbage.
  const count = new Int32Array(n);
  const touched = new Int32Array(n);
  const lists: number[][] = new Array(n);
  const { topicNames, topicStart } = model;
  for (let t = 0; t < topicNames.length; t++) {
    const start = topicStart[t]!;
    const end = topicStart[t + 1]!;
    let touchedCount = 0;
    for (let g = start; g < end; g++) {
      const m = owner[g]!;
      if (m >= 0 && count[m]!++ === 0) touched[touchedCount++] = m;
    }
    for (let i = 0; i < touchedCount; i++) {
      const m = touched[i]!;
      lists[m] = new Array<number>(count[m]!);
      maps[m]!.set(topicNames[t]!, lists[m]!);
      count[m] = 0;
    }
    for (let g = start; g < end; g++) {
      const m = owner[g]!;
      if (m >= 0) lists[m]![count[m]!++] = g - start;
    }
    for (let i = 0; i < touchedCount; i++) count[touched[i]!] = 0;
  }
  return result;
}
