/**
 * A dead member must be gone one session (plus an alarm cycle) after it was last heard, even while the
 * object restarts more often than the session lasts and another member keeps heartbeating. A restart
 * may give a member heard in the life before it a fresh session (as Kafka's coordinator does on
 * failover), but only once: a member not heard since keeps that deadline, and each further restart
 * must not move it again. Found by the model test (an object evicted before each alarm).
 */

import { expect, it } from "vitest";
import { ClassicModel } from "./classic-model";
import { ConsumerModel } from "./consumer-model";
import { SESSION_MS, TICK_MS, World } from "./world";

const models = [
  ["consumer", (w: World) => new ConsumerModel(w)],
  ["classic", (w: World) => new ClassicModel(w)],
] as const;

for (const [protocol, makeModel] of models) {
  it(`${protocol}: a dead member expires while the object is evicted every heartbeat interval`, async () => {
    const world = new World({ t: 2 }, "rpc", `restarts-${protocol}`);
    const model = makeModel(world);
    await model.step("join", 0);
    await model.step("join", 0);
    for (let i = 0; i < 6; i++) await model.tick(TICK_MS);
    await model.step("die", 0);
    const diedAt = world.t;
    // Evicted before each tick: the other member's heartbeat (or the alarm) wakes it every second.
    const listed: number[] = [];
    while (world.t < diedAt + 3 * SESSION_MS) {
      await model.step("idle-evict", 0);
      await model.tick(TICK_MS);
      const described = await world.send("describe");
      listed.push(described.ok ? described.value.members.length : -1);
    }
    // Gone by one restart's fresh session plus an alarm cycle: 2 s + 3 s + 1 s after the death.
    const goneBy = (world.expiresBy(diedAt) - diedAt) / TICK_MS;
    expect(listed.slice(goneBy), `members listed each second after the death: ${listed}`).toEqual(
      listed.slice(goneBy).map(() => 1),
    );
    expect(world.violations).toEqual([]);
  });
}
