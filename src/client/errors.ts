/**
 * Errors as the SDK surfaces them: one class for coordinator errors (API.md §1) and network failures,
 * carrying what a caller needs to decide — the stable `code`, Kafka's number, the HTTP status and
 * whether retrying the same request can help.
 */

/** Codes cohort answers with 503; the request may succeed when repeated (Kafka: RetriableException). */
const RETRIABLE_CODES: ReadonlySet<string> = new Set([
  "COORDINATOR_NOT_AVAILABLE",
  "COORDINATOR_LOAD_IN_PROGRESS",
]);

/** cohort's 503, and a gateway's 502/504 in front of it: worth repeating. */
const RETRIABLE_STATUS: ReadonlySet<number> = new Set([502, 503, 504]);

/**
 * No response at all is retriable (Kafka's NetworkException, kafkajs's KafkaJSConnectionError), but
 * only as NETWORK_ERROR: status 0 on its own says nothing (the SDK's own errors carry it too).
 */
export const NETWORK_ERROR = "NETWORK_ERROR";

/**
 * Codes after which a group member must rejoin: its membership or generation/epoch is gone.
 * STALE_MEMBER_EPOCH is not one: the member is alive with a newer epoch it has not heard yet, so, as
 * Kafka does, it heartbeats to learn it and commits again.
 */
const REJOIN_CODES: ReadonlySet<string> = new Set([
  "UNKNOWN_MEMBER_ID",
  "FENCED_MEMBER_EPOCH",
  "ILLEGAL_GENERATION",
  "REBALANCE_IN_PROGRESS",
]);

export interface ErrorIssue {
  path: string;
  message: string;
}

export class CohortError extends Error {
  override readonly name = "CohortError";
  /** API.md §1 code (e.g. UNKNOWN_MEMBER_ID), or NETWORK_ERROR when no response arrived. */
  readonly code: string;
  /** Kafka's error number, null where Kafka has none. */
  readonly kafkaCode: number | null;
  /** HTTP status, 0 for a network error. */
  readonly status: number;
  readonly retriable: boolean;
  /** Schema problems of a 400 INVALID_REQUEST. */
  readonly issues: ErrorIssue[] | undefined;
  /** The member id the coordinator issued with MEMBER_ID_REQUIRED (KIP-394). */
  readonly memberId: string | undefined;

  constructor(init: {
    code: string;
    kafkaCode: number | null;
    status: number;
    message: string;
    issues?: ErrorIssue[] | undefined;
    memberId?: string | undefined;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.kafkaCode = init.kafkaCode;
    this.status = init.status;
    this.retriable =
      init.code === NETWORK_ERROR || RETRIABLE_STATUS.has(init.status) || RETRIABLE_CODES.has(init.code);
    this.issues = init.issues;
    this.memberId = init.memberId;
  }

  /** True when the member must rejoin the group before it may heartbeat or commit again. */
  get requiresRejoin(): boolean {
    return REJOIN_CODES.has(this.code);
  }

  /** Builds the error from a non-2xx response body of any shape. */
  static fromResponse(status: number, body: unknown, fallbackText: string): CohortError {
    const error = (body as { error?: Record<string, unknown> } | null)?.error;
    if (error && typeof error.code === "string") {
      return new CohortError({
        code: error.code,
        kafkaCode: typeof error.kafkaCode === "number" ? error.kafkaCode : null,
        status,
        message: typeof error.message === "string" ? error.message : error.code,
        issues: Array.isArray(error.issues) ? (error.issues as ErrorIssue[]) : undefined,
        memberId: typeof error.memberId === "string" ? error.memberId : undefined,
      });
    }
    // Not cohort's shape: a proxy or load balancer answered.
    return new CohortError({
      code: "HTTP_ERROR",
      kafkaCode: null,
      status,
      message: `HTTP ${status}: ${fallbackText.slice(0, 200) || "no body"}`,
    });
  }

  static network(cause: unknown): CohortError {
    // Node's fetch says "fetch failed" and keeps the reason (ECONNREFUSED, ENOTFOUND…) in `cause`.
    const reason = cause instanceof Error && cause.cause instanceof Error ? `: ${cause.cause.message}` : "";
    const detail = cause instanceof Error ? `${cause.message}${reason}` : String(cause);
    return new CohortError({
      code: NETWORK_ERROR,
      kafkaCode: null,
      status: 0,
      message: `cannot reach the coordinator: ${detail}`,
      cause,
    });
  }
}
