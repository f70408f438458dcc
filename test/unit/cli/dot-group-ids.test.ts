/**
 * `cohort … .` and `cohort … ..`: valid by API.md §1's pattern, but a URL parser turns /v1/groups/./lag
 * into /v1/groups/lag (another group's route). The CLI refuses them as a usage error and sends nothing.
 */

import { expect, it } from "vitest";
import { runMain } from "./run-main.ts";

it.each([
  ["groups", "lag", "."],
  ["groups", "describe", ".."],
  ["groups", "delete", "."],
  ["offsets", "reset", "..", "--topic", "orders", "--to-earliest", "--execute"],
  ["share-groups", "describe", "."],
])("cohort %s %s %s is refused as INVALID_GROUP_ID without a request", async (...args) => {
  const sent: string[] = [];
  const fetch = (async (input: string | URL | Request) => {
    sent.push(String(input));
    return new Response("{}", { status: 200 });
  }) as typeof globalThis.fetch;
  const { code, stderr } = await runMain(args, fetch);
  expect(code).toBe(2);
  expect(stderr).toContain("INVALID_GROUP_ID");
  expect(sent).toEqual([]);
});
