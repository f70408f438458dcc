/**
 * The API reference as a user meets it: the coordinator under wrangler (static assets and the Worker,
 * AUTH_MODE=jwt), the page opened in Debian's headless Chromium. Swagger UI must list every operation
 * of /openapi.json, take a token through "Authorize", and run a describe through "Try it out" against
 * the same origin — with no page error, no CSP refusal and no request that fails or leaves the origin.
 */

import { sign } from "hono/jwt";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCoordinator, startLocalCoordinator } from "../../scripts/local-coordinator.ts";
import { TEST_JWT_SECRET } from "../test-secret.ts";

const METHODS = ["get", "put", "post", "delete", "patch"];

let coordinator: LocalCoordinator;
let browser: Browser;
let token: string;

beforeAll(async () => {
  [coordinator, browser, token] = await Promise.all([
    startLocalCoordinator({ AUTH_MODE: "jwt", JWT_SECRET: TEST_JWT_SECRET }),
    chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-background-networking"],
    }),
    sign(
      { exp: Math.floor(Date.now() / 1000) + 600, groups: ["*"], scope: "admin" },
      TEST_JWT_SECRET,
      "HS256",
    ),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await coordinator?.stop();
});

/** Everything that went wrong in the page: thrown errors, console errors (CSP refusals among them), requests. */
function watchProblems(page: Page, origin: string): string[] {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("requestfailed", (request) =>
    problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`),
  );
  page.on("request", (request) => {
    if (!request.url().startsWith(`${origin}/`) && !request.url().startsWith("data:"))
      problems.push(`left the origin: ${request.url()}`);
  });
  page.on("response", (response) => {
    // The redirect /reference → /reference/ is expected; anything else ≥ 300 is not.
    if (response.status() >= 300 && !response.url().endsWith("/reference"))
      problems.push(`${response.status()}: ${response.url()}`);
  });
  return problems;
}

describe("the API reference page (Swagger UI at /reference)", () => {
  it("lists every operation of /openapi.json and runs an authorized describe with Try it out", async () => {
    const origin = coordinator.url;
    const doc = (await (await fetch(`${origin}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => METHODS.includes(method))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.length).toBeGreaterThan(15);

    // A group to describe, committed over the API.
    const commit = await fetch(`${origin}/v1/groups/reference-demo/offsets`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ offsets: [{ topic: "orders", partition: 0, offset: 42, logEndOffset: 50 }] }),
    });
    expect(commit.status).toBe(200);

    const page = await browser.newPage();
    const problems = watchProblems(page, origin);
    const sent: { url: string; authorization: string | undefined }[] = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname.startsWith("/v1/"))
        sent.push({ url: request.url(), authorization: request.headers().authorization });
    });

    const landing = await page.goto(`${origin}/reference`);
    expect(new URL(page.url()).pathname).toBe("/reference/");
    expect(landing?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page
      .locator(".opblock")
      .nth(operations.length - 1)
      .waitFor();
    const listed = await page.locator(".opblock").evaluateAll((blocks) =>
      blocks.map((block) => {
        const method = block.querySelector(".opblock-summary-method")?.textContent ?? "";
        const path = block.querySelector(".opblock-summary-path")?.getAttribute("data-path") ?? "";
        return `${method.toUpperCase()} ${path}`;
      }),
    );
    expect(listed.sort()).toEqual([...operations].sort());

    // Authorize with the bearer scheme of the document.
    await page.locator(".auth-wrapper .btn.authorize").click();
    await page.locator(".modal-ux input").fill(token);
    await page.locator(".modal-ux .btn.modal-btn.auth.authorize").click();
    await page.locator(".modal-ux .btn-done").click();

    // Try it out → Execute on GET /v1/groups/{groupId}.
    const block = page.locator(".opblock-get", {
      has: page.locator('.opblock-summary-path[data-path="/v1/groups/{groupId}"]'),
    });
    await block.locator(".opblock-summary").click();
    await block.locator(".try-out__btn").click();
    await block.locator('tr[data-param-name="groupId"] input').fill("reference-demo");
    await block.locator(".btn.execute").click();
    const status = block.locator(".live-responses-table .response .response-col_status");
    await expect.poll(() => status.first().textContent(), { timeout: 10_000 }).toBe("200");
    const body = await block
      .locator(".live-responses-table .response-col_description pre")
      .first()
      .textContent();
    expect(JSON.parse(body ?? "null")).toMatchObject({ groupId: "reference-demo", type: "classic" });
    expect(sent).toEqual([{ url: `${origin}/v1/groups/reference-demo`, authorization: `Bearer ${token}` }]);

    expect(problems).toEqual([]);
    await page.close();
  });
});
