/**
 * The API reference page (/reference) served by the Worker: it loads without a token, like
 * /openapi.json, and lists every route of that document, each with its "try it" form (the watch
 * socket excepted) carrying the method and path the page's script sends to.
 */

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const get = (path: string) => exports.default.fetch(`http://cohort.test${path}`);

describe("GET /reference", () => {
  it("loads without a token and lists every route of /openapi.json with a try-it form", async () => {
    const doc = (await (await get("/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => ["get", "post", "put", "patch", "delete"].includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.length).toBeGreaterThan(15);

    const response = await get("/reference");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await response.text();
    const listed = [...page.matchAll(/data-route="([^"]+)"/g)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...routes].sort());
    const forms = [
      ...page.matchAll(/<form data-try data-testid="try-it" data-method="(\w+)" data-path="([^"]+)"/g),
    ];
    const sockets = routes.filter((r) => r.endsWith("/watch"));
    expect(forms.map((f) => `${f[1]} ${f[2]}`).sort()).toEqual(
      routes.filter((r) => !sockets.includes(r)).sort(),
    );
    // A route with a body starts from a body of its schema's shape.
    expect(page).toContain("&quot;offsets&quot;");
    expect(page).toContain('<a href="/openapi.json">');
  });
});
