import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("health", async () => {
  const r = await exports.default.fetch("http://x/ping");
  expect(await r.json()).toEqual({ x: 1 });
});
