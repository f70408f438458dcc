/**
 * Adversarial: admin operations on share groups — reset past the log end, reset then redrive,
 * OffsetDelete and group delete of an Empty share group.
 */

import { describe, expect, it } from "vitest";
import { call, freshGroup } from "../integration/helpers";
import { expand, Member, not5xx, r } from "./adversary-lib";
import { redrive } from "./share-helpers";

async function emptyGroup() {
  const g = freshGroup("adv-adm");
  const a = new Member(g, { t: 1 }, "a");
  await a.join();
  await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 10 }] });
  await a.ack([r(0, 2, "accept"), r(3, 3, "reject"), r(4, 9, "accept")]);
  expect((await a.leave()).status).toBe(200);
  return { g, a };
}

describe("admin on share groups", () => {
  it("a reset past the reported log end hands out nothing at or past the log end", async () => {
    const { g, a } = await emptyGroup();
    const res = await call("POST", `/v1/groups/${g}/offsets/reset`, { topic: "t", to: "offset", offset: 50 });
    not5xx(res);
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
    await a.join();
    const got = await a.acquire();
    for (const x of got.body.records) expect(x.lastOffset).toBeLessThan(10);
    const more = await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 52 }] });
    for (const x of more.body.records) expect(x.lastOffset).toBeLessThan(52);
  });

  it("a reset to latest goes to the reported log end", async () => {
    const { g } = await emptyGroup();
    const res = await call("POST", `/v1/groups/${g}/offsets/reset`, { topic: "t", to: "latest" });
    expect(res.body.offsets).toEqual([expect.objectContaining({ previousOffset: 10, newOffset: 10 })]);
    const early = await call("POST", `/v1/groups/${g}/offsets/reset`, { topic: "t", to: "earliest" });
    expect(early.body.offsets).toEqual([expect.objectContaining({ previousOffset: 10, newOffset: 0 })]);
  });

  it("a redrive after a reset forward does not redeliver what was acknowledged before", async () => {
    const { g, a } = await emptyGroup();
    await call("POST", `/v1/groups/${g}/offsets/reset`, { topic: "t", to: "offset", offset: 10 });
    const rd = await redrive(g, { topic: "t" });
    not5xx(rd);
    await a.join();
    const got = await a.acquire();
    const offs = expand(got.body.records);
    // Only the rejected offset 3 may come back; never 0-2 or 4-9.
    expect(offs.filter((o) => o !== "t-0:3")).toEqual([]);
  });

  it("OffsetDelete and delete of an Empty share group remove it; a new group starts clean", async () => {
    const { g, a } = await emptyGroup();
    const del = await call("DELETE", `/v1/groups/${g}/offsets/t`);
    expect(del.status, JSON.stringify(del.body)).toBe(200);
    expect(del.body.deleted).toBe(1);
    const d = await call("GET", `/v1/groups/${g}`);
    not5xx(d);
    const gone = await call("DELETE", `/v1/groups/${g}`);
    not5xx(gone);
    expect([200, 404]).toContain(gone.status);
    expect((await call("GET", `/v1/groups/${g}`)).status).toBe(404);
    const ar = await call("GET", `/v1/groups/${g}/share/archived`);
    not5xx(ar);
    await a.join();
    expect(await a.acquire()).toMatchObject({ status: 200 });
    // Without the old state nothing is known of the log: earliest from 0 once a member reports it.
    const got = await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 2 }] });
    expect(expand(got.body.records)).toEqual(["t-0:0", "t-0:1"]);
  });
});
