/**
 * Offset writers for the kill phase: each commits 1, 2, 3, … to its own partition (simple commits, as
 * admin tools and manually assigned consumers make them), one at a time, and remembers the highest
 * offset the coordinator acknowledged with a 200. A commit that got no answer is retried with the same
 * offset. `lost()` reads the committed offsets back: any partition below its acknowledged offset lost an
 * acknowledged commit.
 */
import type { Http } from "../harness/load";
import { errorCode } from "./member";

export class Writers {
  readonly acked: number[];
  private running = false;
  private loops: Promise<void>[] = [];
  /** When each acknowledgement arrived (performance.now()), to time recovery after a kill. */
  readonly ackTimes: number[] = [];
  readonly errors = new Map<string, number>();
  unanswered = 0;
  commits = 0;

  private readonly http: Http;
  readonly groupId: string;
  readonly topic: string;

  constructor(http: Http, groupId: string, topic: string, count: number) {
    this.http = http;
    this.groupId = groupId;
    this.topic = topic;
    this.acked = new Array(count).fill(0);
  }

  start(): void {
    this.running = true;
    this.loops = this.acked.map((_, p) => this.loop(p));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** The first acknowledgement after `t` (performance.now() ms), or null. */
  firstAckAfter(t: number): number | null {
    let i = this.ackTimes.length;
    while (i > 0 && this.ackTimes[i - 1]! > t) i--;
    return this.ackTimes[i] ?? null;
  }

  private async loop(partition: number): Promise<void> {
    while (this.running) {
      const offset = this.acked[partition]! + 1;
      try {
        const reply = await this.http.call("POST", `/v1/groups/${this.groupId}/offsets`, {
          offsets: [{ topic: this.topic, partition, offset }],
        });
        if (reply.status === 200) {
          this.acked[partition] = offset;
          this.ackTimes.push(performance.now());
          this.commits++;
        } else {
          const code = errorCode(reply.body) ?? `HTTP_${reply.status}`;
          this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 50));
        }
      } catch {
        this.unanswered++;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Acknowledged commits the coordinator no longer has, per partition (offset acked − offset stored). */
  async lost(): Promise<{ lost: number; partitions: number[] }> {
    // What was acknowledged before the read: commits acknowledged while it is under way may be newer.
    const acked = [...this.acked];
    const reply = await this.http.json<{ offsets: { partition: number; offset: number }[] }>(
      "GET",
      `/v1/groups/${this.groupId}/offsets?topic=${this.topic}`,
    );
    const stored = new Map(reply.offsets.map((o) => [o.partition, o.offset]));
    let lost = 0;
    const partitions: number[] = [];
    acked.forEach((a, p) => {
      const have = stored.get(p) ?? 0;
      if (have < a) {
        lost += a - have;
        partitions.push(p);
      }
    });
    return { lost, partitions };
  }
}
