/**
 * The consumer's public shapes: the record source it reads through, the records it hands out, the
 * rebalance listener, its options, and the kafkajs-style `eachMessage`/`eachBatch` payloads.
 */

import type { CommitStrategy } from "./commit-strategy.ts";
import type { ClientOptions } from "./http.ts";
import type { TopicPartition } from "./partitions.ts";

export interface SourceRecord<V = unknown> {
  offset: number;
  value: V;
  key?: string | null;
  timestamp?: number;
}

/** Where records come from: a Kafka REST proxy, Kinesis, Redis streams, R2 segments, an array… */
export interface RecordSource<V = unknown> {
  /** Up to `maxRecords` records at or after `fromOffset`, and the partition's current end offset. */
  fetch(
    topic: string,
    partition: number,
    fromOffset: number,
    maxRecords: number,
  ): Promise<{ records: SourceRecord<V>[]; logEndOffset: number }>;
}

export interface ConsumedRecord<V = unknown> extends SourceRecord<V> {
  topic: string;
  partition: number;
}

/** Kafka's ConsumerRebalanceListener; every callback is awaited. */
export interface RebalanceListener {
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  /** Called before the partitions are given up, after their pending offsets were committed. */
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  /** The membership was lost (fenced, expired): another member may already own these partitions. */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

/** A partition, or some or all partitions of a topic (kafkajs's `{topic, partitions?}`). */
export type PartitionSelector = TopicPartition | { topic: string; partitions?: number[] };

/** An offset to commit: the next offset to read, as Kafka commits it. */
export interface OffsetToCommit extends TopicPartition {
  offset: number;
  metadata?: string;
}

export interface EachMessagePayload<V = unknown> extends TopicPartition {
  message: ConsumedRecord<V>;
  /** Tells the consumer the handler is alive (see `rebalanceTimeoutMs`); a handler that runs long calls it. */
  heartbeat(): Promise<void>;
  /** Pauses this partition: no record after this one is handed out until `resume`. */
  pause(): void;
}

export interface Batch<V = unknown> extends TopicPartition {
  messages: ConsumedRecord<V>[];
  /** The partition's end offset as the source reported it with this batch. */
  highWatermark: number;
  firstOffset(): number;
  lastOffset(): number;
}

export interface EachBatchPayload<V = unknown> {
  batch: Batch<V>;
  /** Marks `offset` (and the batch's records before it) processed: the next commit includes it. */
  resolveOffset(offset: number): void;
  /** As in eachMessage: keeps the member alive through a long batch. */
  heartbeat(): Promise<void>;
  /** Commits now if the commit strategy says a commit is due. */
  commitOffsetsIfNecessary(): Promise<void>;
  /** False once the consumer stops or this partition is paused, revoked or lost: stop the batch. */
  isRunning(): boolean;
  /** True once a seek or a revocation made the rest of the batch not the partition's next records. */
  isStale(): boolean;
  pause(): void;
}

export interface RunOptions<V = unknown> {
  eachMessage?: (payload: EachMessagePayload<V>) => unknown;
  eachBatch?: (payload: EachBatchPayload<V>) => unknown;
  /** eachBatch: resolve the batch's last offset when the handler returns (default true). */
  eachBatchAutoResolve?: boolean;
  /** Partitions handled at once; records of one partition are always handled in order (default 1). */
  partitionsConsumedConcurrently?: number;
}

export interface ConsumerOptions<V = unknown> extends ClientOptions {
  groupId: string;
  /** Subscribed topics and their partition counts, e.g. { orders: 12 }. */
  topics: Record<string, number>;
  source: RecordSource<V>;
  /** "consumer" (KIP-848, server-side assignment; default) or "classic" (JoinGroup/SyncGroup). */
  protocol?: "consumer" | "classic";
  /** Static membership (KIP-345): a restarted consumer with the same id takes its partitions back. */
  groupInstanceId?: string;
  clientId?: string;
  /** Consumer protocol: the server assignor (default: the coordinator's, uniform). */
  serverAssignor?: string;
  /**
   * Classic protocol: assignors offered, by preference (default ["range"]); the leader runs one.
   * ["cooperative-sticky"] rebalances incrementally (KIP-429): only partitions that move are revoked.
   */
  assignors?: string[];
  /** Classic protocol: session timeout (default 10 s) and heartbeat interval (default a third of it). */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /**
   * Kafka's max.poll.interval.ms (default 60 s): how long the member may take to give up revoked
   * partitions, and how long a handler may run without returning or calling `heartbeat()`. Past it
   * the member leaves the group at once, as Kafka's consumer does (a warning says so): its
   * partitions are lost, not revoked (nothing more is committed for them), and it rejoins when the
   * handler returns. A static member does not give its partitions away: the consumer protocol leaves
   * with -2 (the coordinator holds them until its session ends), classic sends no LeaveGroup.
   */
  rebalanceTimeoutMs?: number;
  /** Default periodic(5000), as Kafka's auto-commit. */
  commit?: CommitStrategy;
  listener?: RebalanceListener;
  /** Records asked of the source per fetch (default 100). */
  maxRecords?: number;
  /** Backpressure: at most this many records fetched and not yet handled, over all partitions (default unbounded). */
  maxInFlightRecords?: number;
  /** Where to start on a partition without a committed offset (default "earliest"). */
  autoOffsetReset?: "earliest" | "latest";
  /** How long a partition with no new records waits before it is fetched again (default 200 ms). */
  idleMs?: number;
  /** Consumer protocol: open the watch WebSocket where possible (default true). */
  watch?: boolean;
}
