/**
 * The console with AUTH_MODE=none (local development, API.md §2): no sign-in, everything shown and
 * offered, and still no cross-origin form posts (they would act for anyone on the machine).
 */

import { expect, it } from "vitest";
import { commitOffsets, page, testids } from "../console/console-helpers";
import { call, freshGroup } from "../integration/helpers";

it("shows every page without a session, with the admin controls and no sign-out", async () => {
  const g = freshGroup("open");
  await commitOffsets(g, "t", [[0, 2, 5]]);
  const html = (await page(`/console/groups/${g}`)).html;
  expect(await testids(html, "delete-group")).toHaveLength(1);
  expect(await testids(html, "reset-link")).toHaveLength(1);
  expect(html).not.toContain("/console/sign-out");
  expect((await page("/console/groups")).status).toBe(200);
  const signIn = await page("/console/sign-in");
  expect(signIn.status).toBe(303);
  expect(signIn.location).toBe("/console");
});

it("refuses a cross-origin form post even without auth, and acts on a same-origin one", async () => {
  const g = freshGroup("open");
  await commitOffsets(g, "t", [[0, 2, 5]]);
  const evil = await page(`/console/groups/${g}/delete`, {
    form: { confirm: "yes" },
    origin: "https://evil.test",
  });
  expect(evil.status).toBe(403);
  expect((await call("GET", `/v1/groups/${g}`, undefined, { token: null })).status).toBe(200);
  const same = await page(`/console/groups/${g}/delete`, { form: { confirm: "yes" } });
  expect(same.status).toBe(303);
  expect((await call("GET", `/v1/groups/${g}`, undefined, { token: null })).status).toBe(404);
});
