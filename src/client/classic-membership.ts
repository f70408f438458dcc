/**
 * Membership through the classic protocol (API.md §4, Kafka's JoinGroup/SyncGroup); the leader computes
 * the assignment with an assignor from src/assignors (classic-assignment.ts). Two rebalance protocols,
 * as Kafka's ConsumerCoordinator: eager — every member revokes all it owns (committing first) before it
 * rejoins — and, when every offered assignor is cooperative (`cooperative-sticky`), KIP-429's
 * incremental one: members rejoin reporting what they own and keep processing it; after the sync each
 * revokes only what moved away and, if it revoked anything, rejoins for a follow-up round in which the
 * moved partitions, now unowned, reach their new owners.
 *
 * A rebalance has two phases, as Kafka's onJoinPrepare and JoinGroup: while revoking, the old
 * generation still fences commits and heartbeats go on (the coordinator keeps the session alive and
 * answers REBALANCE_IN_PROGRESS), so the rebalance timeout bounds `onPartitionsRevoked`, not the
 * session timeout; once the join is sent, the coordinator holds the member until the join completes.
 */

import type { z } from "@hono/zod-openapi";
import type { JoinBody, JoinResponse, SyncResponse } from "../api/classic-schemas.ts";
import { getAssignor } from "../assignors/index.ts";
import {
  assignedPartitions,
  leaderAssignments,
  rebalanceProtocol,
  subscriptionMetadata,
} from "./classic-assignment.ts";
import { CohortError } from "./errors.ts";
import { backoffDelay, groupPath, type HttpTransport } from "./http.ts";
import {
  type CommitFence,
  delay,
  type Membership,
  type MembershipHost,
  type MembershipOptions,
  pollTimeoutExpired,
  STALE_CHECK_MS,
} from "./membership.ts";
import { minus, type TopicPartition } from "./partitions.ts";

type JoinRequest = z.input<typeof JoinBody>;
type JoinResult = z.output<typeof JoinResponse>;
type SyncResult = z.output<typeof SyncResponse>;

export interface ClassicMembershipOptions extends MembershipOptions {
  assignors: string[];
  sessionTimeoutMs: number;
  heartbeatIntervalMs?: number | undefined;
}

/** idle: a member of a generation (or not yet joined); revoking: old generation, giving up partitions; joining: between JoinGroup and SyncGroup. */
type Phase = "idle" | "revoking" | "joining";

export class ClassicProtocolMembership implements Membership {
  readonly protocol = "classic";
  memberId: string;
  epoch = -1;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #rebalance: Promise<void> | undefined;
  #phase: Phase = "idle";
  /** Left its generation on poll timeout: rejoins once the handler shows progress. */
  #stale = false;
  readonly #http: HttpTransport;
  readonly #host: MembershipHost;
  readonly #options: ClassicMembershipOptions;
  readonly #cooperative: boolean;

  constructor(http: HttpTransport, host: MembershipHost, options: ClassicMembershipOptions) {
    this.#http = http;
    this.#host = host;
    this.#options = options;
    this.memberId = options.memberId ?? "";
    for (const name of options.assignors) {
      if (!getAssignor(name)) throw new RangeError(`unknown assignor ${name}`);
    }
    this.#cooperative = rebalanceProtocol(options.assignors) === "cooperative";
  }

  start(): Promise<void> {
    return this.#rejoin();
  }

  commitFence(): CommitFence | null {
    // While revoking the old generation still holds (Kafka commits in onJoinPrepare); after the join it does not.
    if (this.epoch < 0 || this.#joinSent()) return null;
    const fence: CommitFence = { memberId: this.memberId, generationId: this.epoch };
    if (this.#options.groupInstanceId) fence.groupInstanceId = this.#options.groupInstanceId;
    return fence;
  }

  heartbeatNow(): Promise<void> {
    return this.#heartbeat();
  }

  pollTimedOut(): void {
    if (this.#stopped || this.#stale) return;
    this.#pollTimedOut().catch((e) => this.#host.fatal(e));
    if (this.#stale) this.#schedule(); // from now on it looks often for the handler's return
  }

  async rejoin(reason: CohortError): Promise<void> {
    if (reason.code === "UNKNOWN_MEMBER_ID" && !this.#options.groupInstanceId) this.memberId = "";
    await this.#host.lost(reason);
    await this.#rejoin();
  }

  async leave(): Promise<void> {
    this.stop();
    if (!this.memberId || this.#options.groupInstanceId) return; // A static member stays until its session ends.
    await this.#http
      .request("POST", this.#path("classic/leave"), { body: { members: [{ memberId: this.memberId }] } })
      .catch(() => {});
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #path(suffix: string): string {
    return `${groupPath(this.#options.groupId)}/${suffix}`;
  }

  /** One rebalance at a time: (eager: revoke everything,) join, sync, reconcile to the new assignment. */
  #rejoin(): Promise<void> {
    this.#rebalance ??= this.#joinAndSync().finally(() => {
      this.#rebalance = undefined;
      this.#phase = "idle";
    });
    return this.#rebalance;
  }

  async #joinAndSync(): Promise<void> {
    for (;;) {
      if (!this.#cooperative) {
        // Revoke under the old generation, heartbeating meanwhile so a slow listener keeps the session.
        this.#phase = "revoking";
        if (this.epoch >= 0) this.#schedule();
        await this.#host.reconcile([]);
      }
      // Cooperative: the owned partitions stay owned, and processed, through the join.
      this.#phase = "joining";
      clearTimeout(this.#timer);
      const assigned = await this.#joinUntilSynced();
      if (assigned === null) return;
      // A member of the new generation: heartbeats resume before the listeners run, so a slow
      // listener keeps the session here too.
      this.#schedule();
      const revoked = minus(this.#host.owned(), assigned);
      await this.#host.reconcile(assigned);
      // KIP-429: what this member gave up is handed over in a follow-up round, which it asks for.
      if (!this.#cooperative || revoked.length === 0 || this.#stopped) return;
    }
  }

  /** Joins and syncs until a generation is formed; its assignment, or null when stopped. */
  async #joinUntilSynced(): Promise<TopicPartition[] | null> {
    for (let attempt = 0; !this.#stopped; attempt++) {
      try {
        const joined = await this.#join();
        const assignments =
          joined.leaderId === joined.memberId
            ? leaderAssignments(joined.protocolName ?? "", joined.members)
            : [];
        const synced = await this.#http.request<SyncResult>("POST", this.#path("classic/sync"), {
          body: {
            memberId: this.memberId,
            generationId: joined.generationId,
            groupInstanceId: this.#options.groupInstanceId ?? null,
            assignments,
          },
        });
        this.epoch = joined.generationId;
        this.#phase = "idle";
        return assignedPartitions(synced.assignment);
      } catch (error) {
        if (!(error instanceof CohortError)) throw error;
        if (error.code === "UNKNOWN_MEMBER_ID" && !this.#options.groupInstanceId) this.memberId = "";
        else if (!error.requiresRejoin && !error.retriable) throw error;
        // The transport retried already: back off before joining again rather than spin.
        if (error.retriable) await delay(backoffDelay(this.#http.retry, Math.min(attempt, 6)));
      }
    }
    return null;
  }

  async #join(): Promise<JoinResult> {
    const o = this.#options;
    // What the member owns now: nothing after an eager revocation, its partitions when cooperative.
    const metadata = subscriptionMetadata(o.topics, this.#host.owned());
    const body = (): JoinRequest => ({
      memberId: this.memberId,
      groupInstanceId: o.groupInstanceId ?? null,
      clientId: o.clientId ?? "cohort-sdk",
      sessionTimeoutMs: o.sessionTimeoutMs,
      rebalanceTimeoutMs: o.rebalanceTimeoutMs,
      protocolType: "consumer",
      protocols: o.assignors.map((name) => ({ name, metadata })),
    });
    try {
      const joined = await this.#http.request<JoinResult>("POST", this.#path("classic/join"), {
        body: body(),
      });
      this.memberId = joined.memberId;
      return joined;
    } catch (error) {
      // KIP-394: the first join gets its member id in the error and joins again with it.
      if (!(error instanceof CohortError) || error.code !== "MEMBER_ID_REQUIRED" || !error.memberId)
        throw error;
      this.memberId = error.memberId;
      const joined = await this.#http.request<JoinResult>("POST", this.#path("classic/join"), {
        body: body(),
      });
      this.memberId = joined.memberId;
      return joined;
    }
  }

  async #heartbeat(): Promise<void> {
    if (this.#stopped || this.#joinSent() || this.epoch < 0) return;
    const generation = this.epoch;
    try {
      await this.#http.request("POST", this.#path("classic/heartbeat"), {
        body: {
          memberId: this.memberId,
          generationId: generation,
          groupInstanceId: this.#options.groupInstanceId ?? null,
        },
      });
      if (!this.#joinSent()) this.#schedule();
    } catch (error) {
      if (!(error instanceof CohortError)) return this.#host.fatal(error);
      // An answer about a generation this member has moved past (or a join now in flight) says nothing.
      if (this.epoch !== generation || this.#joinSent()) return;
      if (this.#phase === "revoking") {
        this.#whileRevoking(error);
        return;
      }
      if (error.requiresRejoin) {
        const finishing = this.#rebalance;
        if (finishing) {
          // Still running onPartitionsAssigned: keep the session meanwhile, then the next rebalance
          // follows (started by the first heartbeat that waited here).
          this.#schedule();
          await finishing.catch(() => {});
          if (this.epoch !== generation || this.#stopped || this.#rebalance) return;
        }
        const next = error.code === "REBALANCE_IN_PROGRESS" ? this.#rejoin() : this.rejoin(error);
        await next.catch((e) => this.#host.fatal(e));
      } else if (error.retriable) {
        this.#schedule();
      } else {
        this.#host.fatal(error);
      }
    }
  }

  /** The phase is read through a method: it changes while a heartbeat awaits its answer. */
  #joinSent(): boolean {
    return this.#phase === "joining";
  }

  /** A heartbeat error while the revocation runs: the join that follows it is the answer to all of them. */
  #whileRevoking(error: CohortError): void {
    if (error.code === "REBALANCE_IN_PROGRESS" || error.retriable) {
      this.#schedule();
      return;
    }
    if (!error.requiresRejoin) {
      this.#host.fatal(error);
      return;
    }
    // The old generation is gone (the revocation outlasted the rebalance timeout): commit nothing more.
    if (error.code === "UNKNOWN_MEMBER_ID" && !this.#options.groupInstanceId) this.memberId = "";
    this.epoch = -1;
  }

  #schedule(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    const interval = this.#options.heartbeatIntervalMs ?? Math.floor(this.#options.sessionTimeoutMs / 3);
    const wait = this.#stale ? Math.min(interval, STALE_CHECK_MS) : interval;
    this.#timer = setTimeout(() => {
      if (this.#host.live?.() === false) {
        this.#pollTimedOut().catch((e) => this.#host.fatal(e));
        this.#schedule();
      } else if (this.#stale) {
        this.#stale = false;
        // A revocation under way joins by itself when its handler is done; otherwise rejoin now.
        if (!this.#rebalance) this.#rejoin().catch((e) => this.#host.fatal(e));
      } else {
        void this.#heartbeat();
      }
    }, wait);
  }

  /**
   * As Kafka's heartbeat thread on poll timeout (maybeLeaveGroup("consumer poll timeout has
   * expired.")): a dynamic member sends LeaveGroup at once, best effort, so the group rebalances now
   * rather than at the session timeout; a static member sends none (KIP-345: its session decides).
   * Either way the generation is dropped, so nothing more is committed under it, and the partitions
   * are lost, not revoked. Not while a join is in flight: the coordinator holds the member there.
   */
  async #pollTimedOut(): Promise<void> {
    if (this.#stale || this.epoch < 0 || this.#joinSent()) return;
    const instance = this.#options.groupInstanceId;
    const memberId = this.memberId;
    const action = instance
      ? "as a static member it sent no LeaveGroup (its session decides) and dropped its generation"
      : "it sent LeaveGroup";
    const reason = pollTimeoutExpired(this.#options.groupId, memberId, action);
    this.epoch = -1;
    this.#stale = true;
    if (!instance) this.memberId = ""; // it rejoins as a new member, as Kafka resets its generation
    // Lost first (its synchronous part drops the partitions), so a rejoin cannot overtake it.
    const lost = this.#host.lost(reason);
    const leaving = instance
      ? Promise.resolve()
      : this.#http
          .request("POST", this.#path("classic/leave"), {
            body: { members: [{ memberId, reason: "consumer poll timeout has expired." }] },
          })
          .then(() => {})
          .catch(() => {});
    await Promise.all([lost, leaving]);
  }
}
