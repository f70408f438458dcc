/**
 * The console's pure pieces in plain Node: every event type of API.md §8 (the detail shapes of the
 * history interface) rendered in words, the lag trend, the sparkline's points and its empty state, the
 * reset form's parsing, and the sign-in's `next` kept inside /console.
 */

import { describe, expect, it } from "vitest";
import type { GroupEvent } from "../../../src/console/api.ts";
import { describeEvent, lagTrend, stateClass, stateMeaning } from "../../../src/console/format.ts";
import { EventsList } from "../../../src/console/group-parts.tsx";
import { resetBody, resetFields } from "../../../src/console/reset-page.tsx";
import { safeNext } from "../../../src/console/sign-in.tsx";
import { Sparkline, sparklinePoints } from "../../../src/console/sparkline.tsx";

const at = Date.UTC(2026, 11, 1, 2, 40);
const event = (
  type: string,
  detail: Record<string, unknown>,
  extra: Partial<GroupEvent> = {},
): GroupEvent => ({
  seq: 1,
  at,
  type,
  detail,
  ...extra,
});

describe("events in words", () => {
  const cases: [GroupEvent, string][] = [
    [
      event(
        "member_joined",
        { clientId: "svc", clientHost: "10.0.0.1", groupInstanceId: null },
        { memberId: "m1" },
      ),
      "member m1 joined (client svc from 10.0.0.1)",
    ],
    [event("member_left", { reason: "static_leave" }, { memberId: "m1" }), "member m1 left (static_leave)"],
    [
      event("member_fenced", { reason: "session_timeout" }, { memberId: "m2" }),
      "member m2 was fenced (session timeout)",
    ],
    [
      event("rebalance", { generationId: 4, members: 3, partitionsMoved: 2 }),
      "rebalance to generation 4: 3 members, 2 partitions moved",
    ],
    [
      event("rebalance", { groupEpoch: 9, members: 1, partitionsMoved: 0 }),
      "rebalance to group epoch 9: 1 member, 0 partitions moved",
    ],
    [event("state_changed", { from: "Stable", to: "Dead" }, { actor: "ops" }), "state Stable → Dead"],
    [
      event("offsets_reset", {
        topic: "orders",
        partitions: [{ partition: 0, previousOffset: 9, newOffset: 0 }],
      }),
      "offsets of orders reset on 1 partition",
    ],
    [
      event("offsets_deleted", { topic: "orders", partitions: [0, 2] }),
      "offsets of orders deleted (partitions 0, 2)",
    ],
    [
      event("share_archived", {
        topic: "jobs",
        partition: 1,
        firstOffset: 5,
        lastOffset: 6,
        reason: "delivery_limit",
      }),
      "jobs-1 offsets 5–6 archived (delivery limit)",
    ],
    [
      event("share_redriven", { topic: "jobs", partition: 1, firstOffset: 5, lastOffset: 6, count: 2 }),
      "jobs-1 offsets 5–6 redriven (2 offsets)",
    ],
  ];
  it.each(cases)("describes %#", (e, words) => {
    expect(describeEvent(e)).toBe(words);
  });

  it("survives details of the wrong shape", () => {
    expect(describeEvent(event("offsets_reset", { partitions: "x" }))).toBe(
      "offsets of ? reset on 0 partitions",
    );
    expect(describeEvent(event("something_new", {}))).toBe("something_new");
    expect(describeEvent({ ...event("member_left", {}), detail: null as never })).toBe("a member left (?)");
  });

  it("renders the timeline with its hooks, newest first as given, and the actor", async () => {
    const html = String(
      await EventsList({
        state: {
          events: [event("state_changed", { from: "Empty", to: "Dead" }, { actor: "alice", seq: 7 })],
        },
      }),
    );
    expect(html).toContain('data-testid="events"');
    expect(html).toContain('data-testid="event" data-event-type="state_changed" data-seq="7"');
    expect(html).toContain("by alice");
    expect(html).toContain('datetime="2026-12-01T02:40:00.000Z"');
    const missing = String(await EventsList({ state: { unavailable: "no history" } }));
    expect(missing).toContain('data-testid="events"');
    expect(missing).toContain("no history");
  });
});

describe("lag trend and sparkline", () => {
  const samples = (...lags: number[]) => lags.map((totalLag, i) => ({ at: at + i * 60_000, totalLag }));

  it("calls a trend rising, falling or steady, with noise ignored", () => {
    expect(lagTrend(samples(100, 500))?.words).toBe("rising");
    expect(lagTrend(samples(500, 100))?.words).toBe("falling");
    expect(lagTrend(samples(1000, 1030))?.words).toBe("steady");
    expect(lagTrend(samples(0, 5))?.words).toBe("steady");
    expect(lagTrend(samples(7))).toBeNull();
  });

  it("draws oldest left, zero at the bottom, and says what it shows", async () => {
    expect(sparklinePoints(samples(0, 10))).toBe("4.0,44.0 236.0,4.0");
    const html = String(await Sparkline({ samples: samples(3, 9, 4) }));
    expect(html).toContain('data-testid="lag-sparkline"');
    expect(html).toContain("<polyline");
    expect(html).toMatch(/from 3 .* to 4 .* at most 9, over 3 samples/);
    const empty = String(await Sparkline({ samples: [] }));
    expect(empty).toContain('data-testid="lag-sparkline"');
    expect(empty).toContain("No lag history yet");
    expect(empty).not.toContain("<polyline");
  });
});

describe("states", () => {
  it("gives every Kafka state a meaning and a badge class, and unknown ones a neutral badge", () => {
    for (const s of [
      "Empty",
      "PreparingRebalance",
      "CompletingRebalance",
      "Assigning",
      "Reconciling",
      "Stable",
      "Dead",
    ]) {
      expect(stateMeaning(s)).not.toMatch(/does not know/);
    }
    expect(stateClass("__proto__")).toBe("badge badge-idle");
    expect(stateMeaning("__proto__")).toMatch(/does not know/);
  });
});

describe("reset form", () => {
  const parse = (form: Record<string, string>) => resetBody(resetFields(form));

  it("builds the API's body from the fields", () => {
    expect(parse({ topic: "t", to: "shift", shiftBy: "-5", partitions: "0, 2,2" })).toEqual({
      topic: "t",
      to: "shift",
      shiftBy: -5,
      partitions: [0, 2],
    });
    expect(parse({ topic: "t", to: "offset", offset: "42" })).toEqual({
      topic: "t",
      to: "offset",
      offset: 42,
    });
    expect(parse({ topic: "t", to: "latest", offset: "junk" })).toEqual({ topic: "t", to: "latest" });
  });

  it("says what is wrong with bad fields", () => {
    expect(parse({ topic: "t", to: "toString" })).toMatch(/strategy/);
    expect(parse({ topic: "t", to: "offset", offset: "-1" })).toMatch(/offset/);
    expect(parse({ topic: "t", to: "shift", shiftBy: "1.5" })).toMatch(/shift/);
    expect(parse({ topic: "t", to: "earliest", partitions: "a" })).toMatch(/partitions/);
    expect(parse({ to: "earliest" })).toMatch(/topic/);
  });
});

describe("sign-in next", () => {
  it("keeps only paths inside /console", () => {
    expect(safeNext("/console/groups/x?fragment=live")).toBe("/console/groups/x?fragment=live");
    for (const bad of [
      "//evil",
      "https://evil",
      "/v1/groups",
      "/console/../v1",
      "/console/%2e%2e/v1",
      "/consolex",
      7,
    ]) {
      expect(safeNext(bad)).toBe("/console");
    }
  });
});
