/**
 * Browser auth (API.md §9, §5): sign-in verifies a token as /v1 does and keeps it in the `__Host-`
 * session cookie with exactly HttpOnly, Secure, SameSite=Strict, Path=/ and the token's expiry; bad and
 * expired tokens are a 401 form; an expired session goes back to sign-in; sign-out clears the cookie.
 */

import { describe, expect, it } from "vitest";
import { token } from "../integration/helpers";
import { adminToken, page, SESSION, testids } from "./console-helpers";

/** The Set-Cookie of a response for one cookie name, split into its value and attributes. */
function cookieOf(headers: Headers, name: string): { value: string; attrs: Map<string, string> } {
  const line = headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  expect(line, `Set-Cookie ${name}`).toBeDefined();
  const [pair, ...rest] = line!.split(/;\s*/);
  const attrs = new Map(rest.map((a) => [a.split("=")[0]!.toLowerCase(), a.split("=").slice(1).join("=")]));
  return { value: pair!.slice(name.length + 1), attrs };
}

describe("sign-in", () => {
  it("sends a page without a session to the sign-in form, which has the stable hooks", async () => {
    const p = await page("/console/groups?state=Stable");
    expect(p.status).toBe(303);
    expect(p.location).toBe(`/console/sign-in?next=${encodeURIComponent("/console/groups?state=Stable")}`);
    const form = await page(p.location!);
    expect(form.status).toBe(200);
    expect(await testids(form.html, "sign-in")).toHaveLength(1);
    expect(form.html).toContain('name="token"');
    expect(await testids(form.html, "sign-in-submit")).toHaveLength(1);
    expect(form.headers.get("content-security-policy")).toContain("script-src 'self'");
  });

  it("sets the session cookie with exactly the attributes of API.md §9 and redirects", async () => {
    const exp = Math.floor(Date.now() / 1000) + 1800;
    const jwt = await token({ exp });
    const p = await page("/console/sign-in", { form: { token: jwt, next: "/console/groups?type=share" } });
    expect(p.status).toBe(303);
    expect(p.location).toBe("/console/groups?type=share");
    const { value, attrs } = cookieOf(p.headers, SESSION);
    expect(value).toBe(jwt);
    expect([...attrs.keys()].sort()).toEqual(["expires", "httponly", "path", "samesite", "secure"]);
    expect(attrs.get("path")).toBe("/");
    expect(attrs.get("samesite")).toBe("Strict");
    expect(Date.parse(attrs.get("expires")!)).toBe(exp * 1000);
    // The cookie then opens the console.
    expect((await page("/console/groups", { session: value })).status).toBe(200);
  });

  it("never redirects outside the console after signing in", async () => {
    for (const next of ["https://evil.test/", "//evil.test/x", "/v1/groups", "/console/../v1"]) {
      const p = await page("/console/sign-in", { form: { token: await adminToken(), next } });
      expect(p.status).toBe(303);
      expect(p.location, next).toBe("/console");
    }
  });

  it("answers a bad, expired or missing token with the form again, a 401 and a clear message", async () => {
    const cases: [string, RegExp][] = [
      ["not-a-jwt", /malformed|does not verify/],
      [await token({}, "another-secret"), /signature does not match/],
      [await token({ exp: Math.floor(Date.now() / 1000) - 10 }), /expired/],
      ["", /paste a token/],
    ];
    for (const [jwt, message] of cases) {
      const p = await page("/console/sign-in", { form: { token: jwt } });
      expect(p.status, jwt).toBe(401);
      expect(p.headers.getSetCookie().some((c) => c.startsWith(SESSION))).toBe(false);
      const error = await testids(p.html, "sign-in-error");
      expect(error[0]!.text).toMatch(message);
      expect(await testids(p.html, "sign-in")).toHaveLength(1);
      expect(p.html).not.toContain(jwt || "\u0000");
    }
  });

  it("refuses a sign-in posted from another origin", async () => {
    const p = await page("/console/sign-in", {
      form: { token: await adminToken() },
      origin: "https://evil.test",
    });
    expect(p.status).toBe(403);
    expect(p.headers.getSetCookie()).toEqual([]);
  });

  it("sends an expired session back to sign-in and clears its cookie; fragments get a 401", async () => {
    const expired = await token({ exp: Math.floor(Date.now() / 1000) - 5 });
    const p = await page("/console/groups", { session: expired });
    expect(p.status).toBe(303);
    expect(p.location).toMatch(/^\/console\/sign-in\?next=.*&expired=1$/);
    const cleared = cookieOf(p.headers, SESSION);
    expect(cleared.value).toBe("");
    expect(cleared.attrs.get("max-age")).toBe("0");
    const again = await page(p.location!);
    expect((await testids(again.html, "sign-in-error"))[0]!.text).toContain("Your session has expired");
    const fragment = await page("/console/groups?fragment=live", { session: expired });
    expect(fragment.status).toBe(401);
  });

  it("signs out: clears the cookie and goes to sign-in", async () => {
    const p = await page("/console/sign-out", { method: "POST", session: await adminToken() });
    expect(p.status).toBe(303);
    expect(p.location).toBe("/console/sign-in");
    const cleared = cookieOf(p.headers, SESSION);
    expect(cleared.value).toBe("");
    expect(cleared.attrs.get("max-age")).toBe("0");
    expect(cleared.attrs.has("secure")).toBe(true);
  });

  it("shows the sign-out button and the session's end to a signed-in viewer", async () => {
    const html = (await page("/console/groups", { session: await adminToken() })).html;
    expect(html).toContain('action="/console/sign-out"');
    expect(html).toContain("Session until");
  });
});
