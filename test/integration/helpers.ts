/**
 * Shared helpers for tests that drive the real Worker and Durable Objects over HTTP (Workers pool).
 */

import { exports } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { expect } from "vitest";
import { TEST_JWT_SECRET } from "../test-secret";

export interface Claims {
  groups?: string[];
  scope?: string;
  exp?: number;
  [claim: string]: unknown;
}

/** A signed HS256 token; by default valid for an hour with every scope on every group. */
export function token(claims: Claims = {}, secret = TEST_JWT_SECRET): Promise<string> {
  return sign(
    { exp: Math.floor(Date.now() / 1000) + 3600, groups: ["*"], scope: "admin", ...claims },
    secret,
    "HS256",
  );
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Sends a request to the Worker; `body` is JSON-encoded unless it is already a string. */
export async function call<T = any>(
  method: string,
  path: string,
  body?: unknown,
  opts: { token?: string | null; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (body !== undefined && !("content-type" in headers)) headers["content-type"] = "application/json";
  const auth = opts.token === undefined ? await token() : opts.token;
  if (auth) headers.authorization = `Bearer ${auth}`;
  const res = await exports.default.fetch(`http://cohort.test${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** Asserts an API.md §1 error: status, code, Kafka number, and the body's shape. */
export function expectError(reply: Reply, status: number, code: string, kafkaCode: number | null): void {
  expect({ status: reply.status, code: reply.body?.error?.code }).toEqual({ status, code });
  expect(reply.body.error.kafkaCode).toBe(kafkaCode);
  expect(typeof reply.body.error.message).toBe("string");
}

/** How long a test waits for the list to follow a change (API.md §6: at most 10 s). */
export const LIST_LAG = { timeout: 10_000, interval: 50 };

/** The ids on the first page of GET /v1/groups (the directory follows changes off the request path). */
export async function listedIds(query = "", token?: string): Promise<string[]> {
  const reply = await call("GET", `/v1/groups${query}`, undefined, token === undefined ? {} : { token });
  return reply.status === 200 ? reply.body.groups.map((g: { groupId: string }) => g.groupId) : [];
}

let counter = 0;
/** A group id no other test in the file uses. */
export const freshGroup = (prefix = "g") => `${prefix}-${Date.now().toString(36)}-${++counter}`;

export const commit = (groupId: string, offsets: unknown[], extra: Record<string, unknown> = {}) =>
  call("POST", `/v1/groups/${groupId}/offsets`, { ...extra, offsets });
