/**
 * A well-behaved KIP-848 member for the soak: it sends only what it was told (the epoch and partitions
 * of its last response), heartbeats every heartbeatIntervalMs, acknowledges a changed assignment at once
 * (revoking what is gone), and never gives up: an error is recorded by code and the member carries on
 * as a Kafka client would (rejoin at epoch 0 on UNKNOWN_MEMBER_ID or FENCED_MEMBER_EPOCH; retry on a
 * refused connection while the runtime is down). `die()` stops it without a leave (a crash).
 */
import type { Http } from "../harness/load";
import { type Recorder, round } from "./recorder";

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

interface HeartbeatReply {
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { partitions: TopicPartitions[] };
}

export class SoakMember {
  epoch = 0;
  owned: TopicPartitions[] = [];
  alive = true;
  /** When the last heartbeat that got a 200 was sent: the coordinator heard it no earlier. */
  lastOkSentAt = Number.NEGATIVE_INFINITY;
  private intervalMs = 1000;
  private timer: NodeJS.Timeout | null = null;
  private joining = true;

  private readonly http: Http;
  private readonly groupId: string;
  readonly memberId: string;
  private readonly topic: { name: string; partitions: number };
  private readonly recorder: Recorder;
  private readonly sessionMs: number;

  constructor(
    http: Http,
    groupId: string,
    memberId: string,
    topic: { name: string; partitions: number },
    recorder: Recorder,
    sessionMs: number,
  ) {
    this.sessionMs = sessionMs;
    this.http = http;
    this.groupId = groupId;
    this.memberId = memberId;
    this.topic = topic;
    this.recorder = recorder;
  }

  /** Certainly still a member: its last answered heartbeat was sent less than a session ago. */
  inSession(now = performance.now()): boolean {
    return this.alive && now < this.lastOkSentAt + this.sessionMs;
  }

  get ownedCount(): number {
    return this.owned.reduce((n, t) => n + t.partitions.length, 0);
  }

  /** Joins after `delayMs` (spreads a group's heartbeats over the interval), then keeps beating. */
  start(delayMs: number): void {
    this.timer = setTimeout(() => void this.beat(), delayMs);
  }

  /** Stops silently: no leave, its session has to expire on the coordinator. */
  die(): void {
    this.alive = false;
    if (this.timer) clearTimeout(this.timer);
  }

  private async beat(): Promise<void> {
    if (!this.alive) return;
    const body = this.joining
      ? {
          memberId: this.memberId,
          memberEpoch: 0,
          subscribedTopics: [{ name: this.topic.name, partitions: this.topic.partitions }],
          ownedPartitions: [],
          rebalanceTimeoutMs: 30_000,
        }
      : { memberId: this.memberId, memberEpoch: this.epoch, ownedPartitions: this.owned };
    const t0 = performance.now();
    let next = this.intervalMs;
    try {
      const reply = await this.http.call("POST", `/v1/groups/${this.groupId}/heartbeat`, body);
      if (!this.alive) return;
      if (reply.status === 200) {
        this.lastOkSentAt = t0;
        this.recorder.ok(performance.now() - t0);
        const r = JSON.parse(reply.body) as HeartbeatReply;
        const changed =
          r.memberEpoch !== this.epoch ||
          JSON.stringify(r.assignment.partitions) !== JSON.stringify(this.owned);
        this.joining = false;
        this.epoch = r.memberEpoch;
        this.owned = r.assignment.partitions;
        this.intervalMs = r.heartbeatIntervalMs;
        // Acknowledge a new epoch or assignment at once, as KIP-848 clients do.
        next = changed ? 0 : this.intervalMs;
      } else {
        const code = errorCode(reply.body) ?? `HTTP_${reply.status}`;
        // Answered before its session could have expired: an error a well-behaved member must never
        // see. Otherwise the member was late (on an overloaded machine), and the error is Kafka's rule.
        const late = !this.inSession() && !this.joining;
        this.recorder.error(late ? `${code} (late)` : code, performance.now() - t0);
        if (!late)
          this.recorder.note(
            `${this.memberId} got ${code} at epoch ${body.memberEpoch}${this.joining ? " (joining)" : ""}: sent ${round(t0 - this.lastOkSentAt)} ms after its last answered heartbeat was sent, answered ${round(performance.now() - t0)} ms later`,
          );
        if (code === "UNKNOWN_MEMBER_ID" || code === "FENCED_MEMBER_EPOCH") {
          this.joining = true;
          this.epoch = 0;
          this.owned = [];
          next = 0;
        }
      }
    } catch (err) {
      // The runtime is down (killed) or restarting: no answer at all.
      this.recorder.unreachable((err as NodeJS.ErrnoException).code ?? "ERROR");
      next = 250;
    }
    if (this.alive) this.timer = setTimeout(() => void this.beat(), next);
  }
}

export function errorCode(body: string): string | null {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? null;
  } catch {
    return null;
  }
}
