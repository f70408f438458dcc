/**
 * The console in a real browser against a hostile page and hostile strings (API.md §9): a page on
 * another port of the same host (same-site, so the SameSite=Strict cookie travels with its requests)
 * auto-submits console forms and fires no-CORS /v1 requests; a member's client-chosen strings carry
 * markup. Nothing runs, nothing changes.
 */

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectBrowser, signedInContext } from "../../browser/browser-pages.ts";
import { api, baseUrl, ok } from "../../browser/seed.ts";

const run = Date.now().toString(36);
const PAYLOAD = `"'><img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`;

let browser: Browser;
let evil: Server;
let evilUrl = "";
/** The hostile page's HTML, set by each test before it is visited. */
let evilHtml = "";

beforeAll(async () => {
  browser = await connectBrowser();
  evil = createServer((_, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(evilHtml);
  });
  await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
  evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise((resolve) => evil?.close(resolve));
  await browser?.close();
});

async function committedGroup(name: string) {
  const g = `adv12-${name}-${run}`;
  await ok("POST", `/v1/groups/${g}/offsets`, {
    offsets: [{ topic: "t", partition: 0, offset: 5, logEndOffset: 9 }],
  });
  return g;
}

describe("a hostile page on another port of the same host", () => {
  it("cannot delete, reset or commit through the signed-in operator's cookie", async () => {
    const g = await committedGroup("csrf");
    const before = await api("GET", `/v1/groups/${g}/events?limit=1000`);
    const target = baseUrl();
    evilHtml = `<!doctype html><body>
      <iframe name="sink"></iframe><iframe name="sink2"></iframe>
      <form id="del" method="post" target="sink" action="${target}/console/groups/${g}/delete"><input name="confirm" value="yes"></form>
      <form id="rst" method="post" target="sink2" action="${target}/console/groups/${g}/reset">
        <input name="topic" value="t"><input name="to" value="earliest"><input name="action" value="apply"></form>
      <script>
        document.getElementById("del").submit();
        setTimeout(() => document.getElementById("rst").submit(), 300);
        for (const [m, p, b] of [
          ["POST", "/v1/groups/${g}/offsets/reset", {topic: "t", to: "earliest"}],
          ["POST", "/v1/groups/${g}/offsets", {offsets: [{topic: "t", partition: 0, offset: 0}]}],
        ]) fetch("${target}" + p, {method: m, mode: "no-cors", credentials: "include",
          headers: {"content-type": "text/plain"}, body: JSON.stringify(b)}).catch(() => {});
        setTimeout(() => { document.title = "done"; }, 1500);
      </script></body>`;
    const context = await signedInContext(browser);
    try {
      const page = await context.newPage();
      // The forms did reach the coordinator, and were refused there (not lost on the way).
      const refused: number[] = [];
      page.on("response", (r) => {
        if (r.url().startsWith(`${target}/console/groups/`)) refused.push(r.status());
      });
      await page.goto(evilUrl);
      await page.waitForFunction('document.title === "done"', undefined, { timeout: 10_000 });
      await page.waitForTimeout(500);
      expect(refused).toEqual([403, 403]);
    } finally {
      await context.close();
    }
    expect((await api("GET", `/v1/groups/${g}`)).status).toBe(200);
    const offsets = await api("GET", `/v1/groups/${g}/offsets`);
    expect(offsets.body.offsets.map((o: any) => o.offset)).toEqual([5]);
    expect(await api("GET", `/v1/groups/${g}/events?limit=1000`)).toEqual(before);
  });
});

describe("hostile strings in a real browser", () => {
  it("runs no script from a member's client id, instance id or the actor, through a live refresh", async () => {
    const g = `adv12-xss-${run}`;
    const join = await api("POST", `/v1/groups/${g}/heartbeat`, {
      memberId: `m${PAYLOAD}`,
      memberEpoch: 0,
      groupInstanceId: `i${PAYLOAD}`,
      clientId: `c${PAYLOAD}`,
      subscribedTopics: [{ name: "t", partitions: 2 }],
      ownedPartitions: [],
    });
    expect(join.status, JSON.stringify(join.body)).toBe(200);
    const context = await signedInContext(browser, { sub: `u${PAYLOAD}` });
    try {
      const page = await context.newPage();
      const dialogs: string[] = [];
      page.on("dialog", (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(`${baseUrl()}/console/groups/${g}`);
      await page.locator('[data-testid="member-row"]').first().waitFor();
      // Wait through one live refresh (the fragment goes in by innerHTML).
      const first = await page.getAttribute('[data-testid="live"]', "data-refreshed-at");
      // Polled from here: the page's CSP refuses evaluated strings, and tsc has no DOM types for a function.
      await expect
        .poll(() => page.getAttribute('[data-testid="live"]', "data-refreshed-at"), { timeout: 15_000 })
        .not.toBe(first);
      const pwned = await page
        .locator("html")
        .evaluate((el) => (el.ownerDocument.defaultView as any).__pwned);
      expect(pwned).toBeUndefined();
      expect(await page.locator('img[src="x"]').count()).toBe(0);
      expect(dialogs).toEqual([]);
      expect(await page.locator('[data-testid="member-row"]').first().textContent()).toContain(`c${PAYLOAD}`);
    } finally {
      await context.close();
    }
  });
});
