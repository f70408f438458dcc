/**
 * Waiting for a rebalance to finish, as the rebalance figures time it: `check()` is called on every
 * change the members see; once their own view has converged (`converged()`), the coordinator is
 * asked (describe) until it says Stable, and the wait resolves at that answer's arrival time.
 */
import type { Bench } from "./report";

const TIMEOUT_MS = 60_000;

export function stableWaiter(
  bench: Bench,
  groupId: string,
  converged: () => boolean,
): { wait: () => Promise<number>; check: () => void } {
  let done: ((t: number) => void) | null = null;
  let asking = false;
  const check = () => {
    if (!done || asking || !converged()) return;
    // The members' view is complete; the group is Stable once the coordinator has their last calls.
    asking = true;
    void bench.coordinator.http.json<{ state: string }>("GET", `/v1/groups/${groupId}`).then((d) => {
      asking = false;
      if (d.state === "Stable" && done) {
        done(performance.now());
        done = null;
      } else setTimeout(check, 1);
    });
  };
  const wait = () =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${groupId} not Stable in ${TIMEOUT_MS} ms`)),
        TIMEOUT_MS,
      );
      done = (t) => {
        clearTimeout(timer);
        resolve(t);
      };
      check();
    });
  return { wait, check };
}
