/**
 * The error table of API.md §1: every error code with its fixed HTTP status and Kafka error number.
 * Errors travel as data (`Result`) from the core through the Durable Object RPC boundary, which keeps
 * an exception's message but not its fields; the Worker maps them to HTTP with `ERRORS`.
 */

export const ERRORS = {
  INVALID_REQUEST: { status: 400, kafkaCode: 42 },
  INVALID_GROUP_ID: { status: 400, kafkaCode: 24 },
  INVALID_SESSION_TIMEOUT: { status: 400, kafkaCode: 26 },
  OFFSET_METADATA_TOO_LARGE: { status: 400, kafkaCode: 12 },
  UNSUPPORTED_ASSIGNOR: { status: 400, kafkaCode: 112 },
  UNAUTHENTICATED: { status: 401, kafkaCode: null },
  GROUP_AUTHORIZATION_FAILED: { status: 403, kafkaCode: 30 },
  GROUP_ID_NOT_FOUND: { status: 404, kafkaCode: 69 },
  NOT_FOUND: { status: 404, kafkaCode: null },
  INVALID_RECORD_STATE: { status: 409, kafkaCode: 121 },
  ILLEGAL_GENERATION: { status: 409, kafkaCode: 22 },
  INCONSISTENT_GROUP_PROTOCOL: { status: 409, kafkaCode: 23 },
  UNKNOWN_MEMBER_ID: { status: 409, kafkaCode: 25 },
  REBALANCE_IN_PROGRESS: { status: 409, kafkaCode: 27 },
  NON_EMPTY_GROUP: { status: 409, kafkaCode: 68 },
  MEMBER_ID_REQUIRED: { status: 409, kafkaCode: 79 },
  GROUP_MAX_SIZE_REACHED: { status: 409, kafkaCode: 81 },
  FENCED_INSTANCE_ID: { status: 409, kafkaCode: 82 },
  GROUP_SUBSCRIBED_TO_TOPIC: { status: 409, kafkaCode: 86 },
  FENCED_MEMBER_EPOCH: { status: 409, kafkaCode: 110 },
  UNRELEASED_INSTANCE_ID: { status: 409, kafkaCode: 111 },
  STALE_MEMBER_EPOCH: { status: 409, kafkaCode: 113 },
  PAYLOAD_TOO_LARGE: { status: 413, kafkaCode: null },
  COORDINATOR_NOT_AVAILABLE: { status: 503, kafkaCode: 15 },
  COORDINATOR_LOAD_IN_PROGRESS: { status: 503, kafkaCode: 14 },
} as const satisfies Record<string, { status: number; kafkaCode: number | null }>;

export type ErrorCode = keyof typeof ERRORS;

/** An error as data. Extra fields (e.g. `memberId` for MEMBER_ID_REQUIRED, `issues`) go into the body. */
export interface CohortError {
  code: ErrorCode;
  message: string;
  extra?: Record<string, unknown>;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: CohortError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

export const fail = <T = never>(
  code: ErrorCode,
  message: string,
  extra?: Record<string, unknown>,
): Result<T> => ({
  ok: false,
  error: extra ? { code, message, extra } : { code, message },
});

/** The JSON body of API.md §1 for an error. */
export function errorBody(error: CohortError): { error: Record<string, unknown> } {
  return {
    error: {
      code: error.code,
      kafkaCode: ERRORS[error.code].kafkaCode,
      message: error.message,
      ...error.extra,
    },
  };
}
