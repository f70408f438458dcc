/**
 * The black-box model test (issue 10): random schedules of joins, leaves, silent deaths, commits,
 * static restarts and object restarts (evict, abort), for both protocols, against the real object on
 * workerd. Members know only what their responses told them. After every response: no member that
 * sent only what it was told is fenced (FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH,
 * ILLEGAL_GENERATION) while its session lives, and no partition is told to two live members. When churn
 * stops the group is a balanced cover within a bounded number of heartbeat rounds; a member that
 * stopped is gone one alarm cycle after its session, across restarts; acknowledged commits all stay.
 * Time is virtual: the test moves the coordinator's clock and fires the real alarm when it is due.
 */

import fc from "fast-check";
import { expect, it } from "vitest";
import { ClassicModel } from "./classic-model";
import { ConsumerModel } from "./consumer-model";
import { type GroupModel, report, runSchedule, schedules } from "./schedules";
import type { World } from "./world";

const protocols: [string, (w: World) => GroupModel & { stop?: () => void }, number][] = [
  ["consumer", (w) => new ConsumerModel(w), 300],
  ["classic", (w) => new ClassicModel(w), 200],
];

for (const [protocol, makeModel, numRuns] of protocols) {
  it(`${protocol} protocol: ${numRuns} random schedules keep every invariant`, async () => {
    let ran = 0;
    await fc.assert(
      fc.asyncProperty(schedules(8, 12), async (schedule) => {
        ran++;
        let model: (GroupModel & { stop?: () => void }) | undefined;
        const result = await runSchedule(schedule, protocol, (w) => {
          model = makeModel(w);
          return model;
        });
        model?.stop?.();
        if (result.violations.length > 0) throw new Error(report(result));
      }),
      // Shrinking reruns schedules: bounded, so that a failure is reported in minutes, not hours.
      { numRuns, interruptAfterTimeLimit: 240_000 },
    );
    expect(ran).toBeGreaterThanOrEqual(numRuns);
  }, 300_000);
}
