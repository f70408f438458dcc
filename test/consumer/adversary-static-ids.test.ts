/**
 * Adversarial tests of static membership on the consumer protocol (API.md §5, §8), continued: a live
 * static member joining again with memberEpoch 0 under its own member id (Kafka refuses it with
 * UNRELEASED_INSTANCE_ID; whatever cohort does, the history's timeline must match the members), and
 * hostile instance ids (prototype-key names, unicode, 1024 characters) that must be data, never a 5xx.
 */

import { describe, expect, it } from "vitest";
import { expectError, freshGroup } from "../integration/helpers";
import {
  departures,
  describeGroup,
  Group,
  joining,
  liveMembers,
  replayedMembers,
} from "./adversary-static-lib";
import { heartbeat, partitionsOf, sleep } from "./consumer-helpers";
import { closeOf, mustWatch } from "./watch-client";

describe("a live static member joining again with memberEpoch 0 under its own member id", () => {
  it("with its own instance id: the history's timeline still matches the members", async () => {
    const group = new Group(freshGroup("adv-st"), "none");
    await group.join("a", "A", 4);
    await group.join("b", null, 4);
    await group.settle();
    const res = await group.join("a", "A", 4);
    // Kafka refuses it (the instance is held by a live member: UNRELEASED_INSTANCE_ID); whatever cohort
    // does, a departure in the history is followed by the arrival that put the member back.
    expect([200, 409]).toContain(res.status);
    await group.settle();
    expect(await replayedMembers(group.g)).toEqual(await liveMembers(group.g));
  });

  it("a dynamic member doing the same (what a client does after FENCED_MEMBER_EPOCH): the timeline still matches", async () => {
    const group = new Group(freshGroup("adv-st"), "none");
    await group.join("a", null, 4);
    await group.join("b", null, 4);
    await group.settle();
    expect((await group.join("a", null, 4)).status).toBe(200);
    await group.settle();
    expect(await replayedMembers(group.g)).toEqual(await liveMembers(group.g));
  });

  it("with a different instance id: accepted means it now holds that instance", async () => {
    const group = new Group(freshGroup("adv-st"), "none");
    await group.join("a", "A", 4);
    await group.join("b", null, 4);
    await group.settle();
    const res = await group.join("a", "B", 4);
    expect([200, 409]).toContain(res.status);
    if (res.status === 200) {
      const a = (await describeGroup(group.g)).members.find((m: any) => m.memberId === "a");
      expect(a.groupInstanceId).toBe("B");
    }
    await group.settle();
    expect(await replayedMembers(group.g)).toEqual(await liveMembers(group.g));
  });
});

const HOSTILE = [
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "toString",
  "ünï-çødé-🎉-実例",
  "a/b?c#d%2F..",
  " ",
  "i".repeat(1024),
];

describe("hostile instance ids", () => {
  it("are held, refused, released and taken over like any other, each apart, across a restart", async () => {
    const group = new Group(freshGroup("adv-st"), "evict");
    for (const [i, instance] of HOSTILE.entries()) await group.join(`m${i}`, instance, 12);
    await group.settle();
    const reserved = HOSTILE.map((_, i) => group.owned(`m${i}`));
    const before = await describeGroup(group.g);
    expect(before.members.map((m: any) => m.groupInstanceId).sort()).toEqual([...HOSTILE].sort());
    for (const instance of HOSTILE) {
      const taken = await heartbeat(group.g, joining("intruder", instance, 12));
      expectError(taken, 409, "UNRELEASED_INSTANCE_ID", 111);
    }
    // Instance ids nobody holds, on a temporary leave, and ids the schema refuses.
    for (const instance of ["valueOf", "__defineGetter__", "isPrototypeOf"]) {
      expectError(
        await heartbeat(group.g, { memberId: "m0", memberEpoch: -2, groupInstanceId: instance }),
        409,
        "UNKNOWN_MEMBER_ID",
        25,
      );
    }
    for (const instance of ["", "i".repeat(1025)]) {
      const res = await heartbeat(group.g, { memberId: "m0", memberEpoch: -2, groupInstanceId: instance });
      expectError(res, 400, "INVALID_REQUEST", 42);
    }
    expect(await describeGroup(group.g)).toEqual(before);
    for (const [i, instance] of HOSTILE.entries()) await group.leave(`m${i}`, -2, instance);
    for (const [i, instance] of HOSTILE.entries()) {
      const back = await group.join(`n${i}`, instance, 12);
      expect(partitionsOf(back.body.assignment.partitions)).toEqual(reserved[i]);
      expectError(
        await heartbeat(group.g, { memberId: `m${i}`, memberEpoch: 1, groupInstanceId: instance }),
        409,
        "FENCED_INSTANCE_ID",
        82,
      );
    }
    const after = await group.settle();
    expect(after.members.map((m: any) => m.memberId).sort()).toEqual(HOSTILE.map((_, i) => `n${i}`).sort());
    expect((await departures(group.g)).map(([type, , reason]) => `${type}:${reason}`)).toEqual(
      HOSTILE.map(() => "member_left:static_leave"),
    );
  });
});

describe("the watch of a member that left with -2", () => {
  it("is pushed no partition while its instance is reserved, and is told FENCED_INSTANCE_ID when a new id takes it", async () => {
    const group = new Group(freshGroup("adv-st"), "none");
    await group.join("a", "A", 6);
    await group.join("b", null, 6);
    await group.settle();
    const socket = await mustWatch(group.g, "a");
    expect((await socket.next()).type).toBe("assignment");
    await group.leave("a", -2, "A");
    const fromLeave = socket.messages.length;
    // The target moves while A is reserved: a third member, and more partitions.
    await group.join("c", null, 8);
    await group.settle();
    await sleep(100);
    const pushed = socket.messages.slice(fromLeave).filter((m) => m.type === "assignment");
    expect(pushed.flatMap((m) => m.assignment.partitions.flatMap((tp: any) => tp.partitions))).toEqual([]);
    await group.join("a2", "A", 8);
    await group.settle();
    expect((await closeOf(socket)).code).toBe(4000);
    const notices = socket.messages.filter((m) => m.type === "fenced");
    expect(notices).toEqual([{ type: "fenced", code: "FENCED_INSTANCE_ID", message: expect.any(String) }]);
  });
});
