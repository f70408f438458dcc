/**
 * Requests that carry many client values where a query could bind one SQL parameter each (the
 * platform allows 100 per statement): OffsetFetch with 1,000 `topic=` values, OffsetDelete with 1,000
 * `partition=` values, and the bound on how often a query value may repeat.
 */

import { describe, expect, it } from "vitest";
import { call, commit, expectError, freshGroup } from "./helpers";

const topics = Array.from({ length: 1000 }, (_, i) => `topic-${i}`);

describe("many client values in one request", () => {
  it("fetches the offsets of 1,000 topics named in the query (and only those)", async () => {
    const g = freshGroup();
    const offsets = topics.map((topic, i) => ({ topic, partition: 0, offset: i }));
    expect((await commit(g, [...offsets, { topic: "other", partition: 0, offset: 1 }])).status).toBe(200);
    const query = topics.map((t) => `topic=${t}`).join("&");
    const res = await call("GET", `/v1/groups/${g}/offsets?${query}`);
    expect(res.status).toBe(200);
    expect(res.body.offsets).toHaveLength(1000);
    expect(res.body.offsets.map((o: any) => o.topic)).toEqual([...topics].sort());
    expect(res.body.offsets.find((o: any) => o.topic === "topic-999").offset).toBe(999);
    // The same topic repeated 1,000 times is one topic.
    const same = await call("GET", `/v1/groups/${g}/offsets?${"topic=topic-7&".repeat(1000)}`);
    expect(same.status).toBe(200);
    expect(same.body.offsets.map((o: any) => o.offset)).toEqual([7]);
  });

  it("deletes 1,000 partitions named in the query in one request", async () => {
    const g = freshGroup();
    const offsets = Array.from({ length: 1200 }, (_, p) => ({ topic: "t", partition: p, offset: p }));
    expect((await commit(g, offsets)).status).toBe(200);
    const query = Array.from({ length: 1000 }, (_, p) => `partition=${p}`).join("&");
    const res = await call("DELETE", `/v1/groups/${g}/offsets/t?${query}`);
    expect(res).toMatchObject({ status: 200, body: { deleted: 1000 } });
    const left = await call("GET", `/v1/groups/${g}/offsets`);
    expect(left.body.offsets.map((o: any) => o.partition)).toEqual(
      Array.from({ length: 200 }, (_, i) => 1000 + i),
    );
  });

  it("ignores query parameters named after Object.prototype's keys", async () => {
    const g = freshGroup();
    await commit(g, [{ topic: "a", partition: 0, offset: 1 }]);
    for (const q of [
      "__proto__=x&topic=a",
      "constructor=y&topic=a&toString=1",
      "topic=a&__proto__[topic]=b",
    ]) {
      const res = await call("GET", `/v1/groups/${g}/offsets?${q}`);
      expect(res.status, q).toBe(200);
      expect(res.body.offsets.map((o: any) => o.topic)).toEqual(["a"]);
    }
    const listed = await call("GET", "/v1/groups?__proto__=1&state=Empty&state=Empty&hasOwnProperty=2");
    expect(listed.status).toBe(200);
  });

  it("refuses a query value repeated more than 10,000 times with a 400 naming the bound", async () => {
    const g = freshGroup();
    const res = await call("GET", `/v1/groups/${g}/offsets?${"topic=a&".repeat(10_001)}`);
    expectError(res, 400, "INVALID_REQUEST", 42);
    expect(JSON.stringify(res.body.error.issues)).toContain("at most 10000 times");
  });
});
