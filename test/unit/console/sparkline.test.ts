/**
 * The lag sparkline's geometry in plain Node: every point (and the single sample's dot with its
 * radius) lies inside the viewBox with room to spare, for one sample, two, a flat series and lags as
 * large as 2^53, so nothing is drawn half cut off on an edge.
 */

import { describe, expect, it } from "vitest";
import type { LagSample } from "../../../src/console/api.ts";
import {
  DOT_RADIUS,
  SPARKLINE_BOX,
  Sparkline,
  sparklineCoordinates,
} from "../../../src/console/sparkline.tsx";

const at = Date.UTC(2026, 11, 1, 2, 40);
const series = (...lags: number[]): LagSample[] =>
  lags.map((totalLag, i) => ({ at: at + i * 60_000, totalLag }));

function expectInside(samples: LagSample[]) {
  const { width, height } = SPARKLINE_BOX;
  const points = sparklineCoordinates(samples);
  expect(points).toHaveLength(samples.length);
  for (const { x, y } of points) {
    expect(Number.isFinite(x) && Number.isFinite(y)).toBe(true);
    expect(x - DOT_RADIUS).toBeGreaterThan(0);
    expect(x + DOT_RADIUS).toBeLessThan(width);
    expect(y - DOT_RADIUS).toBeGreaterThan(0);
    expect(y + DOT_RADIUS).toBeLessThan(height);
  }
  return points;
}

describe("sparkline coordinates stay inside the box", () => {
  it.each([
    ["one sample", series(7)],
    ["one sample of zero lag", series(0)],
    ["two samples", series(0, 10)],
    [
      "two samples at the same instant",
      [
        { at, totalLag: 1 },
        { at, totalLag: 9 },
      ],
    ],
    ["a flat series", series(5, 5, 5, 5)],
    ["a flat series of zero", series(0, 0, 0)],
    ["huge values", series(2 ** 53, 1, 2 ** 53 - 1)],
    ["a single huge value", series(2 ** 53)],
    ["negative lag (clamped to zero)", series(-5, 3)],
  ])("%s", (_, samples) => {
    expectInside(samples);
  });

  it("keeps the shape: zero on the bottom line, the largest at the top, a lone or flat sample mid-height", () => {
    const [low, high] = expectInside(series(0, 10));
    expect(low!.y).toBe(SPARKLINE_BOX.height - SPARKLINE_BOX.pad);
    expect(high!.y).toBe(SPARKLINE_BOX.pad);
    expect(low!.x).toBeLessThan(high!.x);
    const [lone] = expectInside(series(7));
    expect(lone).toEqual({ x: SPARKLINE_BOX.width / 2, y: SPARKLINE_BOX.height / 2 });
    expect(new Set(expectInside(series(5, 5, 5)).map((p) => p.y))).toEqual(
      new Set([SPARKLINE_BOX.height / 2]),
    );
  });

  it("draws a single sample as a whole dot inside the box and says '1 sample'", async () => {
    const html = String(await Sparkline({ samples: series(7) }));
    expect(html).toContain(`<circle cx="120" cy="24" r="${DOT_RADIUS}"`);
    expect(html).toContain("over 1 sample.");
    expect(String(await Sparkline({ samples: series(1, 2) }))).toContain("over 2 samples.");
  });
});
