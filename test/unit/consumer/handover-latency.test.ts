/**
 * How many heartbeats a hand-over takes with polling clients: a member joining a settled group
 * receives its whole share at its first heartbeat after the previous owners reported their
 * revocations — one heartbeat interval, not two.
 */

import { expect, it } from "vitest";
import type { TopicPartitions } from "../../../src/core/group";
import { Harness } from "./harness";

it("hands a joining member its whole share at its first heartbeat after the revocations", () => {
  const h = new Harness();
  const owned = new Map<string, TopicPartitions[]>();
  const epochs = new Map<string, number>();
  const remember = (
    id: string,
    r: { memberEpoch: number; assignment: { partitions: TopicPartitions[] } },
  ) => {
    owned.set(id, r.assignment.partitions);
    epochs.set(id, r.memberEpoch);
  };
  /** One heartbeat reporting what the member was last told; true when the answer changed it. */
  const beat = (id: string): boolean => {
    const before = JSON.stringify([epochs.get(id), owned.get(id)]);
    remember(
      id,
      h.must({ memberId: id, memberEpoch: epochs.get(id)!, ownedPartitions: owned.get(id) ?? [] }),
    );
    return JSON.stringify([epochs.get(id), owned.get(id)]) !== before;
  };
  const old = Array.from({ length: 100 }, (_, i) => `m${i}`);
  for (const id of old) remember(id, h.join(id, { t: 900 }));
  // Settle: members acknowledge every change at once, as KIP-848 clients do.
  for (let round = 0; round < 5; round++) for (const id of old) while (beat(id)) {}
  expect(h.group!.state).toBe("Stable");

  remember("new", h.join("new", { t: 900 }));
  expect(owned.get("new")).toEqual([]); // everything is still owned by someone
  // Within one interval every old member heartbeats once and acknowledges (revoking what it must).
  for (const id of old) while (beat(id)) {}
  beat("new");
  const share = owned.get("new")![0]!.partitions.length;
  // 900 partitions over 101 members: 8 or 9 each, all of it now, and the group settled.
  expect([8, 9]).toContain(share);
  expect(h.group!.state).toBe("Stable");
  const all = [...owned.values()].flatMap((tps) => tps.flatMap((tp) => tp.partitions));
  expect(new Set(all).size).toBe(900);
  expect(all).toHaveLength(900);
});
