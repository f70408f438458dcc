/**
 * Membership through the KIP-848 consumer protocol (API.md §5): one heartbeat call joins, reports the
 * owned partitions and receives the assignment. Heartbeats are serialized (one in flight, so epochs
 * stay ordered); a change of assignment is reconciled by the consumer and acknowledged by an immediate
 * heartbeat. The watch WebSocket, where available, makes every push trigger a heartbeat at once instead
 * of at the next interval: the coordinator moves a member's epoch and revocations only in that member's
 * own heartbeat response (Kafka's rule), so a push means "heartbeat now", whatever it carries.
 */

import type { z } from "@hono/zod-openapi";
import type { HeartbeatBody, HeartbeatResponse } from "../api/consumer-schemas.ts";
import { CohortError } from "./errors.ts";
import { encodeSegment, groupPath, type HttpTransport } from "./http.ts";
import {
  type CommitFence,
  HeartbeatQueue,
  joinFailure,
  type Membership,
  type MembershipHost,
  type MembershipOptions,
  pollTimeoutExpired,
  STALE_CHECK_MS,
} from "./membership.ts";
import { flatten, group, keyOf, type TopicPartition } from "./partitions.ts";
import { openWatch, type WatchSocket } from "./watch-socket.ts";

export type HeartbeatRequest = z.input<typeof HeartbeatBody>;
export type HeartbeatResult = z.output<typeof HeartbeatResponse>;

export interface ConsumerMembershipOptions extends MembershipOptions {
  /** Server-side assignor name (default: the coordinator's, `uniform`). */
  serverAssignor?: string | undefined;
  /** Open the watch WebSocket where the runtime can (default true). */
  watch?: boolean | undefined;
}

const LEAVE_EPOCH = -1;
const STATIC_LEAVE_EPOCH = -2;

const sameSet = (a: TopicPartition[], b: TopicPartition[]) =>
  a.length === b.length && a.every((tp, i) => keyOf(tp) === keyOf(b[i]!));

export class ConsumerProtocolMembership implements Membership {
  readonly protocol = "consumer";
  memberId: string;
  epoch = 0;
  #intervalMs = 5_000;
  readonly #beats = new HeartbeatQueue(() => this.#beat());
  /** Why the last heartbeat failed, for start() to report. */
  #lastError: unknown;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #socket: WatchSocket | null = null;
  #socketOpening = false;
  #reconcilingKey: string | undefined;
  /** The latest reconciliation and its acknowledgement. */
  reconciled: Promise<void> = Promise.resolve();
  #stopped = false;
  /** Left on poll timeout (Kafka's STALE): rejoins with epoch 0 once the handler shows progress. */
  #stale = false;
  readonly #http: HttpTransport;
  readonly #host: MembershipHost;
  readonly #options: ConsumerMembershipOptions;

  constructor(http: HttpTransport, host: MembershipHost, options: ConsumerMembershipOptions) {
    this.#http = http;
    this.#host = host;
    this.#options = options;
    // KIP-848: the client names itself, so a lost join response cannot leave a ghost member behind.
    this.memberId = options.memberId ?? crypto.randomUUID();
  }

  /**
   * The first heartbeat joins. If it fails the membership stops — no member may join later in the
   * background, owning partitions nobody processes — and start() rejects with the failure itself, so
   * `retriable` says whether starting a new consumer may help.
   */
  async start(): Promise<void> {
    this.#lastError = undefined;
    await this.heartbeatNow();
    await this.reconciled;
    if (this.#stopped || this.epoch > 0) return;
    this.#halt();
    throw joinFailure(this.#lastError);
  }

  commitFence(): CommitFence | null {
    if (this.epoch <= 0) return null;
    const fence: CommitFence = { memberId: this.memberId, memberEpoch: this.epoch };
    if (this.#options.groupInstanceId) fence.groupInstanceId = this.#options.groupInstanceId;
    return fence;
  }

  /** Queues a heartbeat after any in flight (coalesced: see HeartbeatQueue); resolves when it is done. */
  heartbeatNow(): Promise<void> {
    return this.#beats.now();
  }

  pollTimedOut(): void {
    this.heartbeatNow().catch(() => {}); // the heartbeat finds the handler stuck and leaves instead
  }

  async rejoin(reason: CohortError): Promise<void> {
    if (this.epoch === 0) return;
    await this.#fenced(reason);
    await this.heartbeatNow();
  }

  async leave(): Promise<void> {
    const instance = this.#options.groupInstanceId;
    const body = instance
      ? { memberId: this.memberId, memberEpoch: STATIC_LEAVE_EPOCH, groupInstanceId: instance }
      : { memberId: this.memberId, memberEpoch: LEAVE_EPOCH };
    await this.#beats.settled();
    this.#halt();
    if (this.epoch <= 0) return;
    await this.#http.request("POST", this.#path("heartbeat"), { body }).catch(() => {}); // Leaving is best effort: the session timeout removes the member anyway.
    this.epoch = 0;
  }

  stop(): void {
    this.#halt();
  }

  #halt(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#socket?.close();
    this.#socket = null;
  }

  #path(suffix: string): string {
    return `${groupPath(this.#options.groupId)}/${suffix}`;
  }

  /**
   * One heartbeat. A changed assignment is reconciled in the background — heartbeats go on meanwhile,
   * so a long revocation does not cost the session — and acknowledged by a heartbeat when done.
   */
  async #beat(): Promise<void> {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    // A handler stuck past the poll interval: no heartbeat says the member is well (Kafka's poll timeout).
    if (this.#host.live?.() === false) return this.#pollTimedOut();
    this.#stale = false;
    const reported = this.#host.owned();
    let result: HeartbeatResult;
    try {
      result = await this.#http.request<HeartbeatResult>("POST", this.#path("heartbeat"), {
        body: this.#request(reported),
      });
    } catch (error) {
      await this.#onError(error);
      return;
    }
    if (this.#stopped) return;
    this.memberId = result.memberId;
    this.epoch = result.memberEpoch;
    this.#intervalMs = result.heartbeatIntervalMs;
    this.#schedule();
    this.#ensureWatch();
    const target = flatten(result.assignment.partitions);
    const targetKey = target.map(keyOf).join(" ");
    if (sameSet(target, reported) || targetKey === this.#reconcilingKey) return;
    this.#reconcilingKey = targetKey;
    this.reconciled = this.#host.reconcile(target).then(() => {
      if (this.#reconcilingKey === targetKey) this.#reconcilingKey = undefined;
      // Acknowledge at once: the coordinator hands revoked partitions on only after this.
      if (!sameSet(this.#host.owned(), reported)) return this.heartbeatNow();
    });
    this.reconciled.catch((error) => this.#host.fatal(error));
  }

  #request(owned: TopicPartition[]): HeartbeatRequest {
    const o = this.#options;
    return {
      memberId: this.memberId,
      memberEpoch: this.epoch,
      groupInstanceId: o.groupInstanceId ?? null,
      clientId: o.clientId,
      rebalanceTimeoutMs: o.rebalanceTimeoutMs,
      subscribedTopics: Object.entries(o.topics).map(([name, partitions]) => ({ name, partitions })),
      serverAssignor: o.serverAssignor ?? null,
      // A join owns nothing (the coordinator refuses one that says otherwise, as Kafka does).
      ownedPartitions: this.epoch === 0 ? [] : group(owned),
    };
  }

  async #onError(error: unknown): Promise<void> {
    this.#lastError = error;
    if (!(error instanceof CohortError)) return this.#host.fatal(error);
    if (error.code === "UNKNOWN_MEMBER_ID" || error.code === "FENCED_MEMBER_EPOCH") {
      await this.#fenced(error);
      this.#soon(0);
    } else if (error.code === "UNRELEASED_INSTANCE_ID") {
      // The previous holder of the static id is still alive until its session expires: try again later.
      this.#soon(this.#intervalMs);
    } else if (error.retriable) {
      // The transport retried already; the next scheduled heartbeat tries again.
      this.#schedule();
    } else {
      this.#host.fatal(error);
    }
  }

  /** Fenced or unknown: partitions are lost, the member rejoins with epoch 0 and the same id. */
  async #fenced(error: CohortError): Promise<void> {
    this.epoch = 0;
    this.#reconcilingKey = undefined; // a reconciliation under way belongs to the lost membership
    this.#socket?.close();
    this.#socket = null;
    await this.#host.lost(error);
  }

  /**
   * As Kafka's consumer on poll timer expiry (transitionToSendingLeaveGroup): leave at once, -1 (a
   * static member -2, so the coordinator holds its partitions for it until its session ends), without
   * waiting for the answer; the partitions are lost, not revoked (nothing is committed under the old
   * epoch). The member then waits for its handler and rejoins with epoch 0, the same member id.
   */
  async #pollTimedOut(): Promise<void> {
    if (this.epoch > 0) {
      const instance = this.#options.groupInstanceId;
      const body = instance
        ? { memberId: this.memberId, memberEpoch: STATIC_LEAVE_EPOCH, groupInstanceId: instance }
        : { memberId: this.memberId, memberEpoch: LEAVE_EPOCH };
      const action = instance
        ? "it left temporarily as a static member (memberEpoch -2): the group holds its partitions until its session ends"
        : "it left the group (memberEpoch -1)";
      const reason = pollTimeoutExpired(this.#options.groupId, this.memberId, action);
      this.epoch = 0; // from here on nothing is committed under the old epoch
      this.#stale = true;
      // Kafka does not wait for the leave's answer either: the member may join before or after it.
      const leaving = this.#http.request("POST", this.#path("heartbeat"), { body }).catch(() => {});
      await this.#fenced(reason);
      await leaving;
    }
    this.#soon(this.#stale ? Math.min(this.#intervalMs, STALE_CHECK_MS) : this.#intervalMs);
  }

  #schedule(): void {
    this.#soon(this.#intervalMs);
  }

  #soon(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.heartbeatNow().catch(() => {}), ms);
  }

  #ensureWatch(): void {
    if (this.#options.watch === false || this.#socket || this.#socketOpening || this.epoch <= 0) return;
    this.#socketOpening = true;
    const path = this.#path(`members/${encodeSegment(this.memberId)}/watch`);
    openWatch(this.#http, path, {
      onMessage: (message) => {
        // An assignment push says the target moved or waited-for partitions were freed; what it
        // carries may already be the member's own view, yet only the heartbeat's answer moves it.
        // A fenced notice likewise: the heartbeat's error is what makes the member rejoin.
        const type = (message as { type?: unknown }).type;
        if (type === "assignment" || type === "fenced") this.heartbeatNow().catch(() => {});
      },
      onClose: () => {
        this.#socket = null;
      },
    })
      .then((socket) => {
        if (this.#stopped) socket?.close();
        else this.#socket = socket;
      })
      .finally(() => {
        this.#socketOpening = false;
      });
  }
}
