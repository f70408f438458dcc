/** `cohort/client`: the TypeScript SDK of cohort — consumer, share consumer, admin client, transport and errors. */

export { CohortAdmin, type GroupPage, type ListGroupsFilter } from "./admin.ts";
export { CommitStrategies, type CommitStrategy } from "./commit-strategy.ts";
export { CohortConsumer } from "./consumer.ts";
export type {
  Batch,
  ConsumedRecord,
  ConsumerOptions,
  EachBatchPayload,
  EachMessagePayload,
  OffsetToCommit,
  PartitionSelector,
  RebalanceListener,
  RecordSource,
  RunOptions,
  SourceRecord,
} from "./consumer-types.ts";
export { CohortError, type ErrorIssue } from "./errors.ts";
export {
  type ClientOptions,
  DEFAULT_RETRY,
  type FetchLike,
  HttpTransport,
  type RetryPolicy,
} from "./http.ts";
export { MemoryLog } from "./memory-log.ts";
export { describePartitions, type TopicPartition } from "./partitions.ts";
export {
  type AcknowledgementFailure,
  type AcknowledgementMode,
  ShareConsumer,
  type ShareConsumerOptions,
  type ShareRunOptions,
} from "./share-consumer.ts";
export type { Settlement } from "./share-holdings.ts";
export type { ShareRecord, ShareRecordSource } from "./share-records.ts";
export type * from "./share-types.ts";
export type * from "./types.ts";
