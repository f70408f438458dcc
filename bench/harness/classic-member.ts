/**
 * A classic-protocol consumer (JoinGroup/SyncGroup) as the benchmarks drive it: KIP-394 join with the
 * id the coordinator hands out, the leader assigns partitions with a range split, every member syncs,
 * then heartbeats every `heartbeatMs` and rejoins on REBALANCE_IN_PROGRESS, as Kafka's client does.
 */
import type { Http } from "./load";

interface JoinReply {
  generationId: number;
  leaderId: string;
  memberId: string;
  members: { memberId: string; metadata: string }[];
}

const rangeSplit = (members: string[], topic: string, partitions: number) => {
  const sorted = [...members].sort();
  const per = Math.floor(partitions / sorted.length);
  const extra = partitions % sorted.length;
  let next = 0;
  return sorted.map((memberId, i) => {
    const n = per + (i < extra ? 1 : 0);
    const owned = Array.from({ length: n }, (_, k) => next + k);
    next += n;
    return { memberId, assignment: JSON.stringify({ partitions: [{ topic, partitions: owned }] }) };
  });
};

export class ClassicMember {
  memberId = "";
  /** The generation this member last completed a sync in, and what it got. */
  generation = -1;
  owned: number[] = [];
  private stopped = false;
  private done: Promise<void> = Promise.resolve();

  readonly http: Http;
  readonly groupId: string;
  readonly topic: string;
  readonly partitions: number;
  readonly heartbeatMs: number;
  readonly onChange: () => void;

  constructor(
    http: Http,
    groupId: string,
    topic: string,
    partitions: number,
    heartbeatMs: number,
    onChange: () => void,
  ) {
    this.http = http;
    this.groupId = groupId;
    this.topic = topic;
    this.partitions = partitions;
    this.heartbeatMs = heartbeatMs;
    this.onChange = onChange;
  }

  private post(kind: string, body: unknown) {
    return this.http.call("POST", `/v1/groups/${this.groupId}/classic/${kind}`, body);
  }

  start(): void {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const joined = await this.join();
      if (!joined) continue;
      const leader = joined.leaderId === this.memberId;
      const sync = await this.post("sync", {
        memberId: this.memberId,
        generationId: joined.generationId,
        assignments: leader
          ? rangeSplit(
              joined.members.map((m) => m.memberId),
              this.topic,
              this.partitions,
            )
          : [],
      });
      if (sync.status !== 200) continue;
      const assignment = JSON.parse(JSON.parse(sync.body).assignment) as {
        partitions: { partitions: number[] }[];
      };
      this.owned = assignment.partitions.flatMap((t) => t.partitions);
      this.generation = joined.generationId;
      this.onChange();
      await this.heartbeatUntilRebalance();
    }
  }

  private async join(): Promise<JoinReply | null> {
    const reply = await this.post("join", {
      memberId: this.memberId,
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 30_000,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: JSON.stringify({ topics: [this.topic] }) }],
    });
    const body = JSON.parse(reply.body);
    if (reply.status === 200) return body as JoinReply;
    if (body.error?.code === "MEMBER_ID_REQUIRED") this.memberId = body.error.memberId;
    else if (body.error?.code === "UNKNOWN_MEMBER_ID") this.memberId = "";
    else throw new Error(`classic join -> ${reply.status} ${reply.body}`);
    return null;
  }

  private async heartbeatUntilRebalance(): Promise<void> {
    while (!this.stopped) {
      await new Promise((r) => setTimeout(r, this.heartbeatMs));
      if (this.stopped) return;
      const reply = await this.post("heartbeat", { memberId: this.memberId, generationId: this.generation });
      if (reply.status !== 200) return;
    }
  }

  /** Leaves the group and waits for the loop to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.post("leave", { members: [{ memberId: this.memberId }] });
    await this.done;
  }
}
