/**
 * `uniform`, `sticky` and `cooperative-sticky`, and the engine they share: balance first, then
 * keep as many currently owned partitions as balance allows.
 *
 * Homogeneous subscriptions: the quota fill over all partitions (see quota-fill.ts) keeps the most
 * owned partitions any balanced assignment can keep, in O(P + N) with no sorting.
 *
 * Heterogeneous subscriptions: every valid owned partition is kept, unowned partitions go in runs
 * to the least-loaded subscriber (topics with the fewest subscribers first), then partitions move from a
 * member to a subscriber with at least two fewer until no such move exists — Kafka's sticky
 * balance criterion. Every move lowers the sum of squared loads, so the loop terminates.
 */
import { buildGroupModel, type GroupModel, toAssignment } from "./group-model.ts";
import { MemberHeap } from "./member-heap.ts";
import { QuotaFill } from "./quota-fill.ts";
import type { Assignment, Assignor, GroupSpec } from "./types.ts";

/** Returns partition -> member (-1 for partitions nobody subscribes to). */
function assignBalancedSticky(model: GroupModel): Int32Array {
  return model.homogeneous ? assignHomogeneous(model) : assignHeterogeneous(model);
}

/**
 * `uniform`: the server-side default (KIP-848). Balance first, then stickiness toward current
 * ownership; members are taken in the order the group lists them, which keeps the hot path free of
 * string sorting — the output is still a pure function of the input.
 */
export function assignUniform(group: GroupSpec): Assignment {
  const model = buildGroupModel(group, "input");
  return toAssignment(model, assignBalancedSticky(model));
}

export const uniformAssignor: Assignor = {
  name: "uniform",
  assign: assignUniform,
  indexed: { order: "input", owners: assignBalancedSticky },
};

/**
 * `sticky` and `cooperative-sticky` (KIP-429): the balanced-sticky engine with members in Kafka
 * member order, so the result does not depend on the order the group lists them in.
 *
 * The cooperative variant withholds every partition that changes owner, as Kafka does: one the new
 * owner does not report but another member does (even for a topic it no longer subscribes to, or
 * a duplicate report) is left out this round; its reporters revoke it and it is handed over in the
 * follow-up round. A partition nobody present reports (its owner left) moves at once.
 */
export function assignSticky(group: GroupSpec): Assignment {
  const model = buildGroupModel(group, "kafka");
  return toAssignment(model, assignBalancedSticky(model));
}

export function assignCooperativeSticky(group: GroupSpec): Assignment {
  const model = buildGroupModel(group, "kafka");
  const owner = assignBalancedSticky(model);
  const reportedByOwner = new Uint8Array(owner.length);
  const reportedByOther = new Uint8Array(owner.length);
  model.members.forEach((member, m) => {
    for (const [topic, partitions] of Object.entries(member.owned ?? {})) {
      const t = model.topicIndex.get(topic);
      if (t === undefined || !Array.isArray(partitions)) continue;
      const start = model.topicStart[t]!;
      const count = model.topicStart[t + 1]! - start;
      for (const p of partitions) {
        if (!Number.isInteger(p) || p < 0 || p >= count) continue;
        if (owner[start + p] === m) reportedByOwner[start + p] = 1;
        else reportedByOther[start + p] = 1;
      }
    }
  });
  for (let g = 0; g < owner.length; g++) {
    if (reportedByOther[g] === 1 && reportedByOwner[g] === 0) owner[g] = -1;
  }
  return toAssignment(model, owner);
}

/**
 * The cooperative rule where each partition has at most one reporter (`heldBy`, as the coordinator's
 * target index knows them): a partition reported by someone other than its new owner is withheld.
 */
function withholdMoves(owner: Int32Array, heldBy: Int32Array): Int32Array {
  for (let g = 0; g < owner.length; g++) if (heldBy[g] !== -1 && heldBy[g] !== owner[g]) owner[g] = -1;
  return owner;
}

export const stickyAssignor: Assignor = {
  name: "sticky",
  assign: assignSticky,
  indexed: { order: "kafka", owners: assignBalancedSticky },
};
export const cooperativeStickyAssignor: Assignor = {
  name: "cooperative-sticky",
  assign: assignCooperativeSticky,
  indexed: {
    order: "kafka",
    owners: (model) => {
      const owner = assignBalancedSticky(model);
      return model.heldBy === undefined ? owner : withholdMoves(owner, model.heldBy);
    },
  },
};

function assignHomogeneous(model: GroupModel): Int32Array {
  const n = model.memberCount;
  const owner = new Int32Array(model.partitionTotal).fill(-1);
  const everyone = Int32Array.from({ length: n }, (_, m) => m);
  new QuotaFill(n).fill(owner, model.claimedBy, 0, model.partitionTotal, everyone);
  return owner;
}

function assignHeterogeneous(model: GroupModel): Int32Array {
  const { topicStart } = model;
  const { subscriberStart, subscribers } = model.topicSubscribers();
  const owner = model.claimedBy.slice();
  const load = model.claimCount.slice();
  const heap = new MemberHeap(load, model.memberCount);

  // Most constrained topics first, so flexible members are still free when they are needed.
  const topicCount = model.topicNames.length;
  const order = Array.from({ length: topicCount }, (_, t) => t).filter(
    (t) => subscriberStart[t + 1]! > subscriberStart[t]! && topicStart[t + 1]! > topicStart[t]!,
  );
  const subscriberCount = (t: number) => subscriberStart[t + 1]! - subscriberStart[t]!;
  order.sort((a, b) => subscriberCount(a) - subscriberCount(b) || a - b);

  // Hand out unowned partitions to the least-loaded subscriber, in runs of up to the average load:
  // runs keep the output compact (few per-topic lists), and the balancing below evens out the rest.
  const average = Math.ceil(model.partitionTotal / Math.max(1, model.memberCount));
  for (const t of order) {
    heap.reset(subscribers.subarray(subscriberStart[t]!, subscriberStart[t + 1]!));
    for (let g = topicStart[t]!; g < topicStart[t + 1]!; ) {
      if (owner[g] !== -1) {
        g++;
        continue;
      }
      const m = heap.top();
      for (let run = Math.max(1, average - load[m]!); run > 0 && g < topicStart[t + 1]!; g++) {
        if (owner[g] !== -1) continue;
        owner[g] = m;
        load[m]!++;
        run--;
      }
      heap.topIncreased();
    }
  }

  // Per topic, first move partitions that were just handed out (moving them revokes nothing), then
  // owned ones. One scan of each kind suffices: the minimum only rises and donors only shrink. A move
  // in one topic can enable one in another, so repeat until a full pass moves nothing.
  const { claimedBy } = model;
  for (let moved = true; moved; ) {
    moved = false;
    for (const t of order) {
      const start = topicStart[t]!;
      const end = topicStart[t + 1]!;
      const subs = subscribers.subarray(subscriberStart[t]!, subscriberStart[t + 1]!);
      if (!canMoveWithin(start, end, subs, owner, load)) continue;
      heap.reset(subs);
      for (const freshOnly of [true, false]) {
        for (let g = start; g < end; g++) {
          const from = owner[g]!;
          const to = heap.top();
          if (load[from]! - load[to]! < 2 || (freshOnly && claimedBy[g] === from)) continue;
          owner[g] = to;
          load[from]!--;
          load[to]!++;
          heap.topIncreased();
          heap.decreased(from);
          moved = true;
        }
      }
    }
  }
  return owner;
}

/** Cheap read-only test (no heap) for whether any partition of the topic may move at all. */
function canMoveWithin(
  start: number,
  end: number,
  subs: Int32Array,
  owner: Int32Array,
  load: Int32Array,
): boolean {
  let lightest = Number.MAX_SAFE_INTEGER;
  for (let i = 0; i < subs.length; i++) lightest = Math.min(lightest, load[subs[i]!]!);
  for (let g = start; g < end; g++) if (load[owner[g]!]! - lightest >= 2) return true;
  return false;
}
