/**
 * Offset rules (API.md §3), pure: who may commit, what a commit or an admin reset writes, how lag is
 * derived from the reported log end offsets, and when offsets expire (KIP-211, KIP-496). The Durable Object
 * reads rows, calls these, and writes what they return.
 */

import type { Config } from "./config.ts";
import { type CohortError, fail, ok, type Result } from "./errors.ts";
import { type CommitAuth, type Group, partitionKey } from "./group.ts";

export interface OffsetRow {
  topic: string;
  partition: number;
  offset: number;
  metadata: string;
  leaderEpoch: number | null;
  committedAt: number;
  /** The log end offset last reported by a consumer; null when never reported. */
  logEndOffset: number | null;
}

/** An offset as the API shows it: `committedAt` is null and `offset` -1 where nothing was committed. */
export interface OffsetView extends Omit<OffsetRow, "committedAt"> {
  committedAt: number | null;
  lag: number | null;
}

export interface CommitEntry {
  topic: string;
  partition: number;
  offset: number;
  metadata?: string | undefined;
  leaderEpoch?: number | undefined;
  logEndOffset?: number | undefined;
}

export interface CommitRequest extends CommitAuth {
  offsets: CommitEntry[];
}

/**
 * A commit with no member identity, as admin tools and manually assigned consumers make: no member id,
 * and no generation or epoch — or −1 for it, which is what Kafka's clients send (Kafka's
 * `validateOffsetCommit`: generation −1 commits to a group without members).
 */
export const isSimpleCommit = (auth: CommitAuth): boolean =>
  !auth.memberId && (auth.generationId ?? -1) < 0 && (auth.memberEpoch ?? -1) < 0;

const utf8 = new TextEncoder();

/** Whether `text` is over `max` UTF-8 bytes; encodes only strings that could be (≤ 3 bytes per UTF-16 unit). */
const utf8Over = (text: string, max: number): boolean =>
  text.length * 3 > max && utf8.encode(text).length > max;

/** Who may commit to `group` (null: it does not exist yet). */
export function checkCommitter(group: Group | null, auth: CommitAuth, now: number): CohortError | null {
  // A classic group applies Kafka's whole order itself: its Empty state, not its member count, admits
  // a commit without a generation, and an instance id is checked even without a member id.
  if (group?.type === "classic") return group.checkMemberCommit(auth, now);
  if (isSimpleCommit(auth)) {
    if (group && group.memberCount > 0) {
      return {
        code: "UNKNOWN_MEMBER_ID",
        message: "the group has members: commits must carry memberId and generationId/memberEpoch",
      };
    }
    return null;
  }
  if (!group)
    return { code: "UNKNOWN_MEMBER_ID", message: `member ${auth.memberId ?? "(none)"} is not in the group` };
  return group.checkMemberCommit(auth, now);
}

/**
 * The rows an OffsetCommit writes, or why it is refused; all or nothing. Duplicate partitions keep the
 * last entry. A row's `logEndOffset` of null means "keep the one reported before".
 */
export function planCommit(
  group: Group | null,
  req: CommitRequest,
  now: number,
  config: Config,
): Result<OffsetRow[]> {
  const refused = checkCommitter(group, req, now);
  if (refused) return { ok: false, error: refused };
  const rows = new Map<string, OffsetRow>();
  for (const e of req.offsets) {
    const metadata = e.metadata ?? "";
    if (utf8Over(metadata, config.offsetMetadataMaxBytes)) {
      return fail(
        "OFFSET_METADATA_TOO_LARGE",
        `metadata for ${e.topic}-${e.partition} is over OFFSET_METADATA_MAX_BYTES (${config.offsetMetadataMaxBytes} bytes)`,
      );
    }
    rows.set(partitionKey(e.topic, e.partition), {
      topic: e.topic,
      partition: e.partition,
      offset: e.offset,
      metadata,
      leaderEpoch: e.leaderEpoch ?? null,
      committedAt: now,
      logEndOffset: e.logEndOffset ?? null,
    });
  }
  return ok([...rows.values()]);
}

export const lagOf = (offset: number, logEndOffset: number | null): number | null =>
  logEndOffset === null || offset < 0 ? null : Math.max(0, logEndOffset - offset);

export const toView = (row: OffsetRow): OffsetView => ({ ...row, lag: lagOf(row.offset, row.logEndOffset) });

/** The answer for a partition that has no committed offset (API.md §3: never 404). */
export const noOffset = (topic: string, partition: number): OffsetView => ({
  topic,
  partition,
  offset: -1,
  metadata: "",
  leaderEpoch: null,
  committedAt: null,
  logEndOffset: null,
  lag: null,
});

export const byTopicPartition = (
  a: { topic: string; partition: number },
  b: { topic: string; partition: number },
) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition);

export interface LagRow {
  topic: string;
  partition: number;
  committedOffset: number;
  logEndOffset: number | null;
  lag: number | null;
  memberId: string | null;
}

/** Lag per partition: every committed partition, plus assigned ones that have no commit yet. */
export function lagReport(group: Group, rows: OffsetRow[]): { totalLag: number; partitions: LagRow[] } {
  const owners = group.partitionOwners();
  const seen = new Set<string>();
  const partitions: LagRow[] = rows.map((r) => {
    const key = partitionKey(r.topic, r.partition);
    seen.add(key);
    return {
      topic: r.topic,
      partition: r.partition,
      committedOffset: r.offset,
      logEndOffset: r.logEndOffset,
      lag: lagOf(r.offset, r.logEndOffset),
      memberId: owners.get(key) ?? null,
    };
  });
  for (const [key, memberId] of owners) {
    if (seen.has(key)) continue;
    const at = key.lastIndexOf(":");
    const topic = key.slice(0, at);
    const partition = Number(key.slice(at + 1));
    partitions.push({ topic, partition, committedOffset: -1, logEndOffset: null, lag: null, memberId });
  }
  partitions.sort(byTopicPartition);
  const totalLag = partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0);
  return { totalLag, partitions };
}

export interface ResetRequest {
  topic: string;
  partitions?: number[] | undefined;
  to: "earliest" | "latest" | "offset" | "shift";
  offset?: number | undefined;
  shiftBy?: number | undefined;
  dryRun?: boolean | undefined;
}

export interface ResetChange {
  topic: string;
  partition: number;
  previousOffset: number;
  newOffset: number;
}

/**
 * The admin reset of `kafka-consumer-groups --reset-offsets` (API.md §3). `current` holds the topic's
 * committed rows. Targets are clamped to [0, logEndOffset] where the log end is known, as Kafka's tool
 * clamps to the log's range.
 */
export function planReset(
  group: Group | null,
  current: OffsetRow[],
  req: ResetRequest,
  now: number,
): Result<{ changes: ResetChange[]; rows: OffsetRow[] }> {
  if (group && group.memberCount > 0) {
    return fail(
      "NON_EMPTY_GROUP",
      `group ${group.groupId} has members: stop its consumers before resetting offsets`,
    );
  }
  const byPartition = new Map(current.map((r) => [r.partition, r]));
  const targets = req.partitions
    ? [...new Set(req.partitions)].sort((a, b) => a - b)
    : [...byPartition.keys()];
  const changes: ResetChange[] = [];
  const rows: OffsetRow[] = [];
  const unknown: number[] = [];
  for (const partition of targets) {
    const row = byPartition.get(partition);
    const end = row?.logEndOffset ?? null;
    let next: number;
    if (req.to === "earliest") next = 0;
    else if (req.to === "offset") next = req.offset ?? 0;
    else if (req.to === "latest") {
      if (end === null) {
        unknown.push(partition);
        continue;
      }
      next = end;
    } else {
      if (!row) {
        unknown.push(partition);
        continue;
      }
      // Clamped to the largest offset API.md allows (a double past 2^53 - 1 is no longer exact).
      next = Math.min(Number.MAX_SAFE_INTEGER, row.offset + (req.shiftBy ?? 0));
    }
    next = Math.max(0, end === null ? next : Math.min(next, end));
    changes.push({ topic: req.topic, partition, previousOffset: row?.offset ?? -1, newOffset: next });
    rows.push({
      topic: req.topic,
      partition,
      offset: next,
      metadata: "",
      leaderEpoch: null,
      committedAt: now,
      logEndOffset: row?.logEndOffset ?? null,
    });
  }
  if (unknown.length > 0) {
    const why = req.to === "latest" ? "no logEndOffset has been reported" : "nothing is committed to shift";
    return fail(
      "INVALID_REQUEST",
      `cannot reset ${req.topic} partitions [${unknown.join(", ")}] to ${req.to}: ${why}`,
    );
  }
  return ok({ changes, rows });
}

/**
 * KIP-211: the time from which the offsets of `group` age. A group with members keeps its offsets
 * (but see `agesUnsubscribed`); a group that only ever held offsets ages each offset from its commit
 * ("commit"); a group that had members ages all of them from when it became Empty.
 */
export function expiryBase(group: Group): "commit" | number | null {
  if (group.memberCount > 0) return null;
  if (group.protocolType === "" && group.type === "classic") return "commit";
  return group.emptySince;
}

/**
 * KIP-496: whether a group with members ages the offsets of topics none of them subscribes to, each
 * from its commit. A consumer-protocol group always knows its subscriptions; a classic group only
 * for protocol type "consumer" (readable metadata) and only while Stable, when they are settled — as
 * Kafka's `ClassicGroup.offsetExpirationCondition` has it.
 */
export function agesUnsubscribed(group: Group): boolean {
  if (group.memberCount === 0) return false;
  if (group.type === "consumer") return true;
  return group.knowsSubscriptions() && group.state === "Stable";
}

/**
 * What the alarm may ask storage about the group's offsets, lazily: `planExpiry` asks only what the
 * group's retention rule needs, so a group with members whose topics are all subscribed costs no
 * read once storage knows which topics it holds.
 */
export interface OffsetAges {
  /** Whether the group holds any offset. */
  any(): boolean;
  /** The oldest `committedAt` of any offset (null: none). May be older than the truth, never younger. */
  oldestCommit(): number | null;
  /** Each topic with offsets, with its oldest `committedAt` (may be older than the truth, never younger). */
  topicCommits(): ReadonlyMap<string, number>;
}

/**
 * What the alarm deletes now: offsets committed at or before `committedUpTo` (null = all), of
 * `topics` only when given, or nothing; and when the next offset expires if that is known without
 * another read.
 */
export interface ExpiryPlan {
  expire: { committedUpTo: number | null; topics?: string[] } | null;
  next: number | null;
}

/**
 * Offset expiry at `now`. Work is proportional to what can expire: an Empty group's offsets share
 * one deadline (emptySince + retention) and need no read to know it; a simple group ages offsets one
 * by one, and only the oldest commit is asked for; a group with members (KIP-496) looks only at the
 * topics none of its members subscribes to, judged by the subscriptions of `now`.
 */
export function planExpiry(group: Group, ages: OffsetAges, now: number, retentionMs: number): ExpiryPlan {
  if (agesUnsubscribed(group)) return planUnsubscribed(group, ages, now, retentionMs);
  const base = expiryBase(group);
  if (base === null) return { expire: null, next: null };
  if (base !== "commit") {
    const at = base + retentionMs;
    if (!ages.any()) return { expire: null, next: null };
    return at <= now ? { expire: { committedUpTo: null }, next: null } : { expire: null, next: at };
  }
  const oldest = ages.oldestCommit();
  if (oldest === null) return { expire: null, next: null };
  const cutoff = now - retentionMs;
  // After a deletion younger rows may remain: the caller plans again to learn the next deadline.
  if (oldest <= cutoff) return { expire: { committedUpTo: cutoff }, next: null };
  return { expire: null, next: oldest + retentionMs };
}

/** KIP-496: the unsubscribed topics' offsets committed at or before now − retention go. */
function planUnsubscribed(group: Group, ages: OffsetAges, now: number, retentionMs: number): ExpiryPlan {
  const cutoff = now - retentionMs;
  const topics: string[] = [];
  let next: number | null = null;
  for (const [topic, oldest] of ages.topicCommits()) {
    if (group.isSubscribed(topic)) continue;
    if (oldest <= cutoff) topics.push(topic);
    else next = next === null ? oldest + retentionMs : Math.min(next, oldest + retentionMs);
  }
  // After a deletion younger rows of those topics may remain: the caller plans again.
  if (topics.length > 0) return { expire: { committedUpTo: cutoff, topics: topics.sort() }, next: null };
  return { expire: null, next };
}

/**
 * A deadline at which offsets may expire, known without reading (or, for KIP-496 after a step that
 * wrote rows, from what storage remembers): arms the alarm early enough. `ages` is asked only when
 * `changed`: a step that wrote nothing changed no subscription.
 */
export function expiryHint(
  group: Group,
  committedNow: boolean,
  now: number,
  retentionMs: number,
  ages?: OffsetAges,
  changed = false,
): number | null {
  if (agesUnsubscribed(group)) {
    if (!ages || !changed) return null;
    const plan = planExpiry(group, ages, now, retentionMs);
    // An overdue expiry (a topic that just lost its last subscriber) is for the alarm to do now.
    return plan.expire ? now : plan.next;
  }
  const base = expiryBase(group);
  if (base === null) return null;
  if (base === "commit") return committedNow ? now + retentionMs : null;
  return base + retentionMs;
}

/** OffsetDelete (API.md §3): refused while a member subscribes to the topic, as Kafka refuses it. */
export function checkOffsetDelete(group: Group | null, topic: string): CohortError | null {
  if (!group) return { code: "GROUP_ID_NOT_FOUND", message: "the group does not exist" };
  if (group.memberCount > 0 && !group.knowsSubscriptions()) {
    return {
      code: "NON_EMPTY_GROUP",
      message: "the group has members whose subscriptions the coordinator cannot read",
    };
  }
  if (group.isSubscribed(topic)) {
    return { code: "GROUP_SUBSCRIBED_TO_TOPIC", message: `a member of the group subscribes to ${topic}` };
  }
  return null;
}
