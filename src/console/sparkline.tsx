/**
 * A group's total lag over time as a small inline SVG (no script, no image request: the CSP allows
 * neither inline scripts nor remote images). Its title says in words what the line shows.
 */

import type { FC } from "hono/jsx";
import type { LagSample } from "./api.ts";
import { count, plural, utc } from "./format.ts";

const WIDTH = 240;
const HEIGHT = 48;
export const DOT_RADIUS = 2;
/** Room around the drawing so the dot and the line's stroke (1.5) stay whole inside the viewBox. */
const PAD = DOT_RADIUS + 2;
export const SPARKLINE_BOX = { width: WIDTH, height: HEIGHT, pad: PAD } as const;

export interface Point {
  x: number;
  y: number;
}

/**
 * Where each sample goes: time on x (oldest left), lag on y (zero on the bottom line, the largest at
 * the top padding). A single sample sits in the middle; a flat series of non-zero lag is drawn at
 * mid-height (there is no range to scale), a flat zero on the bottom line.
 */
export function sparklineCoordinates(samples: readonly LagSample[]): Point[] {
  if (samples.length === 0) return [];
  const t0 = samples[0]!.at;
  const span = samples[samples.length - 1]!.at - t0;
  const lags = samples.map((s) => (Number.isFinite(s.totalLag) ? Math.max(0, s.totalLag) : 0));
  const max = Math.max(...lags);
  const flat = max === Math.min(...lags);
  const inner = { w: WIDTH - 2 * PAD, h: HEIGHT - 2 * PAD };
  return samples.map((s, i) => {
    const x = span > 0 ? PAD + Math.min(1, Math.max(0, (s.at - t0) / span)) * inner.w : WIDTH / 2;
    const level = max === 0 ? 0 : flat ? 0.5 : lags[i]! / max;
    return { x, y: HEIGHT - PAD - level * inner.h };
  });
}

/** The polyline's points attribute. */
export function sparklinePoints(samples: readonly LagSample[]): string {
  return sparklineCoordinates(samples)
    .map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`)
    .join(" ");
}

export function sparklineSummary(samples: readonly LagSample[]): string {
  if (samples.length === 0)
    return "No lag history yet: samples are taken at most once a minute while commits arrive.";
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const max = Math.max(...samples.map((s) => s.totalLag));
  return `Total lag from ${count(first.totalLag)} (${utc(first.at)}) to ${count(last.totalLag)} (${utc(last.at)}), at most ${count(max)}, over ${plural(samples.length, "sample")}.`;
}

export const Sparkline: FC<{ samples: readonly LagSample[] }> = ({ samples }) => {
  const summary = sparklineSummary(samples);
  const points = sparklineCoordinates(samples);
  return (
    <figure class="sparkline">
      <svg
        data-testid="lag-sparkline"
        role="img"
        aria-label={summary}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width={WIDTH}
        height={HEIGHT}
        data-samples={String(samples.length)}
      >
        <title>{summary}</title>
        <line x1="0" y1={HEIGHT - PAD} x2={WIDTH} y2={HEIGHT - PAD} class="axis" />
        {samples.length > 1 ? <polyline points={sparklinePoints(samples)} class="line" fill="none" /> : null}
        {samples.length === 1 ? (
          <circle cx={points[0]!.x} cy={points[0]!.y} r={DOT_RADIUS} class="dot" />
        ) : null}
      </svg>
      <figcaption>{summary}</figcaption>
    </figure>
  );
};
