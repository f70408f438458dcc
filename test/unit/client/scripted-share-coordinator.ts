/**
 * A scripted stand-in for the share-group routes (API.md §7), for ShareConsumer unit tests in Node:
 * heartbeats answer with the epoch and assignment the test sets; acquires hand out the batches the test
 * queued (then nothing, after waiting `maxWaitMs` unless the request is aborted); acknowledgements are
 * recorded with the time they arrived and answered per entry (refused where the test says).
 */

import type { FetchLike } from "../../../src/client/http.ts";
import type {
  AcknowledgeEntry,
  AcquiredRecords,
  AcquireRequest,
  ShareHeartbeatRequest,
} from "../../../src/client/share-types.ts";

export type Seen =
  | { route: "heartbeat"; at: number; body: ShareHeartbeatRequest }
  | { route: "acquire"; at: number; body: AcquireRequest }
  | { route: "acknowledge"; at: number; body: { memberId: string; acknowledgements: AcknowledgeEntry[] } };

type ErrorBody = { status: number; code: string; kafkaCode?: number };

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const errorResponse = ({ status, code, kafkaCode }: ErrorBody) =>
  json(status, { error: { code, kafkaCode: kafkaCode ?? null, message: code } });

export const range = (
  firstOffset: number,
  lastOffset: number,
  deliveryCount = 1,
  partition = 0,
): AcquiredRecords => ({
  topic: "jobs",
  partition,
  firstOffset,
  lastOffset,
  deliveryCount,
});

export class ScriptedShareCoordinator {
  lockMs = 1000;
  epoch = 1;
  heartbeatIntervalMs = 60_000;
  assignment = [{ topic: "jobs", partitions: [0] }];
  readonly requests: Seen[] = [];
  /** What successive acquires hand out; once used up, acquires find nothing. */
  batches: AcquiredRecords[][] = [];
  /** Entries answered INVALID_RECORD_STATE. */
  refuseEntry: (entry: AcknowledgeEntry) => boolean = () => false;
  /** Errors the next acquires answer with, in order. */
  acquireErrors: ErrorBody[] = [];
  /** Errors the next heartbeats answer with, in order. */
  heartbeatErrors: ErrorBody[] = [];
  /** Once the errors are used up, heartbeats never answer. */
  hangHeartbeats = false;

  acquires(): AcquireRequest[] {
    return this.requests.flatMap((r) => (r.route === "acquire" ? [r.body] : []));
  }

  heartbeats(): ShareHeartbeatRequest[] {
    return this.requests.flatMap((r) => (r.route === "heartbeat" ? [r.body] : []));
  }

  acknowledgeRequests(): { at: number; entries: AcknowledgeEntry[] }[] {
    return this.requests.flatMap((r) =>
      r.route === "acknowledge" ? [{ at: r.at, entries: r.body.acknowledgements }] : [],
    );
  }

  /** Every acknowledgement entry sent, by acquire or acknowledge, in order (renewals excluded). */
  settlements(): AcknowledgeEntry[] {
    return this.requests
      .flatMap((r) =>
        r.route === "acquire"
          ? (r.body.acknowledgements ?? [])
          : r.route === "acknowledge"
            ? r.body.acknowledgements
            : [],
      )
      .filter((e) => e.type !== "renew");
  }

  readonly fetch: FetchLike = async (input, init) => {
    const url = new URL(String(input));
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
    const at = Date.now();
    if (url.pathname.endsWith("/share/heartbeat")) {
      this.requests.push({ route: "heartbeat", at, body });
      const error = this.heartbeatErrors.shift();
      if (error) return errorResponse(error);
      if (this.hangHeartbeats) await new Promise(() => {});
      if (body.memberEpoch < 0)
        return json(200, {
          memberId: body.memberId,
          memberEpoch: -1,
          heartbeatIntervalMs: 0,
          assignment: { partitions: [] },
        });
      return json(200, {
        memberId: body.memberId,
        memberEpoch: this.epoch,
        heartbeatIntervalMs: this.heartbeatIntervalMs,
        assignment: { partitions: this.assignment },
      });
    }
    if (url.pathname.endsWith("/share/acquire")) {
      this.requests.push({ route: "acquire", at, body });
      const error = this.acquireErrors.shift();
      if (error) return errorResponse(error);
      const acknowledgements = this.#answer(body.acknowledgements ?? []);
      let records = this.batches.shift();
      if (!records) {
        records = [];
        if (body.maxWaitMs > 0) await wait(body.maxWaitMs, init?.signal ?? undefined);
      }
      return json(200, { acquisitionLockTimeoutMs: this.lockMs, records, acknowledgements });
    }
    if (url.pathname.endsWith("/share/acknowledge")) {
      this.requests.push({ route: "acknowledge", at, body });
      return json(200, { acknowledgements: this.#answer(body.acknowledgements) });
    }
    return errorResponse({ status: 404, code: "NOT_FOUND" });
  };

  #answer(entries: AcknowledgeEntry[]) {
    return entries.map(({ type: _type, ...rest }) => ({
      ...rest,
      error: this.refuseEntry({ ...rest, type: _type })
        ? { code: "INVALID_RECORD_STATE", kafkaCode: 121, message: "not acquired by this member" }
        : null,
    }));
  }
}

/** Resolves after `ms`, or rejects at once when the request is aborted (as fetch does). */
function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new DOMException("aborted", "AbortError"));
    });
  });
}
