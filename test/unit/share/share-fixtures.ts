/** Fixtures of the SharePartition unit tests: settings, a fake clock's start, and small builders. */
import { SharePartition } from "../../../src/core/share/share-partition.ts";
import type { ShareSettings } from "../../../src/core/share/share-types.ts";

export const S: ShareSettings = {
  lockDurationMs: 30_000,
  deliveryCountLimit: 5,
  maxInFlight: 200,
  autoOffsetReset: "earliest",
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 5000,
  retentionMs: 604_800_000,
};
export const T0 = 1_000_000;

/** An acquired (or expected) range of partition t/0. */
export const rec = (firstOffset: number, lastOffset: number, deliveryCount = 1) => ({
  topic: "t",
  partition: 0,
  firstOffset,
  lastOffset,
  deliveryCount,
});

/** A partition initialized at 0 with the log end at `end`. */
export function fresh(end: number, s: ShareSettings = S): SharePartition {
  const sp = SharePartition.create("t", 0);
  sp.report(end, 0, T0, s);
  return sp;
}
