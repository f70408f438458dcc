/**
 * When the consumer commits what it has processed. The strategy bounds how many records a crash can
 * make the next owner process again: afterEach ≤ 1 per partition in flight, afterBatch(n) < n + 1 per
 * consumer, periodic(ms) what was processed within `ms`, manual whatever the application left
 * uncommitted. Pending offsets are also committed before a revocation is reported and on close().
 */

export type CommitStrategy =
  | { kind: "afterEach" }
  | { kind: "afterBatch"; records: number }
  | { kind: "periodic"; intervalMs: number }
  | { kind: "manual" };

export const CommitStrategies = {
  /** Commit after every record: the fewest duplicates, one commit request per record. */
  afterEach: (): CommitStrategy => ({ kind: "afterEach" }),
  /** Commit once `records` records were processed since the last commit (across partitions). */
  afterBatch: (records: number): CommitStrategy => {
    if (!Number.isInteger(records) || records < 1)
      throw new RangeError("afterBatch needs a positive integer");
    return { kind: "afterBatch", records };
  },
  /** Commit what is pending every `intervalMs` (Kafka's enable.auto.commit with auto.commit.interval.ms). */
  periodic: (intervalMs: number): CommitStrategy => {
    if (!(intervalMs > 0)) throw new RangeError("periodic needs a positive interval");
    return { kind: "periodic", intervalMs };
  },
  /** Only `consumer.commit()` commits (and revocation and close(), which never lose processed work). */
  manual: (): CommitStrategy => ({ kind: "manual" }),
} as const;

/** Whether the records processed since the last commit call for a commit now. */
export function commitDue(strategy: CommitStrategy, processedSinceCommit: number): boolean {
  switch (strategy.kind) {
    case "afterEach":
      return processedSinceCommit > 0;
    case "afterBatch":
      return processedSinceCommit >= strategy.records;
    default:
      return false;
  }
}
