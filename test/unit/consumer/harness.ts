/**
 * A consumer group driven with a fake clock, as the Durable Object drives it: each call runs one core
 * decision at `clock.now`; tests read responses, pushes and dirty rows.
 */

import { ClassicGroup } from "../../../src/core/classic/classic-group";
import { type Config, DEFAULT_CONFIG } from "../../../src/core/config";
import { ConsumerGroup } from "../../../src/core/consumer/consumer-group";
import { consumerHeartbeat, type HeartbeatRequest } from "../../../src/core/consumer/consumer-heartbeat";
import type { Result } from "../../../src/core/errors";
import type { Group, TopicPartitions } from "../../../src/core/group";

export const CONFIG: Config = {
  ...DEFAULT_CONFIG,
  consumerSessionTimeoutMs: 45_000,
  consumerHeartbeatIntervalMs: 5000,
  authMode: "none",
};

export class Harness {
  now = 1_000_000;
  group: Group | null;
  private ids = 0;

  readonly groupId: string;
  readonly config: Config;

  constructor(groupId = "g", group: Group | null = null, config: Config = CONFIG) {
    this.groupId = groupId;
    this.config = config;
    this.group = group;
  }

  get consumer(): ConsumerGroup {
    if (!(this.group instanceof ConsumerGroup)) throw new Error("not a consumer group");
    return this.group;
  }

  heartbeat(req: HeartbeatRequest): Result<{
    memberId: string;
    memberEpoch: number;
    assignment: { partitions: TopicPartitions[] };
    heartbeatIntervalMs: number;
  }> {
    const { group, result } = consumerHeartbeat(
      this.group,
      this.groupId,
      req,
      this.now,
      this.config,
      () => `gen-${++this.ids}`,
    );
    this.group = group;
    return result;
  }

  /** Joins with the given topics (`name:count`), returning the response value (throws on error). */
  join(memberId: string, topics: Record<string, number>, extra: Partial<HeartbeatRequest> = {}) {
    return this.must({
      memberId,
      memberEpoch: 0,
      subscribedTopics: Object.entries(topics).map(([name, partitions]) => ({ name, partitions })),
      ownedPartitions: [],
      ...extra,
    });
  }

  /** A heartbeat that must succeed. */
  must(req: HeartbeatRequest) {
    const r = this.heartbeat(req);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return r.value;
  }

  advance(ms: number): void {
    this.now += ms;
  }

  /** Runs the alarm at `now` if a deadline is due, as the shell does. */
  alarm(): void {
    const due = this.group?.nextDeadline();
    if (this.group && due != null && due <= this.now) this.group.onDeadlines(this.now);
  }

  member(id: string) {
    return this.consumer.members.get(id);
  }
}

export const simpleGroup = (groupId: string, now: number) => ClassicGroup.simple(groupId, now);

/** `[{topic, partitions}]` as `topic -> partitions` for compact assertions. */
export const flat = (list: TopicPartitions[]): Record<string, number[]> =>
  Object.fromEntries(list.map((tp) => [tp.topic, tp.partitions]));
