/**
 * Rebuilds a group from its persisted rows, by protocol. Session deadlines are not persisted: a member
 * heard during the object's previous life gets a fresh session from `now`, as Kafka gives after a
 * coordinator moves; one not heard then keeps the deadline it had, so an object evicted between
 * alarms still expires dead members (each group's constructor applies the rule).
 */

import { ClassicGroup, type ClassicMember, type ClassicRecord } from "./classic/classic-group.ts";
import { ConsumerGroup, type ConsumerMember, type ConsumerRecord } from "./consumer/consumer-group.ts";
import { partitionMapFrom } from "./consumer/partitions.ts";
import type { Group, GroupRecord } from "./group.ts";
import { ShareGroup, type ShareMember, type ShareRecord } from "./share/share-group.ts";
import type { ArchivedRange, SharePartitionRecord } from "./share/share-types.ts";

/** A share group's own rows: its share-partitions and its archived listing. */
export interface ShareRowsLoaded {
  partitions: SharePartitionRecord[];
  archived: ArchivedRange[];
}

export function restoreGroup(
  record: GroupRecord,
  members: unknown[],
  now: number,
  share?: ShareRowsLoaded,
): Group {
  switch (record.type) {
    case "classic":
      return new ClassicGroup(record as ClassicRecord, members as ClassicMember[], now);
    case "consumer":
      return new ConsumerGroup(record as ConsumerRecord, (members as ConsumerMember[]).map(safeMaps), now);
    case "share":
      return new ShareGroup(
        record as ShareRecord,
        (members as ShareMember[]).map((m) => ({ ...m, assignment: partitionMapFrom(m.assignment) })),
        now,
        share?.partitions ?? [],
        share?.archived ?? [],
      );
    default:
      throw new Error(`cannot restore a group of type ${String(record.type)}`);
  }
}

/**
 * A consumer member row as `JSON.parse` left it holds topic-keyed objects that inherit from
 * `Object.prototype` (a topic named `constructor` would find a function there): rebuilt with null
 * prototypes, own keys only (dict.ts).
 */
const safeMaps = (m: ConsumerMember): ConsumerMember => ({
  ...m,
  assigned: partitionMapFrom(m.assigned),
  revoking: partitionMapFrom(m.revoking),
  target: partitionMapFrom(m.target),
});
