/**
 * The narrow interface every cohort assignor implements: it sees members, their
 * subscriptions and current ownership, and partition counts — nothing of storage,
 * clocks or HTTP, so the same code runs in the Durable Object, in Node and in a client SDK.
 */
import type { GroupModel, MemberOrder } from "./group-model.ts";

export interface MemberSpec {
  memberId: string;
  /** Static membership (KIP-345); ties are broken by it where Kafka does. */
  instanceId?: string | null;
  /** Subscribed topic names. */
  topics: readonly string[];
  /**
   * Partitions the member currently owns, per topic. May be stale, duplicated or invalid. Only own keys
   * are read, so an ordinary object is fine even with topics named `__proto__` or `constructor`
   * (as long as it was built with own keys: `Object.fromEntries`, `JSON.parse`, a null prototype).
   */
  owned?: Readonly<Record<string, readonly number[]>>;
}

export interface GroupSpec {
  members: readonly MemberSpec[];
  /** Topic -> partition count. Topics nobody subscribes to may appear; a missing topic has 0 partitions. */
  topics: ReadonlyMap<string, number>;
}

/** memberId -> topic -> ascending partitions. Every member in the spec appears (possibly with an empty map). */
export type Assignment = Map<string, Map<string, number[]>>;

export interface Assignor {
  readonly name: string;
  assign(group: GroupSpec): Assignment;
  /**
   * The same answer over an interned group, as partition -> member index (-1: nobody): `assign` is
   * `toAssignment(model, owners(model))` for `model = buildGroupModel(group, order)`. The coordinator
   * builds the model from its indexes and diffs the owners against the current targets, so it never
   * builds the `Assignment` of every member (see src/core/consumer/indexed-target.ts).
   */
  readonly indexed?: {
    readonly order: MemberOrder;
    owners(model: GroupModel): Int32Array;
  };
}
