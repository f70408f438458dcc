/**
 * A scripted stand-in for the coordinator's consumer-protocol routes, for SDK unit tests in Node:
 * heartbeats answer with the epoch and assignment the test sets (optionally held until released),
 * offset fetches answer from what was committed, and commits pass through a hook the test controls.
 * Plus a fake global WebSocket, so the watch socket's pushes can be scripted.
 */

import type { FetchLike } from "../../../src/client/http.ts";

export interface HeartbeatSeen {
  memberId: string;
  memberEpoch: number;
  groupInstanceId?: string | null;
  ownedPartitions: { topic: string; partitions: number[] }[];
  /** When it arrived (Date.now(), fake or not). */
  at?: number;
}

export interface CommitSeen {
  memberId?: string;
  memberEpoch?: number;
  offsets: { topic: string; partition: number; offset: number }[];
}

type ErrorBody = { status: number; code: string; kafkaCode?: number };

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const errorResponse = ({ status, code, kafkaCode }: ErrorBody) =>
  json(status, { error: { code, kafkaCode: kafkaCode ?? null, message: code } });

export class ScriptedCoordinator {
  epoch = 1;
  heartbeatIntervalMs = 60_000;
  assignment: { topic: string; partitions: number[] }[] = [];
  readonly heartbeats: HeartbeatSeen[] = [];
  readonly commits: CommitSeen[] = [];
  readonly committed = new Map<string, number>();
  /** Answers a commit with an error instead of storing it (return undefined to store it). */
  refuseCommit: (commit: CommitSeen) => ErrorBody | undefined = () => undefined;
  /** Answers a heartbeat with an error instead (return undefined to answer it normally). */
  refuseHeartbeat: (heartbeat: HeartbeatSeen) => ErrorBody | undefined = () => undefined;
  /** This many offset fetches answer 503 first. */
  unavailableFetches = 0;
  /** While set, offset fetches wait for it to resolve. */
  fetchGate: Promise<void> | undefined;
  #held: (() => void)[] = [];
  #holding = false;

  /** From now on heartbeats wait for release() before answering. */
  hold(): void {
    this.#holding = true;
  }

  /** Answers every held heartbeat and stops holding. */
  release(): void {
    this.#holding = false;
    for (const go of this.#held.splice(0)) go();
  }

  get heldCount(): number {
    return this.#held.length;
  }

  readonly fetch: FetchLike = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? "GET";
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
    if (url.pathname.endsWith("/heartbeat") && method === "POST") return this.#heartbeat(body);
    if (url.pathname.endsWith("/offsets") && method === "GET") {
      await this.fetchGate;
      if (this.unavailableFetches-- > 0)
        return errorResponse({ status: 503, code: "COORDINATOR_NOT_AVAILABLE", kafkaCode: 15 });
      const offsets = [...this.committed].map(([key, offset]) => {
        const [topic, partition] = key.split("\u0000");
        return { topic, partition: Number(partition), offset, metadata: "", logEndOffset: null };
      });
      return json(200, { offsets });
    }
    if (url.pathname.endsWith("/offsets") && method === "POST") {
      const commit = body as CommitSeen;
      this.commits.push(commit);
      const refusal = this.refuseCommit(commit);
      if (refusal) return errorResponse(refusal);
      for (const o of commit.offsets) this.committed.set(`${o.topic}\u0000${o.partition}`, o.offset);
      return json(200, {});
    }
    return errorResponse({ status: 404, code: "NOT_FOUND" });
  };

  async #heartbeat(body: HeartbeatSeen): Promise<Response> {
    this.heartbeats.push({ ...body, at: Date.now() });
    if (this.#holding) await new Promise<void>((resolve) => this.#held.push(resolve));
    const refusal = this.refuseHeartbeat(body);
    if (refusal) return errorResponse(refusal);
    if (body.memberEpoch === 0 && body.ownedPartitions.some((tp) => tp.partitions.length > 0))
      return errorResponse({ status: 400, code: "INVALID_REQUEST", kafkaCode: 42 });
    if (body.memberEpoch < 0) return json(200, { memberId: body.memberId, memberEpoch: body.memberEpoch });
    return json(200, {
      memberId: body.memberId,
      memberEpoch: this.epoch,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      assignment: { partitions: this.assignment },
    });
  }
}

type Listener = (event: { data?: unknown }) => void;

/** A global WebSocket stand-in: opens at once and lets the test push messages. */
export class FakeWebSocket {
  static readonly opened: FakeWebSocket[] = [];
  readonly url: string;
  closed = false;
  readonly #listeners = new Map<string, Listener[]>();

  constructor(url: string) {
    this.url = url;
    FakeWebSocket.opened.push(this);
    setTimeout(() => this.#emit("open", {}), 0);
  }

  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
  }

  push(message: unknown): void {
    this.#emit("message", { data: JSON.stringify(message) });
  }

  #emit(type: string, event: { data?: unknown }): void {
    for (const listener of this.#listeners.get(type) ?? []) listener(event);
  }
}
