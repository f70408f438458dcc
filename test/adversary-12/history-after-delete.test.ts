/**
 * A deleted group's history (API.md §6, §8): describe stays 404 and the listing never shows the group
 * again, however its history is read (the routes, the console, after the object restarts); reading the
 * history of a group that never existed creates nothing; prototype-named groups behave as any other.
 */

import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminToken, page } from "../console/console-helpers";
import { call, commit, expectError, freshGroup, LIST_LAG, listedIds } from "../integration/helpers";

/** Every way a client reads a group's history, through /v1 and the console. */
async function readHistory(g: string) {
  const admin = await adminToken();
  const answers = await Promise.all([
    call("GET", `/v1/groups/${g}/events`),
    call("GET", `/v1/groups/${g}/events?after=0&limit=1000`),
    call("GET", `/v1/groups/${g}/lag/history`),
    page(`/console/groups/${g}`, { session: admin }),
    page(`/console/groups/${g}?fragment=live`, { session: admin }),
  ]);
  for (const a of answers) expect(a.status < 500, `${a.status}`).toBe(true);
  return answers;
}

describe("after a delete", () => {
  it("describe stays 404 and the group stays out of the list while its history is read", async () => {
    const g = freshGroup("adel");
    expect((await commit(g, [{ topic: "t", partition: 0, offset: 3, logEndOffset: 8 }])).status).toBe(200);
    await expect.poll(() => listedIds(`?prefix=${g}`), LIST_LAG).toEqual([g]);
    expect((await call("DELETE", `/v1/groups/${g}`, undefined, { token: await adminToken() })).status).toBe(
      200,
    );
    const events = (await call("GET", `/v1/groups/${g}/events`)).body.events;
    expect(events.at(-1)).toMatchObject({ type: "state_changed", detail: { to: "Dead" } });
    await readHistory(g);
    await evictDurableObject(env.GROUPS.getByName(g) as never);
    await readHistory(g);
    expectError(await call("GET", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
    expectError(await call("GET", `/v1/groups/${g}/lag`), 404, "GROUP_ID_NOT_FOUND", 69);
    expectError(await call("DELETE", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
    await expect.poll(() => listedIds(`?prefix=${g}`), LIST_LAG).toEqual([]);
    // Read again once the list settled: still gone, and still so after another round of reads.
    await readHistory(g);
    await new Promise((r) => setTimeout(r, 300));
    expect(await listedIds(`?prefix=${g}`)).toEqual([]);
    expectError(await call("GET", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
    // The history is unchanged by all this reading.
    expect((await call("GET", `/v1/groups/${g}/events`)).body.events).toEqual(events);
  });

  it("a group re-created after its delete continues the seq", async () => {
    const g = freshGroup("adel2");
    expect((await commit(g, [{ topic: "t", partition: 0, offset: 3 }])).status).toBe(200);
    expect((await call("DELETE", `/v1/groups/${g}`)).status).toBe(200);
    const before = (await call("GET", `/v1/groups/${g}/events`)).body.events;
    await evictDurableObject(env.GROUPS.getByName(g) as never);
    expect((await commit(g, [{ topic: "t", partition: 0, offset: 4 }])).status).toBe(200);
    expect((await call("POST", `/v1/groups/${g}/offsets/reset`, { topic: "t", to: "earliest" })).status).toBe(
      200,
    );
    const after = (await call("GET", `/v1/groups/${g}/events`)).body.events;
    const seqs: number[] = after.map((e: any) => e.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((x, y) => x - y));
    expect(seqs.at(-1)).toBeGreaterThan(before.at(-1).seq);
    expect(after.slice(0, before.length)).toEqual(before);
  });
});

describe("groups that never existed", () => {
  it("reading history of an unknown group is 404 and creates nothing", async () => {
    for (const g of [freshGroup("aghost"), "__proto__", "constructor", "hasOwnProperty", "toString"]) {
      const answers = await readHistory(g);
      expect(answers[0]!.status, g).toBe(404);
      expect(answers[2]!.status, g).toBe(404);
      expect(answers[3]!.status, g).toBe(404);
      expectError(await call("GET", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
    }
    await new Promise((r) => setTimeout(r, 500));
    const listed = await listedIds("?limit=1000");
    for (const g of ["__proto__", "constructor", "hasOwnProperty", "toString"])
      expect(listed).not.toContain(g);
    expect(listed.some((id) => id.startsWith("aghost-"))).toBe(false);
  });
});
