/** A group state as a badge: the state's name in text, its Kafka meaning as the tooltip, colour on top. */

import type { FC } from "hono/jsx";
import { STATE_MEANINGS, stateClass, stateMeaning } from "./format.ts";

export const StateBadge: FC<{ state: string; inLegend?: boolean }> = ({ state, inLegend }) => (
  <span
    class={stateClass(state)}
    data-testid={inLegend ? undefined : "state-badge"}
    data-state={state}
    title={stateMeaning(state)}
  >
    {state}
  </span>
);

/** The meanings in full, for those who cannot hover (keyboard, touch, screen readers). */
export const StateLegend: FC = () => (
  <details class="legend">
    <summary>What the states mean</summary>
    <dl>
      {Object.entries(STATE_MEANINGS).map(([state, meaning]) => (
        <>
          <dt>
            <StateBadge state={state} inLegend />
          </dt>
          <dd>{meaning}</dd>
        </>
      ))}
    </dl>
  </details>
);
