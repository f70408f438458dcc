/**
 * The black-box model test (issue 10) for the consumer protocol (API.md §5): 300 random schedules of
 * joins, leaves, silent deaths, commits, static restarts (−2 then a rejoin) and object restarts
 * (evict, abort, an object evicted before each alarm), against the real object on workerd. Members know
 * only what their heartbeat responses told them, report exactly that, and revoke at once. After every
 * response: no such member is fenced (FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH) and no
 * partition is told to two live members. When churn stops the group is a balanced cover within ten
 * heartbeat rounds; a stopped member is gone one alarm cycle after its session, across restarts; every
 * acknowledged commit is fetched back. Time is virtual: the test moves the coordinator's clock
 * (src/core/clock.ts) and fires the real alarm when its time has come.
 */

import { it } from "vitest";
import { ConsumerModel } from "./consumer-model";
import { checkSchedules } from "./schedules";

it("consumer protocol: 300 random schedules keep every invariant", async () => {
  await checkSchedules("consumer", (w) => new ConsumerModel(w), 300);
}, 300_000);
