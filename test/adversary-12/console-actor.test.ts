/**
 * Admin actions taken through the console are recorded with the signed-in token's `sub` as actor
 * (API.md §8, §9: the console acts through /v1 with the caller's own token), previews record nothing,
 * and repeated or prototype-named form fields do not change which action runs.
 */

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminToken, commitOffsets, page, shareGroupWithArchive } from "../console/console-helpers";
import { call, freshGroup, token } from "../integration/helpers";

const kept = async (g: string) =>
  (await call("GET", `/v1/groups/${g}/events?limit=1000`)).body.events as any[];
const SUB = `ops "<b>" \u00e9 ${"z".repeat(300)}`;

describe("the console's actions and the history", () => {
  it("a preview records nothing; the applied reset and the delete carry the session's sub", async () => {
    const g = freshGroup("aconsact");
    await commitOffsets(g, "t", [[0, 8, 10]]);
    const session = await token({ sub: SUB });
    const before = await kept(g);
    const fields = { topic: "t", partitions: "", to: "earliest", offset: "", shiftBy: "" };
    for (let i = 0; i < 3; i++) {
      const preview = await page(`/console/groups/${g}/reset`, {
        session,
        form: { ...fields, action: "preview" },
      });
      expect(preview.status).toBe(200);
    }
    expect(await kept(g)).toEqual(before);
    const applied = await page(`/console/groups/${g}/reset`, {
      session,
      form: { ...fields, action: "apply" },
    });
    expect(applied.status).toBe(303);
    const resets = (await kept(g)).filter((e) => e.type === "offsets_reset");
    expect(resets).toHaveLength(1);
    expect(resets[0].actor).toBe(SUB);
    const deleted = await page(`/console/groups/${g}/delete`, { session, form: { confirm: "yes" } });
    expect(deleted.status).toBe(303);
    const dead = (await kept(g)).filter((e) => e.type === "state_changed" && e.detail.to === "Dead");
    expect(dead).toHaveLength(1);
    expect(dead[0].actor).toBe(SUB);
    // The deleted group's page is the API's 404, not a page rebuilt from its history.
    expect((await page(`/console/groups/${g}`, { session })).status).toBe(404);
  });

  it("a redrive through the console records one share_redriven with the sub", async () => {
    const g = freshGroup("aconsrd");
    await shareGroupWithArchive(g, "jobs");
    const session = await token({ sub: SUB });
    const confirm = await page(`/console/groups/${g}/redrive`, { session, form: { topic: "jobs" } });
    expect(confirm.status).toBe(200);
    expect((await kept(g)).filter((e) => e.type === "share_redriven")).toEqual([]);
    const done = await page(`/console/groups/${g}/redrive`, {
      session,
      form: { topic: "jobs", confirm: "yes" },
    });
    expect(done.status).toBe(303);
    const redriven = (await kept(g)).filter((e) => e.type === "share_redriven");
    expect(redriven).toHaveLength(1);
    expect(redriven[0].actor).toBe(SUB);
  });

  it("repeated and prototype-named form fields neither apply a preview nor confirm a delete", async () => {
    const g = freshGroup("aconsrep");
    await commitOffsets(g, "t", [[0, 8, 10]]);
    const admin = await adminToken();
    const before = await kept(g);
    // Raw bodies: repeated and bracketed keys as a hand-made form would send them.
    const post = (path: string, body: string) =>
      exports.default.fetch(`https://cohort.test${path}`, {
        method: "POST",
        headers: {
          cookie: `__Host-cohort_session=${admin}`,
          origin: "https://cohort.test",
          "content-type": "application/x-www-form-urlencoded",
        },
        body,
        redirect: "manual",
      });
    for (const body of [
      "topic=t&to=earliest&action[]=apply",
      "topic=t&to=earliest&__proto__[action]=apply",
      "topic=t&to=earliest&constructor=apply&action=preview",
      "topic=t&to=earliest&action=Apply",
      "topic=t&to=earliest&action=apply%00",
    ]) {
      const res = await post(`/console/groups/${g}/reset`, body);
      await res.text();
      expect(res.status, body).not.toBe(303);
    }
    for (const body of [
      "confirm[]=yes",
      "__proto__[confirm]=yes",
      "confirm=YES",
      "confirm=yes%20",
      "confirm=",
    ]) {
      const res = await post(`/console/groups/${g}/delete`, body);
      await res.text();
      expect(res.status, body).toBe(200);
    }
    expect(await kept(g)).toEqual(before);
    expect((await call("GET", `/v1/groups/${g}`)).status).toBe(200);
  });
});
