/**
 * A hostile web page against a coordinator run without auth (`npm start`, AUTH_MODE=none): the requests
 * a page may send without a CORS preflight (form posts, `text/plain` bodies, no custom headers) must not
 * change a group, through /v1 (§1: bodies are `application/json`) or the console's forms (§9).
 */

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, commit, freshGroup } from "../../integration/helpers";

const ORIGIN = "https://cohort.test";
const SIMPLE_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"];

async function snapshot(g: string) {
  const [o, e] = await Promise.all([
    call("GET", `/v1/groups/${g}/offsets`),
    call("GET", `/v1/groups/${g}/events?limit=1000`),
  ]);
  return { offsets: o.body.offsets, events: e.body.events };
}

const simplePost = (path: string, type: string, body: string) =>
  exports.default.fetch(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { "content-type": type, origin: "https://evil.test", "sec-fetch-site": "cross-site" },
    body,
    redirect: "manual",
  });

describe("simple cross-site requests without auth", () => {
  it("a text/plain or form body of JSON to /v1 is refused and changes nothing", async () => {
    const g = freshGroup("aopen");
    expect((await commit(g, [{ topic: "t", partition: 0, offset: 5, logEndOffset: 9 }])).status).toBe(200);
    const before = await snapshot(g);
    const posts: [string, unknown][] = [
      [`/v1/groups/${g}/offsets/reset`, { topic: "t", to: "earliest" }],
      [`/v1/groups/${g}/offsets`, { offsets: [{ topic: "t", partition: 0, offset: 0 }] }],
      [
        `/v1/groups/${g}/heartbeat`,
        { memberEpoch: 0, subscribedTopics: [{ name: "t", partitions: 1 }], ownedPartitions: [] },
      ],
    ];
    for (const type of SIMPLE_TYPES) {
      for (const [path, body] of posts) {
        const res = await simplePost(path, type, JSON.stringify(body));
        const text = await res.text();
        expect(
          res.status >= 400 && res.status < 500,
          `${type} ${path}: ${res.status} ${text.slice(0, 200)}`,
        ).toBe(true);
      }
    }
    expect(await snapshot(g)).toEqual(before);
  });

  it("a console form posted from another origin is refused and changes nothing", async () => {
    const g = freshGroup("aopenf");
    expect((await commit(g, [{ topic: "t", partition: 0, offset: 5, logEndOffset: 9 }])).status).toBe(200);
    const before = await snapshot(g);
    for (const [sub, form] of [
      ["reset", "topic=t&to=earliest&action=apply"],
      ["delete", "confirm=yes"],
    ]) {
      const res = await simplePost(`/console/groups/${g}/${sub}`, "application/x-www-form-urlencoded", form!);
      await res.text();
      expect(res.status, sub).toBe(403);
    }
    expect(await snapshot(g)).toEqual(before);
    expect((await call("GET", `/v1/groups/${g}`)).status).toBe(200);
  });
});
