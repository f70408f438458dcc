/**
 * The console's event list when the group keeps more events than one /v1 page holds (API.md §8:
 * GROUP_HISTORY_MAX_EVENTS, 1500 here; a page is at most 1000): the group page must show the newest
 * events, the ones an operator came to see, not the oldest page of what is kept.
 */

import { expect, it } from "vitest";
import { adminToken, ok, testids } from "../../console/console-helpers";
import { call, commit, freshGroup } from "../../integration/helpers";

it("shows the newest events once more than 1000 are kept", { timeout: 120_000 }, async () => {
  const g = freshGroup("aring");
  expect((await commit(g, [{ topic: "t", partition: 0, offset: 5000 }])).status).toBe(200);
  // One offsets_reset event per reset of the Empty group, each marked by its new offset.
  for (let batch = 0; batch < 22; batch++) {
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call("POST", `/v1/groups/${g}/offsets/reset`, {
          topic: "t",
          to: "offset",
          offset: batch * 50 + i + 1,
        }),
      ),
    );
    for (const r of replies) expect(r.status).toBe(200);
  }
  // The newest seq, as a client of /v1 finds it: page to the end.
  let after = 0;
  let last = 0;
  for (;;) {
    const page = await call("GET", `/v1/groups/${g}/events?after=${after}&limit=1000`);
    expect(page.status).toBe(200);
    if (page.body.events.length === 0) break;
    last = page.body.events.at(-1).seq;
    after = page.body.nextAfter;
  }
  expect(last).toBeGreaterThanOrEqual(1100);
  const html = await ok(`/console/groups/${g}`, { session: await adminToken() });
  const shown = (await testids(html, "event")).map((e) => Number(e.attrs["data-seq"]));
  expect(shown.length).toBeGreaterThan(0);
  expect(Math.max(...shown), `the console shows seqs ${Math.min(...shown)}…${Math.max(...shown)}`).toBe(last);
});
