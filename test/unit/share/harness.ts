/**
 * A share group driven with a fake clock, as the Durable Object drives it: each call configures the
 * group and runs one core decision at `now`; the rows it leaves are kept in a store like SQLite's, so
 * `restart()` rebuilds the group from them exactly as a new object would.
 */

import { type Config, DEFAULT_CONFIG } from "../../../src/core/config";
import type { Result } from "../../../src/core/errors";
import type { Group } from "../../../src/core/group";
import { restoreGroup } from "../../../src/core/restore";
import {
  type AcquireCompletion,
  type AcquirePartition,
  type AcquireResponse,
  type AcquireStep,
  ShareGroup,
  type ShareHeartbeatRequest,
  type ShareHeartbeatResponse,
} from "../../../src/core/share/share-group";
import { shareHeartbeat } from "../../../src/core/share/share-heartbeat";
import type {
  AcknowledgeEntry,
  ArchivedRange,
  SharePartitionRecord,
  ShareSettings,
} from "../../../src/core/share/share-types";

export const SETTINGS: ShareSettings = {
  lockDurationMs: 30_000,
  deliveryCountLimit: 5,
  maxInFlight: 2000,
  autoOffsetReset: "earliest",
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 5000,
  retentionMs: 7 * 24 * 3600_000,
};

export const CONFIG: Config = { ...DEFAULT_CONFIG, authMode: "none" };

/** Persisted rows as the shell's store would hold them. */
export class Rows {
  record: unknown = null;
  members = new Map<string, unknown>();
  partitions = new Map<string, SharePartitionRecord>();
  archived = new Map<string, ArchivedRange>();
  writes = 0;

  /** Writes what the group changed and marks it saved (a committed transaction). */
  save(group: ShareGroup): void {
    if (!group.dirty) return;
    const json = <T>(v: T): T => JSON.parse(JSON.stringify(v));
    const rows = group.dirtyRows();
    if (rows.group) {
      this.record = json(group.toRecord());
      this.writes++;
    }
    for (const [id, m] of rows.members) {
      this.writes++;
      if (m === undefined) this.members.delete(id);
      else this.members.set(id, json(m));
    }
    const share = group.dirtyShareRows();
    for (const [key, p] of share.partitions) {
      this.writes++;
      if (p === undefined) this.partitions.delete(key);
      else this.partitions.set(key, json(p));
    }
    for (const r of share.archivedRemoved) {
      this.writes++;
      this.archived.delete(`${r.topic}:${r.partition}:${r.firstOffset}`);
    }
    for (const r of share.archivedAdded) {
      this.writes++;
      this.archived.set(`${r.topic}:${r.partition}:${r.firstOffset}`, json(r));
    }
    group.markSaved();
  }

  restore(now: number): ShareGroup {
    const members = [...this.members.keys()].sort().map((id) => this.members.get(id));
    return restoreGroup(this.record as never, members, now, {
      partitions: [...this.partitions.values()],
      archived: [...this.archived.values()],
    }) as ShareGroup;
  }
}

export class ShareHarness {
  now = 1_000_000;
  group: Group | null = null;
  settings: ShareSettings;
  config: Config;
  rows = new Rows();
  private ids = 0;
  private tickets = 0;
  /** Answers delivered to parked acquires, by ticket. */
  readonly delivered = new Map<number, Result<AcquireResponse>>();

  constructor(settings: Partial<ShareSettings> = {}, config: Partial<Config> = {}) {
    this.settings = { ...SETTINGS, ...settings };
    this.config = { ...CONFIG, ...config };
  }

  get share(): ShareGroup {
    if (!(this.group instanceof ShareGroup)) throw new Error("not a share group");
    return this.group;
  }

  /** After every decision, as the shell: rows written, completions delivered. */
  private after(): void {
    if (this.group instanceof ShareGroup) {
      this.rows.save(this.group);
      for (const c of this.group.takeCompletions()) this.deliver(c);
    }
  }

  /** Called for each answer to a parked acquire, at the moment it is delivered. */
  onDeliver: ((c: AcquireCompletion, now: number) => void) | null = null;

  private deliver(c: AcquireCompletion): void {
    this.delivered.set(c.ticket, c.result);
    this.onDeliver?.(c, this.now);
  }

  heartbeat(req: ShareHeartbeatRequest): Result<ShareHeartbeatResponse> {
    const { group, result } = shareHeartbeat(
      this.group,
      "g",
      req,
      this.now,
      this.settings,
      this.config,
      () => `gen-${++this.ids}`,
    );
    this.group = group;
    this.after();
    return result;
  }

  /** Joins subscribing to `topics` (name -> partition count); throws on error. */
  join(memberId: string, topics: Record<string, number>): ShareHeartbeatResponse {
    return this.must({
      memberId,
      memberEpoch: 0,
      subscribedTopics: Object.entries(topics).map(([name, partitions]) => ({ name, partitions })),
    });
  }

  /** A steady heartbeat at the member's current epoch; throws on error. */
  beat(memberId: string): ShareHeartbeatResponse {
    const m = this.share.members.get(memberId);
    if (!m) throw new Error(`no member ${memberId}`);
    return this.must({ memberId, memberEpoch: m.memberEpoch });
  }

  must(req: ShareHeartbeatRequest): ShareHeartbeatResponse {
    const r = this.heartbeat(req);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return r.value;
  }

  /** An acquire; returns the step and its ticket. */
  acquire(
    memberId: string,
    maxRecords: number,
    opts: { maxWaitMs?: number; partitions?: AcquirePartition[]; acks?: AcknowledgeEntry[] } = {},
  ): { step: AcquireStep; ticket: number } {
    const ticket = ++this.tickets;
    this.share.configure(this.settings);
    const step = this.share.acquire(
      {
        memberId,
        maxRecords,
        maxWaitMs: opts.maxWaitMs ?? 0,
        partitions: opts.partitions,
        acknowledgements: opts.acks,
      },
      this.now,
      ticket,
    );
    this.after();
    return { step, ticket };
  }

  /** An acquire that must reply at once with success. */
  take(
    memberId: string,
    maxRecords: number,
    opts: { partitions?: AcquirePartition[]; acks?: AcknowledgeEntry[] } = {},
  ): AcquireResponse {
    const { step } = this.acquire(memberId, maxRecords, opts);
    if (step.kind !== "reply") throw new Error("parked");
    if (!step.result.ok) throw new Error(`${step.result.error.code}: ${step.result.error.message}`);
    return step.result.value;
  }

  ack(memberId: string, entries: AcknowledgeEntry[]) {
    this.share.configure(this.settings);
    const r = this.share.acknowledge(memberId, entries, this.now);
    this.after();
    return r;
  }

  advance(ms: number): void {
    this.now += ms;
  }

  /** Runs the alarm if a deadline is due, as the shell does (repeatedly, while one is due). */
  alarm(): void {
    if (!(this.group instanceof ShareGroup)) return;
    this.share.configure(this.settings);
    const due = this.share.nextDeadline();
    if (due !== null && due <= this.now) this.share.onDeadlines(this.now);
    this.after();
  }

  /** Moves the clock step by step to `now + ms`, running the alarm at each deadline on the way. */
  pass(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = this.group instanceof ShareGroup ? this.share.nextDeadline() : null;
      if (due === null || due > end) break;
      this.now = Math.max(this.now, due);
      this.alarm();
      // onDeadlines must consume what is due (else the alarm would fire hot forever).
      const after = this.group instanceof ShareGroup ? this.share.nextDeadline() : null;
      if (after !== null && after <= this.now) throw new Error(`deadline ${after} still due after the alarm`);
    }
    this.now = end;
  }

  /** The object restarts: a new group from the rows (locks and parked acquires are lost). */
  restart(): void {
    if (!(this.group instanceof ShareGroup)) return;
    this.group = this.rows.restore(this.now);
    this.share.configure(this.settings);
  }
}

export const part = (topic: string, partition: number, logEndOffset?: number, logStartOffset?: number) => ({
  topic,
  partition,
  logEndOffset,
  logStartOffset,
});

export const entry = (
  topic: string,
  partition: number,
  firstOffset: number,
  lastOffset: number,
  type: AcknowledgeEntry["type"],
): AcknowledgeEntry => ({ topic, partition, firstOffset, lastOffset, type });
