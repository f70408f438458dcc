/**
 * Errors and results to HTTP: the one place where API.md §1's fixed status per code is applied.
 */

import type { Context, TypedResponse } from "hono";
import { type CohortError, ERRORS, type ErrorCode, errorBody, type Result } from "../core/errors.ts";

/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 1;

export function errorResponse(c: Context, error: CohortError): Response {
  const status = ERRORS[error.code].status;
  if (status === 503) c.header("Retry-After", String(RETRY_AFTER_SECONDS));
  return c.json(errorBody(error), status);
}

export const errorOf = (code: ErrorCode, message: string, extra?: Record<string, unknown>): CohortError =>
  extra ? { code, message, extra } : { code, message };

/**
 * A Result as a response: 200 with the value, or the error's status. Typed as the success response so
 * routes keep their OpenAPI response types; errors are documented on each route separately.
 */
export function send<T>(c: Context, result: Result<T>): TypedResponse<T, 200, "json"> {
  if (result.ok) return c.json(result.value as never, 200) as unknown as TypedResponse<T, 200, "json">;
  return errorResponse(c, result.error) as unknown as TypedResponse<T, 200, "json">;
}
