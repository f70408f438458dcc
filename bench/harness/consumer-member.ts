/**
 * A KIP-848 consumer as the benchmarks drive it: it joins with a subscription, adopts every assignment
 * it is given at once (revoking what is gone, taking what is new), and acknowledges every change of
 * epoch or partitions with an immediate heartbeat reporting what it now owns, as KIP-848 clients do.
 * Over HTTP ("plain polling") it learns of changes only from its own heartbeats, every
 * heartbeatIntervalMs; over the watch WebSocket the coordinator also pushes them.
 */
import type { Http } from "./load";

interface TopicPartitions {
  topic: string;
  partitions: number[];
}

interface HeartbeatReply {
  type?: string;
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { partitions: TopicPartitions[] };
}

export interface Subscription {
  topic: string;
  partitions: number;
}

export class ConsumerMember {
  epoch = 0;
  owned: TopicPartitions[] = [];
  intervalMs = 5000;
  private socket: WebSocket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pending: ((reply: HeartbeatReply) => void)[] = [];
  /** Heartbeats of one member go one at a time, as a client's do. */
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private handler: (data: string) => void = () => undefined;

  readonly http: Http;
  readonly groupId: string;
  readonly memberId: string;
  readonly subscription: Subscription;
  /** Called after every change of what the member owns, for the benchmark to check convergence. */
  readonly onChange: () => void;

  constructor(
    http: Http,
    groupId: string,
    memberId: string,
    subscription: Subscription,
    onChange: () => void,
  ) {
    this.http = http;
    this.groupId = groupId;
    this.memberId = memberId;
    this.subscription = subscription;
    this.onChange = onChange;
  }

  get ownedCount(): number {
    return this.owned.reduce((n, t) => n + t.partitions.length, 0);
  }

  /** Opens the watch socket (push mode); heartbeats then go over it. */
  async connect(baseUrl: string): Promise<void> {
    const url = `${baseUrl.replace(/^http/, "ws")}/v1/groups/${this.groupId}/members/${this.memberId}/watch`;
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error(`watch socket of ${this.memberId} failed`)));
    });
    this.handler = (data) => {
      const msg = JSON.parse(data) as HeartbeatReply;
      if (msg.type === "assignment") this.adopt(msg, (msg as { reconcile?: boolean }).reconcile === true);
      else this.pending.shift()?.(msg);
    };
    ws.addEventListener("message", (event) => this.handler(String(event.data)));
    this.socket = ws;
  }

  /**
   * Epoch 0 with the subscription (over HTTP: a watch is for members only); with `watchUrl`, then the
   * watch socket and one heartbeat over it, so nothing pushed before the socket opened is missed; then
   * heartbeats every interval until stop().
   */
  async join(watchUrl?: string): Promise<void> {
    await this.heartbeat(true);
    if (watchUrl) {
      await this.connect(watchUrl);
      await this.heartbeat();
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.heartbeat().then(() => this.schedule());
    }, this.intervalMs);
  }

  /** One heartbeat (HTTP, or a message on the socket when connected), after the previous one. */
  heartbeat(joining = false): Promise<HeartbeatReply> {
    const next = this.chain.then(() => this.send(joining));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async send(joining: boolean): Promise<HeartbeatReply> {
    if (this.stopped && !joining)
      return {
        memberId: this.memberId,
        memberEpoch: this.epoch,
        heartbeatIntervalMs: this.intervalMs,
        assignment: { partitions: this.owned },
      };
    const body = {
      memberId: this.memberId,
      memberEpoch: joining ? 0 : this.epoch,
      ...(joining
        ? { subscribedTopics: [{ name: this.subscription.topic, partitions: this.subscription.partitions }] }
        : {}),
      ownedPartitions: this.owned,
      rebalanceTimeoutMs: 30_000,
    };
    let reply: HeartbeatReply;
    if (this.socket) {
      const answered = new Promise<HeartbeatReply>((resolve) => this.pending.push(resolve));
      this.socket.send(JSON.stringify({ type: "heartbeat", ...body }));
      reply = await answered;
      if ("error" in reply) throw new Error(`heartbeat refused: ${JSON.stringify(reply)}`);
    } else {
      reply = await this.http.json<HeartbeatReply>("POST", `/v1/groups/${this.groupId}/heartbeat`, body);
    }
    this.intervalMs = reply.heartbeatIntervalMs;
    this.adopt(reply);
    return reply;
  }

  /** A bare steady-state heartbeat (member id and epoch only), for throughput figures. */
  steadyBody(): { memberId: string; memberEpoch: number } {
    return { memberId: this.memberId, memberEpoch: this.epoch };
  }

  sendOnSocket(message: string): void {
    this.socket?.send(message);
  }

  /** Replaces the socket's reply handler (throughput runs read replies themselves). */
  onSocketMessage(handler: (data: string) => void): void {
    this.handler = handler;
  }

  /** `reconcile`: a push saying the target moved; the heartbeat it asks for brings the assignment. */
  private adopt(
    reply: { memberEpoch: number; assignment: { partitions: TopicPartitions[] } },
    reconcile = false,
  ): void {
    if (reply.memberEpoch < this.epoch) return;
    const changed =
      reconcile ||
      reply.memberEpoch !== this.epoch ||
      JSON.stringify(reply.assignment.partitions) !== JSON.stringify(this.owned);
    this.epoch = reply.memberEpoch;
    this.owned = reply.assignment.partitions;
    this.onChange();
    // Acknowledge the reconciled assignment at once (not waiting for the interval).
    if (changed && !this.stopped) void this.heartbeat();
  }

  /** Stops the interval heartbeats, keeping the socket (throughput runs send their own). */
  pause(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Stops heartbeating; `leave` also sends epoch −1 so the group shrinks at once. */
  async stop(leave: boolean): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (leave) {
      await this.http.json("POST", `/v1/groups/${this.groupId}/heartbeat`, {
        memberId: this.memberId,
        memberEpoch: -1,
      });
    }
    this.socket?.close();
  }
}
