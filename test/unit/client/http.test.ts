/** The SDK transport with a scripted fetch: retry policy, Retry-After, errors as CohortError. */

import { describe, expect, it } from "vitest";
import { CohortAdmin } from "../../../src/client/admin.ts";
import { CohortError } from "../../../src/client/errors.ts";
import { backoffDelay, HttpTransport, retryAfterMs } from "../../../src/client/http.ts";

type Step = Response | Error;

/** A fetch that answers with `steps` in order and records every request. */
function scriptedFetch(steps: Step[]) {
  const requests: { url: string; init: RequestInit | undefined }[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    requests.push({ url: String(input), init });
    const step = steps.shift();
    if (!step) throw new Error("no more scripted responses");
    if (step instanceof Error) throw step;
    return step;
  };
  return { fetch, requests };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

const unavailable = (retryAfter?: string) =>
  json(
    503,
    { error: { code: "COORDINATOR_NOT_AVAILABLE", kafkaCode: 15, message: "retry" } },
    retryAfter === undefined ? {} : { "retry-after": retryAfter },
  );

function transport(steps: Step[], retries = 3) {
  const script = scriptedFetch(steps);
  const sleeps: number[] = [];
  const http = new HttpTransport({
    url: "http://cohort.test/",
    token: "t0k",
    fetch: script.fetch,
    retry: { retries, initialDelayMs: 100, maxDelayMs: 1000 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { http, sleeps, requests: script.requests };
}

describe("HttpTransport", () => {
  it("retries 503 and network errors, then returns the body", async () => {
    const { http, sleeps, requests } = transport([
      unavailable(),
      new TypeError("fetch failed"),
      json(200, { ok: 1 }),
    ]);
    await expect(http.request("GET", "/v1/groups")).resolves.toEqual({ ok: 1 });
    expect(requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    // Full jitter: each wait is within [0, initial·2^attempt].
    expect(sleeps[0]).toBeLessThanOrEqual(100);
    expect(sleeps[1]).toBeLessThanOrEqual(200);
  });

  it("waits exactly Retry-After when the coordinator sends it", async () => {
    const { http, sleeps } = transport([unavailable("2"), json(200, {})]);
    await http.request("GET", "/v1/groups");
    expect(sleeps).toEqual([2000]);
  });

  it("gives up after the configured retries with a retriable CohortError", async () => {
    const { http, requests } = transport([unavailable(), unavailable(), unavailable()], 2);
    const error = await http.request("GET", "/v1/groups").catch((e) => e);
    expect(error).toBeInstanceOf(CohortError);
    expect(error).toMatchObject({
      code: "COORDINATOR_NOT_AVAILABLE",
      kafkaCode: 15,
      status: 503,
      retriable: true,
    });
    expect(requests).toHaveLength(3);
  });

  it("does not retry a 409 and carries code, Kafka number and status", async () => {
    const body = {
      error: { code: "UNKNOWN_MEMBER_ID", kafkaCode: 25, message: "member ghost is not in the group" },
    };
    const { http, requests } = transport([json(409, body)]);
    const error = (await http
      .request("POST", "/v1/groups/g/offsets", { body: {} })
      .catch((e) => e)) as CohortError;
    expect(error).toMatchObject({ code: "UNKNOWN_MEMBER_ID", kafkaCode: 25, status: 409, retriable: false });
    expect(error.requiresRejoin).toBe(true);
    expect(error.message).toBe("member ghost is not in the group");
    expect(requests).toHaveLength(1);
  });

  it("keeps the issued member id of MEMBER_ID_REQUIRED and the issues of INVALID_REQUEST", async () => {
    const { http } = transport([
      json(409, { error: { code: "MEMBER_ID_REQUIRED", kafkaCode: 79, message: "rejoin", memberId: "m-7" } }),
      json(400, {
        error: {
          code: "INVALID_REQUEST",
          kafkaCode: 42,
          message: "bad",
          issues: [{ path: "a", message: "b" }],
        },
      }),
    ]);
    await expect(http.request("POST", "/x")).rejects.toMatchObject({ memberId: "m-7" });
    await expect(http.request("POST", "/x")).rejects.toMatchObject({ issues: [{ path: "a", message: "b" }] });
  });

  it("maps a non-cohort error page to HTTP_ERROR, retriable only from a gateway", async () => {
    const { http } = transport(
      [
        new Response("<html>bad gateway</html>", { status: 502 }),
        new Response("<html>not here</html>", { status: 404 }),
      ],
      0,
    );
    await expect(http.request("GET", "/")).rejects.toMatchObject({
      code: "HTTP_ERROR",
      status: 502,
      retriable: true,
    });
    await expect(http.request("GET", "/")).rejects.toMatchObject({
      code: "HTTP_ERROR",
      status: 404,
      retriable: false,
    });
  });

  it("sends the bearer token, JSON body and repeated query values", async () => {
    const { http, requests } = transport([json(200, { deleted: 2 })]);
    const admin = new CohortAdmin(http);
    await admin.deleteOffsets("billing", "orders", [0, 1]);
    expect(requests[0]?.url).toBe(
      "http://cohort.test/v1/groups/billing/offsets/orders?partition=0&partition=1",
    );
    expect(new Headers(requests[0]?.init?.headers).get("authorization")).toBe("Bearer t0k");
    expect(requests[0]?.init?.method).toBe("DELETE");
  });
});

describe("what counts as retriable", () => {
  it("no response is a retriable NETWORK_ERROR once retries are spent; status 0 alone is not", async () => {
    const { http, requests } = transport([new TypeError("fetch failed"), new TypeError("fetch failed")], 1);
    const error = await http.request("POST", "/v1/groups/g/offsets", { body: {} }).catch((e) => e);
    expect(error).toMatchObject({ code: "NETWORK_ERROR", status: 0, retriable: true });
    expect(requests).toHaveLength(2);
    const local = new CohortError({ code: "NOT_JOINED", kafkaCode: null, status: 0, message: "join failed" });
    expect(local.retriable).toBe(false);
  });

  it("a body that cannot be serialized is the caller's error: thrown as is, never sent or retried", async () => {
    const { http, requests, sleeps } = transport([json(200, {})]);
    const error = await http.request("POST", "/x", { body: { n: 1n } }).catch((e) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).not.toBeInstanceOf(CohortError);
    expect(requests).toHaveLength(0);
    expect(sleeps).toEqual([]);
  });

  it("a failing token provider is not a network error to retry", async () => {
    const script = scriptedFetch([json(200, {})]);
    let asked = 0;
    const http = new HttpTransport({
      url: "http://cohort.test",
      fetch: script.fetch,
      token: () => {
        asked++;
        throw new Error("vault sealed");
      },
      sleep: async () => {},
    });
    const error = await http.request("GET", "/v1/groups").catch((e) => e);
    expect(error).not.toBeInstanceOf(CohortError);
    expect(error).toMatchObject({ message: "vault sealed" });
    expect(asked).toBe(1);
    expect(script.requests).toHaveLength(0);
  });

  it("a malformed base URL is refused when the client is made, not retried as NETWORK_ERROR", () => {
    expect(() => new HttpTransport({ url: "localhost:8787/" })).toThrow(/not an http\(s\) URL/);
    expect(() => new HttpTransport({ url: "http//cohort.test" })).toThrow(/not an http\(s\) URL/);
    expect(new HttpTransport({ url: "https://cohort.test/" }).baseUrl).toBe("https://cohort.test");
  });
});

describe("backoff", () => {
  it("doubles the ceiling per attempt up to the maximum", () => {
    const policy = { retries: 10, initialDelayMs: 100, maxDelayMs: 1000 };
    const top = () => 0.999999;
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(policy, a, top))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
  });

  it("reads Retry-After in seconds or as a date", () => {
    expect(retryAfterMs("1")).toBe(1000);
    expect(retryAfterMs("Thu, 01 Jan 1970 00:00:05 GMT", 1000)).toBe(4000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs("soon")).toBeUndefined();
  });
});
