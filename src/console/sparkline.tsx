/**
 * A group's total lag over time as a small inline SVG (no script, no image request: the CSP allows
 * neither inline scripts nor remote images). Its title says in words what the line shows.
 */

import type { FC } from "hono/jsx";
import type { LagSample } from "./api.ts";
import { count, utc } from "./format.ts";

const WIDTH = 240;
const HEIGHT = 48;
const PAD = 2;

/** The polyline's points: time on x (oldest left), lag on y (zero at the bottom). */
export function sparklinePoints(samples: readonly LagSample[]): string {
  if (samples.length === 0) return "";
  const t0 = samples[0]!.at;
  const span = Math.max(1, samples[samples.length - 1]!.at - t0);
  const max = Math.max(1, ...samples.map((s) => s.totalLag));
  return samples
    .map((s) => {
      const x = samples.length === 1 ? WIDTH / 2 : PAD + ((s.at - t0) / span) * (WIDTH - 2 * PAD);
      const y = HEIGHT - PAD - (Math.max(0, s.totalLag) / max) * (HEIGHT - 2 * PAD);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
}

export function sparklineSummary(samples: readonly LagSample[]): string {
  if (samples.length === 0)
    return "No lag history yet: samples are taken at most once a minute while commits arrive.";
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const max = Math.max(...samples.map((s) => s.totalLag));
  return `Total lag from ${count(first.totalLag)} (${utc(first.at)}) to ${count(last.totalLag)} (${utc(last.at)}), at most ${count(max)}, over ${samples.length} samples.`;
}

export const Sparkline: FC<{ samples: readonly LagSample[] }> = ({ samples }) => {
  const summary = sparklineSummary(samples);
  const points = sparklinePoints(samples);
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
        {samples.length > 1 ? <polyline points={points} class="line" fill="none" /> : null}
        {samples.length === 1 ? <circle cx={WIDTH / 2} cy={points.split(",")[1]} r="2" class="dot" /> : null}
      </svg>
      <figcaption>{summary}</figcaption>
    </figure>
  );
};
