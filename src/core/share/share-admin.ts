/**
 * The admin side of a share group (API.md §7, §3, §6): per-partition views for describe and the
 * offsets listing (SPSO as the offset), the reset of an Empty group, OffsetDelete, and the dead-letter
 * redrive. These scan the group's partitions of a topic; they are admin calls, never on a hot path.
 */

import { fail, ok, type Result } from "../errors.ts";
import { partitionKey } from "../group.ts";
import { byTopicPartition, type ResetChange, type ResetRequest } from "../offsets.ts";
import type { ArchiveList } from "./share-archive.ts";
import type { SharePartitionView } from "./share-member.ts";
import type { SharePartition } from "./share-partition.ts";
import type { PartitionTable } from "./share-table.ts";

export interface StartOffset {
  topic: string;
  partition: number;
  startOffset: number;
  logEndOffset: number | null;
  lag: number | null;
}

export function partitionView(sp: SharePartition): SharePartitionView {
  return {
    topic: sp.topic,
    partition: sp.partition,
    startOffset: sp.startOffset,
    endOffset: sp.endOffset,
    logEndOffset: sp.logEndOffset,
    ...sp.counts(),
    lag: sp.lag(),
  };
}

/** The partitions of `topic` (all topics when undefined), sorted. */
export function partitionsOf(table: PartitionTable, topics?: readonly string[]): SharePartition[] {
  const wanted = topics ? new Set(topics) : null;
  const out: SharePartition[] = [];
  for (const sp of table.values()) if (!wanted || wanted.has(sp.topic)) out.push(sp);
  return out.sort(byTopicPartition);
}

/** `GET offsets` of a share group: SPSO as the offset (-1 before it is known). */
export function startOffsets(table: PartitionTable, topics?: readonly string[]): StartOffset[] {
  return partitionsOf(table, topics).map((sp) => ({
    topic: sp.topic,
    partition: sp.partition,
    startOffset: sp.startOffset ?? -1,
    logEndOffset: sp.logEndOffset,
    lag: sp.lag(),
  }));
}

/**
 * The reset of `kafka-share-groups --reset-offsets` on an Empty group: SPSO = SPEO = the target,
 * nothing in flight, the partition's archived listing dropped (it described state that is gone, and
 * a redrive below the new SPSO would deliver it again). `earliest` is the reported log start (else 0),
 * `latest` the reported log end; targets are clamped to the log end where it is known.
 */
export function planShareReset(
  table: PartitionTable,
  archive: ArchiveList,
  memberCount: number,
  groupId: string,
  req: ResetRequest,
): Result<ResetChange[]> {
  if (memberCount > 0)
    return fail(
      "NON_EMPTY_GROUP",
      `group ${groupId} has members: stop its consumers before resetting offsets`,
    );
  if (req.to === "shift")
    return fail(
      "INVALID_REQUEST",
      "a share group's start offsets reset to earliest, latest or an offset, not by a shift",
    );
  const targets = req.partitions
    ? [...new Set(req.partitions)].sort((a, b) => a - b)
    : partitionsOf(table, [req.topic]).map((sp) => sp.partition);
  const changes: ResetChange[] = [];
  const unknown: number[] = [];
  for (const partition of targets) {
    const sp = table.get(partitionKey(req.topic, partition));
    const end = sp?.logEndOffset ?? null;
    let next: number;
    if (req.to === "earliest") next = sp?.logStartOffset ?? 0;
    else if (req.to === "latest") {
      if (end === null) {
        unknown.push(partition);
        continue;
      }
      next = end;
    } else next = req.offset ?? 0;
    next = Math.max(0, end === null ? next : Math.min(next, end));
    changes.push({ topic: req.topic, partition, previousOffset: sp?.startOffset ?? -1, newOffset: next });
  }
  if (unknown.length > 0)
    return fail(
      "INVALID_REQUEST",
      `cannot reset ${req.topic} partitions [${unknown.join(", ")}] to latest: no logEndOffset has been reported`,
    );
  if (!req.dryRun) {
    for (const c of changes) {
      const sp = table.edit(c.topic, c.partition, true)!;
      sp.reset(c.newOffset);
      table.settle(sp);
      archive.dropPartition(c.topic, c.partition);
    }
  }
  return ok(changes);
}

/** OffsetDelete: the share-partition state of `topic` (given partitions, else all) goes; returns which. */
export function deleteShareState(
  table: PartitionTable,
  archive: ArchiveList,
  topic: string,
  partitions: readonly number[] | undefined,
): number[] {
  const wanted = partitions ? new Set(partitions) : null;
  const deleted: number[] = [];
  for (const sp of partitionsOf(table, [topic])) {
    if (wanted && !wanted.has(sp.partition)) continue;
    table.delete(partitionKey(sp.topic, sp.partition));
    archive.dropPartition(sp.topic, sp.partition);
    deleted.push(sp.partition);
  }
  return deleted;
}

/** What one partition's redrive gave back, for the group's history (API.md §8 `share_redriven`). */
export interface RedrivenRange {
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
  count: number;
}

export interface RedriveRequest {
  topic: string;
  partition?: number | undefined;
  firstOffset?: number | undefined;
  lastOffset?: number | undefined;
}

/**
 * The dead-letter redrive: archived offsets in the range become available with count 0, those listed
 * below SPSO too (SPSO moves back to the lowest), and the listing loses what was redriven. Returns the
 * offsets redriven and the partitions where they are (to wake parked acquires there).
 */
export function redrive(
  table: PartitionTable,
  archive: ArchiveList,
  req: RedriveRequest,
  now: number,
): { redriven: number; partitions: string[]; ranges: RedrivenRange[] } {
  const first = req.firstOffset ?? 0;
  const last = req.lastOffset ?? Number.MAX_SAFE_INTEGER;
  let redriven = 0;
  const partitions: string[] = [];
  const ranges: RedrivenRange[] = [];
  if (first > last) return { redriven, partitions, ranges };
  for (const current of partitionsOf(table, [req.topic])) {
    if (req.partition !== undefined && current.partition !== req.partition) continue;
    const spso = current.startOffset;
    const below = archive
      .ofPartition(current.topic, current.partition)
      .filter((r) => spso !== null && r.firstOffset < spso && r.lastOffset >= first && r.firstOffset <= last)
      .map((r) => ({
        ...r,
        firstOffset: Math.max(r.firstOffset, first),
        lastOffset: Math.min(r.lastOffset, last, spso! - 1),
      }));
    const listed = archive
      .ofPartition(current.topic, current.partition)
      .filter((r) => r.lastOffset >= first && r.firstOffset <= last);
    const sp = table.edit(current.topic, current.partition)!;
    const n = sp.redrive(first, last, below, now);
    table.settle(sp);
    archive.cut(current.topic, current.partition, first, last);
    if (n > 0) {
      redriven += n;
      partitions.push(partitionKey(current.topic, current.partition));
      // The span redriven as the listing showed it (the request's bounds where nothing was listed).
      const low = listed.length > 0 ? Math.max(first, listed[0]!.firstOffset) : first;
      const high = listed.reduce((end, r) => Math.max(end, r.lastOffset), -1);
      const lastOffset = listed.length > 0 ? Math.min(last, high) : last;
      ranges.push({
        topic: current.topic,
        partition: current.partition,
        firstOffset: low,
        lastOffset,
        count: n,
      });
    }
  }
  return { redriven, partitions, ranges };
}
