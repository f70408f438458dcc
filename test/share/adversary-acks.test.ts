/**
 * Adversarial: acknowledgement entries — overlaps and duplicates in one request, all-or-nothing per
 * entry, hostile ranges, and that refused (4xx) requests change nothing.
 */

import { describe, expect, it } from "vitest";
import { call, freshGroup } from "../integration/helpers";
import { expand, Member, not5xx, part, r, snapshot } from "./adversary-lib";
import { acknowledge, acquire, DELIVERY_LIMIT, LOCK_MS, redrive, sleep } from "./share-helpers";

const MAX = 2 ** 53 - 1;

describe("entries in one request", () => {
  it("overlapping entries: the second sees the first's effect and changes nothing when it fails", async () => {
    const g = freshGroup("adv-ov");
    const a = new Member(g, { t: 1 }, "a");
    await a.join();
    const got = await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 10 }] });
    expect(expand(got.body.records)).toHaveLength(10);
    const res = await a.ack([r(0, 4, "accept"), r(2, 6, "release")]);
    expect(res.status).toBe(200);
    expect(res.body.acknowledgements[0].error).toBeNull();
    expect(res.body.acknowledgements[1].error?.code).toBe("INVALID_RECORD_STATE");
    // 5 and 6 were not released: still a's.
    expect(await part(g)).toMatchObject({ startOffset: 5, acquired: 5, available: 0 });
    const b = new Member(g, { t: 1 }, "b");
    await b.join();
    expect((await b.acquire()).body.records).toEqual([]);
    const fin = await a.ack([r(5, 9, "accept")]);
    expect(fin.body.acknowledgements[0].error).toBeNull();
    expect(await part(g)).toMatchObject({ startOffset: 10 });
  });

  it("duplicate entries: only the first applies", async () => {
    const g = freshGroup("adv-dup");
    const a = new Member(g, { t: 1 }, "a");
    await a.join();
    await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 3 }] });
    const res = await a.ack([r(0, 0, "release"), r(0, 0, "release"), r(1, 1, "reject"), r(1, 1, "accept")]);
    expect(res.body.acknowledgements.map((x: any) => x.error?.code ?? null)).toEqual([
      null,
      "INVALID_RECORD_STATE",
      null,
      "INVALID_RECORD_STATE",
    ]);
    const arch = await call("GET", `/v1/groups/${g}/share/archived`);
    expect(arch.body.ranges).toEqual([
      expect.objectContaining({ firstOffset: 1, lastOffset: 1, reason: "rejected" }),
    ]);
    // Offset 0 was released once (count back to... whatever): it is delivered again, at most to one.
    const again = await a.acquire();
    expect(expand(again.body.records)).toEqual(["t-0:0"]);
  });

  it("renew then accept in one request, and accept then renew", async () => {
    const g = freshGroup("adv-rn");
    const a = new Member(g, { t: 1 }, "a");
    await a.join();
    await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 2 }] });
    const res = await a.ack([r(0, 0, "renew"), r(0, 0, "accept"), r(1, 1, "accept"), r(1, 1, "renew")]);
    expect(res.body.acknowledgements.map((x: any) => x.error?.code ?? null)).toEqual([
      null,
      null,
      null,
      "INVALID_RECORD_STATE",
    ]);
    expect(await part(g)).toMatchObject({ startOffset: 2 });
  });

  it("an entry spanning held and unheld offsets changes nothing", async () => {
    const g = freshGroup("adv-span");
    const a = new Member(g, { t: 1 }, "a");
    const b = new Member(g, { t: 1 }, "b");
    await a.join();
    await b.join();
    await a.acquire({ maxRecords: 5, partitions: [{ topic: "t", partition: 0, logEndOffset: 10 }] });
    await b.acquire({ maxRecords: 5 });
    for (const type of ["accept", "release", "reject", "renew"]) {
      const res = await a.ack([r(3, 6, type)]);
      expect(res.body.acknowledgements[0].error?.code).toBe("INVALID_RECORD_STATE");
    }
    expect(await part(g)).toMatchObject({ startOffset: 0, acquired: 10, acknowledged: 0, archived: 0 });
    // Past the log end, and past what was ever acquired.
    for (const [f, l] of [
      [0, 10],
      [9, 11],
      [0, MAX],
      [MAX, MAX],
      [MAX - 1, MAX],
    ]) {
      const res = await a.ack([r(f!, l!, "accept")]);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.acknowledgements[0].error?.code).toBe("INVALID_RECORD_STATE");
    }
    expect(await part(g)).toMatchObject({ startOffset: 0, acquired: 10, acknowledged: 0 });
  });

  it("huge lists of single-offset entries are answered without 5xx, in order", async () => {
    const g = freshGroup("adv-huge");
    const a = new Member(g, { t: 1 }, "a");
    await a.join();
    await a.acquire({ maxRecords: 100, partitions: [{ topic: "t", partition: 0, logEndOffset: 100 }] });
    const entries = Array.from({ length: 10_000 }, (_, i) => r(i % 200, i % 200, "accept"));
    const res = await a.ack(entries);
    not5xx(res);
    expect(res.status).toBe(200);
    const errs = res.body.acknowledgements.map((x: any) => x.error?.code ?? null);
    expect(errs.slice(0, 100).every((e: any) => e === null)).toBe(true);
    expect(errs.slice(100).every((e: any) => e === "INVALID_RECORD_STATE")).toBe(true);
    expect(await part(g)).toMatchObject({ startOffset: 100 });
    const over = await a.ack(Array.from({ length: 10_001 }, () => r(0, 0, "accept")));
    expect(over.status).toBe(400);
  });
});

describe("refused requests change nothing", () => {
  async function setup() {
    const g = freshGroup("adv-4xx");
    const a = new Member(g, { t: 2 }, "a");
    await a.join();
    await a.acquire({
      partitions: [
        { topic: "t", partition: 0, logEndOffset: 10 },
        { topic: "t", partition: 1, logEndOffset: 10 },
      ],
    });
    await a.ack([r(0, 1, "accept"), r(2, 2, "reject")]);
    return { g, a };
  }

  it("acknowledge with one malformed entry applies none", async () => {
    const { g } = await setup();
    const before = await snapshot(g);
    const bad: unknown[] = [
      [r(3, 3, "accept"), { ...r(4, 4, "accept"), type: "bogus" }],
      [r(3, 3, "accept"), r(5, 4, "accept")],
      [r(3, 3, "accept"), r(-1, 4, "accept")],
      [r(3, 3, "accept"), r(4, 2 ** 53, "accept")],
      [r(3, 3, "accept"), r(4, 4, "accept", "bad topic")],
      [r(3, 3, "accept"), r(4, 4, "accept", "t", 2 ** 31)],
      [r(3, 3, "accept"), r(4, 4.5, "accept")],
      [r(3, 3, "accept"), { ...r(4, 4, "accept"), firstOffset: "4" }],
      [r(3, 3, "accept"), null],
      [],
    ];
    for (const acknowledgements of bad) {
      const res = await acknowledge(g, { memberId: "a", acknowledgements });
      expect(res.status, JSON.stringify(acknowledgements)).toBe(400);
    }
    // Unknown member with a valid entry for a's offsets.
    const ghost = await acknowledge(g, { memberId: "ghost", acknowledgements: [r(3, 3, "accept")] });
    expect(ghost.status).toBe(409);
    expect(await snapshot(g)).toEqual(before);
  });

  it("acquire whose body is refused does not apply its piggybacked acknowledgements", async () => {
    const { g } = await setup();
    const before = await snapshot(g);
    const acks = [r(3, 3, "accept"), r(4, 4, "reject")];
    const bodies: Record<string, unknown>[] = [
      { memberId: "a", maxRecords: 0, acknowledgements: acks },
      { memberId: "a", maxRecords: 10_001, acknowledgements: acks },
      { memberId: "a", maxRecords: 1.5, acknowledgements: acks },
      { memberId: "a", maxWaitMs: 30_001, acknowledgements: acks },
      { memberId: "a", maxWaitMs: -1, acknowledgements: acks },
      { memberId: "a", partitions: [{ topic: "t", partition: 0, logEndOffset: -5 }], acknowledgements: acks },
      {
        memberId: "a",
        partitions: [{ topic: "t", partition: 0, logEndOffset: 2 ** 53 }],
        acknowledgements: acks,
      },
      {
        memberId: "a",
        partitions: [{ topic: "t", partition: 0, logEndOffset: 5, logStartOffset: 9 }],
        acknowledgements: acks,
      },
      { memberId: "a", acknowledgements: [...acks, r(9, 8, "accept")] },
      { memberId: "", acknowledgements: acks },
    ];
    for (const body of bodies) {
      const res = await acquire(g, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const ghost = await acquire(g, { memberId: "ghost", acknowledgements: acks });
    expect(ghost.status).toBe(409);
    expect(await snapshot(g)).toEqual(before);
  });

  it("refused heartbeats, redrives, resets, commits and deletes change nothing", async () => {
    const { g, a } = await setup();
    const before = await snapshot(g);
    const results = [
      await call("POST", `/v1/groups/${g}/share/heartbeat`, {
        memberId: "a",
        memberEpoch: a.memberEpoch + 5,
      }),
      await call("POST", `/v1/groups/${g}/share/heartbeat`, { memberId: "zz", memberEpoch: 3 }),
      await call("POST", `/v1/groups/${g}/share/heartbeat`, {
        memberId: "a",
        memberEpoch: 0,
        subscribedTopics: [{ name: "t", partitions: -1 }],
      }),
      await call("POST", `/v1/groups/${g}/share/heartbeat`, { memberId: "a", memberEpoch: -2 }),
      await redrive(g, { topic: "t", firstOffset: 5, lastOffset: 4 }),
      await redrive(g, { topic: "bad topic" }),
      await redrive(g, { topic: "t", partition: -1 }),
      await call("POST", `/v1/groups/${g}/offsets/reset`, { topic: "t", to: "earliest" }),
      await call("POST", `/v1/groups/${g}/offsets/reset`, { topic: "t", to: "offset", offset: 0 }),
      await call("POST", `/v1/groups/${g}/offsets`, { offsets: [{ topic: "t", partition: 0, offset: 0 }] }),
      await call("POST", `/v1/groups/${g}/offsets`, {
        memberId: "a",
        memberEpoch: a.memberEpoch,
        offsets: [{ topic: "t", partition: 0, offset: 0 }],
      }),
      await call("DELETE", `/v1/groups/${g}`),
      await call("DELETE", `/v1/groups/${g}/offsets/t`),
      await call("POST", `/v1/groups/${g}/heartbeat`, {
        memberEpoch: 0,
        subscribedTopics: [{ name: "t", partitions: 2 }],
        ownedPartitions: [],
      }),
      await call("POST", `/v1/groups/${g}/classic/join`, {
        memberId: "",
        protocolType: "consumer",
        sessionTimeoutMs: 10000,
        protocols: [{ name: "range", metadata: "" }],
      }),
    ];
    for (const res of results) {
      not5xx(res);
      expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(400);
    }
    expect(results.map((x) => x.body?.error?.code)).toEqual([
      "FENCED_MEMBER_EPOCH",
      "UNKNOWN_MEMBER_ID",
      "INVALID_REQUEST",
      "INVALID_REQUEST",
      "INVALID_REQUEST",
      "INVALID_REQUEST",
      "INVALID_REQUEST",
      "NON_EMPTY_GROUP",
      "NON_EMPTY_GROUP",
      "INCONSISTENT_GROUP_PROTOCOL",
      "INCONSISTENT_GROUP_PROTOCOL",
      "NON_EMPTY_GROUP",
      "GROUP_SUBSCRIBED_TO_TOPIC",
      "INCONSISTENT_GROUP_PROTOCOL",
      "INCONSISTENT_GROUP_PROTOCOL",
    ]);
    expect(await snapshot(g)).toEqual(before);
  });
});

describe("locks", () => {
  it("an expired lock cannot be acknowledged, even before anyone else takes it", async () => {
    const g = freshGroup("adv-exp");
    const a = new Member(g, { t: 1 }, "a");
    await a.join();
    await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 1 }] });
    await sleep(LOCK_MS + 100);
    const res = await a.ack([r(0, 0, "accept")]);
    const b = new Member(g, { t: 1 }, "b");
    await b.join();
    const got = await b.acquire();
    if (res.body.acknowledgements[0].error === null) {
      // If a's late accept was taken, 0 is done and must never go to b.
      expect(got.body.records).toEqual([]);
    } else {
      expect(expand(got.body.records)).toEqual(["t-0:0"]);
    }
    // The contract: a live lock is required.
    expect(res.body.acknowledgements[0].error?.code).toBe("INVALID_RECORD_STATE");
  });

  it("renew of an expired lock is refused; renew of a live one keeps it past the old expiry", async () => {
    const g = freshGroup("adv-renew");
    const a = new Member(g, { t: 1 }, "a");
    const b = new Member(g, { t: 1 }, "b");
    await a.join();
    await b.join();
    await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 2 }] });
    await sleep(LOCK_MS - 600);
    expect((await a.ack([r(0, 0, "renew")])).body.acknowledgements[0].error).toBeNull();
    await sleep(800);
    // 1 expired; 0 was renewed.
    const bGot = await b.acquire();
    expect(expand(bGot.body.records)).toEqual(["t-0:1"]);
    expect((await a.ack([r(1, 1, "renew")])).body.acknowledgements[0].error?.code).toBe(
      "INVALID_RECORD_STATE",
    );
    expect((await a.ack([r(0, 0, "accept")])).body.acknowledgements[0].error).toBeNull();
  });

  it("delivery counts never pass the limit under expiry, release and leave", async () => {
    const g = freshGroup("adv-dl");
    const a = new Member(g, { t: 1 }, "a");
    await a.join();
    const seen: number[] = [];
    let res = await a.acquire({ partitions: [{ topic: "t", partition: 0, logEndOffset: 3 }] });
    for (let round = 0; round < 8; round++) {
      for (const rec of res.body.records) seen.push(rec.deliveryCount);
      const held = res.body.records;
      if (held.length === 0) break;
      if (round % 2 === 0) {
        await sleep(LOCK_MS + 300);
        await a.beat();
        res = await a.acquire();
      } else {
        res = await a.acquire({
          acknowledgements: held.map((h: any) => ({ ...h, type: "release", deliveryCount: undefined })),
        });
      }
    }
    expect(Math.max(...seen)).toBeLessThanOrEqual(DELIVERY_LIMIT);
    const arch = await call("GET", `/v1/groups/${g}/share/archived`);
    expect(expand(arch.body.ranges)).toEqual(["t-0:0", "t-0:1", "t-0:2"]);
    expect(arch.body.ranges.every((x: any) => x.deliveryCount <= DELIVERY_LIMIT)).toBe(true);
  });
});
