/**
 * Random schedules for the model test (fast-check) and the loop that runs one: each step is an event
 * (a join, a leave, a silent death, a commit, a static restart, an object restart) followed by one
 * heartbeat interval of virtual time; then churn stops and the group must converge within a bounded
 * number of heartbeat rounds, with every acknowledged commit still there.
 */

import fc from "fast-check";
import { expect } from "vitest";
import { TICK_MS, type Transport, type Violation, World } from "./world";

/** Steps are short strings so that a shrunk counterexample reads as a story: `die#1`, `wait3`, `idle2`. */
const event = fc.oneof(
  { arbitrary: fc.constantFrom("join", "join-static"), weight: 4 },
  { arbitrary: fc.constantFrom("commit"), weight: 3 },
  { arbitrary: fc.constantFrom("leave", "die", "restart-static"), weight: 3 },
  { arbitrary: fc.constantFrom("evict", "abort"), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 3 }).map((n) => `wait${n}`), weight: 1 },
  // An idle object, evicted before each of the next n alarms (woken by the alarm alone).
  { arbitrary: fc.integer({ min: 2, max: 4 }).map((n) => `idle${n}`), weight: 1 },
);
const step = fc
  .tuple(event, fc.nat(7))
  .map(([e, who]) => (/^(leave|die|commit|restart)/.test(e) ? `${e}#${who}` : e));

export interface Schedule {
  topics: Record<string, number>;
  transport: Transport;
  steps: string[];
}

export const schedules = (minSteps: number, maxSteps: number): fc.Arbitrary<Schedule> =>
  fc.record({
    topics: fc
      .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 2 })
      .map((counts) => Object.fromEntries(counts.map((n, i) => [`t${i}`, n]))),
    // Mostly RPC (the object's own surface, fast); one in six through the Worker over HTTP.
    transport: fc.constantFrom<Transport>("rpc", "rpc", "rpc", "rpc", "rpc", "http"),
    steps: fc.array(step, { minLength: minSteps, maxLength: maxSteps }),
  });

/** What the model test needs of a protocol's model. */
export interface GroupModel {
  step(step: string, who: number): Promise<void>;
  tick(ms: number): Promise<void>;
  converged(): Promise<boolean>;
}

/** Heartbeat rounds after churn stops: a dead member's session (3), a rebalance, and slack. */
export const CONVERGENCE_ROUNDS = 10;

/** Runs one schedule; returns the violations (empty: the schedule passed) and the trace. */
export async function runSchedule(
  s: Schedule,
  prefix: string,
  makeModel: (w: World) => GroupModel,
  verbose = false,
): Promise<{ violations: Violation[]; trace: string[] }> {
  const world = new World(s.topics, s.transport, prefix);
  world.verbose = verbose;
  const model = makeModel(world);
  for (const raw of s.steps) {
    const [name, who] = raw.split("#");
    const wait = /^(wait|idle)(\d)$/.exec(name!);
    if (wait)
      for (let i = 0; i < Number(wait[2]); i++) {
        if (wait[1] === "idle") await model.step("idle-evict", 0);
        await model.tick(TICK_MS);
      }
    else {
      await model.step(name!, Number(who ?? 0));
      await model.tick(TICK_MS);
    }
  }
  world.log("churn stops");
  let rounds = 0;
  while (!(await model.converged())) {
    if (++rounds > CONVERGENCE_ROUNDS) {
      world.violate("no-convergence", `not balanced after ${CONVERGENCE_ROUNDS} heartbeat rounds`);
      break;
    }
    await model.tick(TICK_MS);
  }
  await world.checkCommits();
  return { violations: world.violations, trace: world.trace };
}

/** A readable failure: the violations, then the schedule's trace. */
export function report(r: { violations: Violation[]; trace: string[] }): string {
  const v = r.violations.map((x) => `  ${x.kind}: ${x.detail}`).join("\n");
  return `${r.violations.length} violation(s):\n${v}\ntrace:\n  ${r.trace.join("\n  ")}`;
}

/** Runs `numRuns` random schedules against fresh groups; a failing one is shrunk and reported. */
export async function checkSchedules(
  protocol: string,
  makeModel: (w: World) => GroupModel & { stop?: () => void },
  numRuns: number,
): Promise<void> {
  let ran = 0;
  await fc.assert(
    fc.asyncProperty(schedules(5, 10), async (schedule) => {
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
}
