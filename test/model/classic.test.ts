/**
 * The black-box model test (issue 10) for the classic protocol (API.md §4): 200 random schedules of
 * joins (KIP-394 and static), leaves, silent deaths, commits, static restarts and object restarts,
 * against the real object on workerd. Members run a client-side round-robin assignor, heartbeat once
 * per interval, rejoin on REBALANCE_IN_PROGRESS dropping what they owned (eager), and know only their
 * responses. No such member gets ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID or FENCED_INSTANCE_ID; no
 * partition is told to two live members; the group converges to one generation and a balanced cover
 * within ten heartbeat rounds after churn; a stopped member is gone one alarm cycle after its session,
 * across restarts; every acknowledged commit is fetched back. Time is virtual (src/core/clock.ts).
 */

import { it } from "vitest";
import { ClassicModel } from "./classic-model";
import { checkSchedules } from "./schedules";

it("classic protocol: 200 random schedules keep every invariant", async () => {
  await checkSchedules("classic", (w) => new ClassicModel(w), 200);
}, 300_000);
