/**
 * The HTTP transport every SDK client shares: base URL, bearer token, an injectable `fetch` (so the
 * same code runs in Workers, where a service binding's or `exports.default.fetch` may be passed, and in
 * Node ≥ 20), and the retry policy — exponential backoff with full jitter on 503 and network errors,
 * honouring `Retry-After`.
 */

import { CohortError } from "./errors.ts";

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface RetryPolicy {
  /** Retries after the first attempt (0 disables retrying). */
  retries: number;
  /** Cap of the first backoff; each further retry doubles it. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface ClientOptions {
  /** The coordinator's base URL, e.g. https://cohort.example.workers.dev (no /v1). */
  url: string;
  /** A bearer token, or a function returning a fresh one per request. */
  token?: string | (() => string | Promise<string>) | undefined;
  /** Defaults to the global fetch. */
  fetch?: FetchLike | undefined;
  retry?: Partial<RetryPolicy> | undefined;
  /** Defaults to setTimeout; injectable so tests need not wait. */
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 5, initialDelayMs: 100, maxDelayMs: 5_000 };

export type Query = Record<string, string | number | readonly (string | number)[] | undefined>;

export interface RequestOptions {
  query?: Query | undefined;
  body?: unknown;
  signal?: AbortSignal | undefined;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full jitter (AWS architecture blog): uniform in [0, min(max, initial·2^attempt)]. */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/** `Retry-After` in seconds or as an HTTP date, in ms; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export class HttpTransport {
  readonly baseUrl: string;
  readonly retry: RetryPolicy;
  readonly #fetch: FetchLike;
  readonly #token: ClientOptions["token"];
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: ClientOptions) {
    this.baseUrl = options.url.replace(/\/+$/, "");
    // A malformed URL is the caller's mistake, not a network failure to retry: say so at once.
    const protocol = URL.canParse(this.baseUrl) ? new URL(this.baseUrl).protocol : "";
    if (protocol !== "http:" && protocol !== "https:")
      throw new TypeError(`'${options.url}' is not an http(s) URL`);
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    // Bound so that a global fetch is not called with the transport as `this` (Workers refuse that).
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#token = options.token;
    this.#sleep = options.sleep ?? defaultSleep;
  }

  url(path: string, query?: Query): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
    }
    const search = params.size > 0 ? `?${params}` : "";
    return `${this.baseUrl}${path}${search}`;
  }

  /** Sends a request, retrying what is retriable; resolves with the parsed 2xx body or throws CohortError. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    // Only sending and reading can fail as the network does; a body that cannot be serialized is
    // the caller's bug and throws as it is, never retried as a NETWORK_ERROR.
    const url = this.url(path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    for (let attempt = 0; ; attempt++) {
      let failure: CohortError;
      let wait: number | undefined;
      // A token provider's failure is not the network's either: it propagates unchanged.
      const init = await this.#init(method, body, options.signal);
      try {
        const response = await this.#fetch(url, init);
        const text = await response.text();
        const parsed = parseJson(text);
        if (response.ok) return parsed as T;
        failure = CohortError.fromResponse(response.status, parsed, text);
        wait = retryAfterMs(response.headers.get("retry-after"));
      } catch (cause) {
        if (options.signal?.aborted) throw cause;
        failure = CohortError.network(cause);
      }
      if (!failure.retriable || attempt >= this.retry.retries) throw failure;
      await this.#sleep(wait ?? backoffDelay(this.retry, attempt));
    }
  }

  /** The authorization header for a request (a fresh token when `token` is a function). */
  async headers(): Promise<Record<string, string>> {
    const token = typeof this.#token === "function" ? await this.#token() : this.#token;
    return token ? { authorization: `Bearer ${token}` } : {};
  }

  /** The injected fetch, unwrapped: for the WebSocket upgrade, which is not JSON. */
  rawFetch(input: string, init?: RequestInit): Promise<Response> {
    return this.#fetch(input, init);
  }

  async #init(
    method: string,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<RequestInit> {
    const headers: Record<string, string> = { accept: "application/json", ...(await this.headers()) };
    if (body !== undefined) headers["content-type"] = "application/json";
    return { method, headers, body, signal };
  }
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const encodeSegment = (value: string | number) => encodeURIComponent(String(value));

/**
 * The path of a group's routes. "." and ".." are valid group ids by API.md §1's pattern, but no such
 * id can travel in an HTTP path: every URL parser resolves /v1/groups/./lag (and %2E) to
 * /v1/groups/lag, another group's route. They are refused here, before anything is sent.
 */
export function groupPath(groupId: string): string {
  if (groupId === "." || groupId === "..")
    throw new CohortError({
      code: "INVALID_GROUP_ID",
      kafkaCode: 24,
      status: 0,
      message: `group id ${JSON.stringify(groupId)} cannot be addressed in a URL path (a dot segment)`,
    });
  return `/v1/groups/${encodeSegment(groupId)}`;
}
