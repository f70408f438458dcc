/**
 * `cohort groups history <group>` through main() against canned API.md §8 answers: the columns SEQ AT
 * TYPE MEMBER ACTOR DETAIL, `--after`/`--limit` sent as the query, `--json`, hostile strings escaped,
 * and usage errors (exit 2) that reach no coordinator.
 */

import { describe, expect, it } from "vitest";
import { runMain } from "./run-main.ts";

const AT = Date.UTC(2026, 11, 1, 2, 40);
const EVENTS = [
  {
    seq: 7,
    at: AT,
    type: "member_fenced",
    memberId: "m-1",
    detail: { reason: "session_timeout" },
  },
  {
    seq: 8,
    at: AT + 1000,
    type: "offsets_reset",
    actor: "alice\u001b[31m",
    detail: { topic: "orders", partitions: [{ partition: 0, previousOffset: 42, newOffset: 32 }] },
  },
];

async function cohort(args: string[]) {
  const sent: URL[] = [];
  const fetch = (async (input: string | URL | Request) => {
    const url = new URL(String(input));
    sent.push(url);
    return new Response(JSON.stringify({ events: EVENTS, nextAfter: 8 }), {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  }) as typeof globalThis.fetch;
  return { ...(await runMain(args, fetch)), sent };
}

describe("groups history", () => {
  it("prints the events with their columns and asks with --after/--limit", async () => {
    const { code, stdout, sent } = await cohort([
      "groups",
      "history",
      "billing",
      "--after",
      "6",
      "--limit",
      "2",
    ]);
    expect(code).toBe(0);
    expect(sent.map((u) => `${u.pathname}${u.search}`)).toEqual([
      "/v1/groups/billing/events?after=6&limit=2",
    ]);
    const lines = stdout.split("\n");
    expect(lines[0]!.split(/ +/)).toEqual(["SEQ", "AT", "TYPE", "MEMBER", "ACTOR", "DETAIL"]);
    expect(lines[1]).toMatch(/^7 +2026-12-01T02:40:00.000Z +member_fenced +m-1 +- +reason=session_timeout$/);
    expect(lines[2]).toContain(
      'topic=orders partitions=[{"partition":0,"previousOffset":42,"newOffset":32}]',
    );
    // An actor with a terminal escape is shown escaped, never sent to the terminal.
    expect(stdout).not.toContain("\u001b");
  });

  it("--json prints the page", async () => {
    const { code, stdout } = await cohort(["groups", "history", "billing", "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).nextAfter).toBe(8);
  });

  it("bad --after or --limit is a usage error before any request", async () => {
    for (const bad of [
      ["--after", "-1"],
      ["--limit", "x"],
    ]) {
      const { code, sent } = await cohort(["groups", "history", "billing", ...bad]);
      expect(code).toBe(2);
      expect(sent).toEqual([]);
    }
  });
});
