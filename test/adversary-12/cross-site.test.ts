/**
 * A hostile web page with the victim's session cookie (API.md §9: /v1 and the console refuse cross-site
 * unsafe requests): console form posts and /v1 calls from other origins, `Origin: null` (sandboxed
 * frames, data: URLs), no Origin with a cross-site or same-site Sec-Fetch-Site, another port of the same
 * host, and a WebSocket upgrade. Each is refused and leaves the group, its offsets and its history as
 * they were.
 */

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminToken, commitOffsets, joinConsumer, ORIGIN, page, SESSION } from "../console/console-helpers";
import { call, freshGroup } from "../integration/helpers";

/** What a cross-site request could claim about where it comes from (null: the header is left out). */
const FOREIGN: { origin: string | null; site?: string }[] = [
  { origin: "https://evil.test" },
  { origin: "null" },
  { origin: "http://cohort.test" },
  { origin: "https://cohort.test:8443" },
  { origin: "https://sub.cohort.test" },
  { origin: "https://cohort.test.evil.test" },
  { origin: `${ORIGIN}/` },
  { origin: "HTTPS://COHORT.TEST" },
  { origin: null },
  { origin: null, site: "cross-site" },
  { origin: null, site: "same-site" },
  { origin: null, site: "none" },
];

const headersOf = (f: { origin: string | null; site?: string }) => ({
  ...(f.site ? { "sec-fetch-site": f.site } : {}),
});
const label = (f: { origin: string | null; site?: string }) => `origin=${f.origin} site=${f.site ?? "-"}`;

/** Everything a forged request could change: describe, offsets and the event log. */
async function snapshot(g: string) {
  const [d, o, e] = await Promise.all([
    call("GET", `/v1/groups/${g}`),
    call("GET", `/v1/groups/${g}/offsets`),
    call("GET", `/v1/groups/${g}/events?limit=1000`),
  ]);
  return {
    status: d.status,
    members: d.body.members?.length,
    offsets: o.body.offsets,
    events: e.body.events,
  };
}

describe("console form posts from elsewhere", () => {
  it("refuses reset, delete, redrive, sign-in and sign-out posted cross-site, changing nothing", async () => {
    const g = freshGroup("acsrf");
    await commitOffsets(g, "t", [
      [0, 5, 10],
      [1, 7, 10],
    ]);
    const admin = await adminToken();
    const before = await snapshot(g);
    const forms: [string, Record<string, string>][] = [
      [`/console/groups/${g}/reset`, { topic: "t", to: "earliest", action: "apply" }],
      [`/console/groups/${g}/delete`, { confirm: "yes" }],
      [`/console/groups/${g}/redrive`, { topic: "t", confirm: "yes" }],
      ["/console/sign-in", { token: admin, next: "/console" }],
      ["/console/sign-out", {}],
    ];
    for (const f of FOREIGN) {
      for (const [path, form] of forms) {
        const p = await page(path, { session: admin, form, origin: f.origin, headers: headersOf(f) });
        expect(p.status, `${path} ${label(f)}`).toBe(403);
        expect(p.headers.getSetCookie(), `${path} ${label(f)}`).toEqual([]);
      }
    }
    expect(await snapshot(g)).toEqual(before);
  });

  it("refuses the same posts as text/plain and multipart bodies (forms a page can send without CORS)", async () => {
    const g = freshGroup("acsrfb");
    await commitOffsets(g, "t", [[0, 5, 10]]);
    const admin = await adminToken();
    const before = await snapshot(g);
    const bodies: [string, BodyInit][] = [
      ["text/plain", "topic=t&to=earliest&action=apply"],
      [
        "multipart/form-data; boundary=x",
        '--x\r\nContent-Disposition: form-data; name="confirm"\r\n\r\nyes\r\n--x--\r\n',
      ],
    ];
    for (const [type, body] of bodies) {
      for (const sub of ["reset", "delete"]) {
        const res = await exports.default.fetch(`${ORIGIN}/console/groups/${g}/${sub}`, {
          method: "POST",
          headers: { cookie: `${SESSION}=${admin}`, "content-type": type, origin: "https://evil.test" },
          body,
          redirect: "manual",
        });
        expect(res.status, `${sub} ${type}`).toBe(403);
        await res.text();
      }
    }
    expect(await snapshot(g)).toEqual(before);
  });
});

describe("/v1 with the cookie from elsewhere", () => {
  it("refuses unsafe /v1 calls cross-site with §1's 403 shape, changing nothing", async () => {
    const g = freshGroup("acsrfv");
    await commitOffsets(g, "t", [[0, 5, 10]]);
    const admin = await adminToken();
    const before = await snapshot(g);
    const calls: [string, string, unknown][] = [
      ["POST", `/v1/groups/${g}/offsets/reset`, { topic: "t", to: "earliest" }],
      ["DELETE", `/v1/groups/${g}/offsets/t`, undefined],
      ["DELETE", `/v1/groups/${g}`, undefined],
      ["POST", `/v1/groups/${g}/offsets`, { offsets: [{ topic: "t", partition: 0, offset: 9 }] }],
      [
        "POST",
        `/v1/groups/${g}/heartbeat`,
        { memberEpoch: 0, subscribedTopics: [{ name: "t", partitions: 1 }], ownedPartitions: [] },
      ],
      ["PUT", `/v1/groups/${g}/offsets/reset`, { topic: "t", to: "earliest" }],
      ["PATCH", `/v1/groups/${g}`, {}],
    ];
    for (const f of FOREIGN) {
      for (const [method, path, body] of calls) {
        const res = await exports.default.fetch(`${ORIGIN}${path}`, {
          method,
          headers: {
            cookie: `${SESSION}=${admin}`,
            ...(f.origin !== null ? { origin: f.origin } : {}),
            ...headersOf(f),
            ...(body !== undefined ? { "content-type": "text/plain" } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        const text = await res.text();
        expect(
          [403, 404, 405],
          `${method} ${path} ${label(f)}: ${res.status} ${text.slice(0, 200)}`,
        ).toContain(res.status);
        if (res.status === 403) expect(JSON.parse(text).error.code).toBe("GROUP_AUTHORIZATION_FAILED");
      }
    }
    expect(await snapshot(g)).toEqual(before);
  });

  it("refuses a watch upgrade with the cookie from any other origin, or with no origin at all", async () => {
    const g = freshGroup("acsrfw");
    await joinConsumer(g, "m1", "t", 2);
    const jwt = await adminToken([g]);
    for (const f of FOREIGN) {
      const res = await exports.default.fetch(`${ORIGIN}/v1/groups/${g}/members/m1/watch`, {
        headers: {
          upgrade: "websocket",
          cookie: `${SESSION}=${jwt}`,
          ...(f.origin !== null ? { origin: f.origin } : {}),
          ...headersOf(f),
        },
      });
      expect(res.status, label(f)).toBe(403);
      expect(res.webSocket).toBeFalsy();
    }
  });

  it("never answers a cross-origin read with CORS headers that would let the page read it", async () => {
    const g = freshGroup("acors");
    await commitOffsets(g, "t", [[0, 5, 10]]);
    const admin = await adminToken();
    for (const path of [
      `/v1/groups/${g}/events`,
      `/v1/groups/${g}/lag/history`,
      `/v1/groups/${g}`,
      "/v1/groups",
    ]) {
      const res = await exports.default.fetch(`${ORIGIN}${path}`, {
        headers: { cookie: `${SESSION}=${admin}`, origin: "https://evil.test" },
      });
      await res.text();
      const allowed = res.headers.get("access-control-allow-origin");
      expect(allowed === null || allowed === "*", `${path}: ${allowed}`).toBe(true);
      if (allowed === "*") expect(res.headers.get("access-control-allow-credentials")).not.toBe("true");
    }
  });
});
