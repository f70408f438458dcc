/**
 * The app's routes stay within what hono's RegExpRouter can compile: a single pattern route among
 * static ones (the console's assets once were one) makes hono's SmartRouter fall back to its
 * TrieRouter for every request, /v1's protocol calls included, at several times the routing cost.
 */

import { expect, it } from "vitest";
import { app } from "../../../src/http/app.ts";

it("routes with hono's RegExpRouter", () => {
  const [handlers] = app.router.match("POST", "/v1/groups/g/share/acquire");
  expect(handlers.length).toBeGreaterThan(0);
  expect(app.router.name).toBe("SmartRouter + RegExpRouter");
});
