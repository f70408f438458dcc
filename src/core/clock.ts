/**
 * The coordinator's clock. The Durable Object reads time only through `now()`, so that a test can move
 * the clock forward (sessions, rebalance timeouts, retention) without waiting them out in real time.
 * Storage and alarms stay real: a test moves the clock, then fires the alarm with the runtime's own
 * `runDurableObjectAlarm`. In production nothing moves the offset and `now()` is `Date.now()`.
 */

let offsetMs = 0;

/** Milliseconds since the Unix epoch, as the coordinator sees them. */
export const now = (): number => Date.now() + offsetMs;

/**
 * Moves the coordinator's clock forward by `ms` (tests only). It never moves back: every deadline the
 * coordinator set stays in the future of the real clock, so a real alarm never fires on its own.
 */
export function advanceClock(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`the clock only moves forward (${ms})`);
  offsetMs += ms;
}
