/**
 * ShareConsumer against a scripted coordinator: what each mode acknowledges and when (piggybacked on
 * the next acquire, coalesced), what close() and abort() send, rejoining after UNKNOWN_MEMBER_ID,
 * refused acknowledgements reported, poll(), and reading ranges with gaps and short pages. Lock
 * renewal timing runs under fake timers.
 */

import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryLog } from "../../../src/client/memory-log.ts";
import { ShareConsumer, type ShareConsumerOptions } from "../../../src/client/share-consumer.ts";
import { readRange, type ShareRecord } from "../../../src/client/share-records.ts";
import { range, ScriptedShareCoordinator } from "./scripted-share-coordinator.ts";

const entry = (firstOffset: number, lastOffset: number, type: string, partition = 0) => ({
  topic: "jobs",
  partition,
  firstOffset,
  lastOffset,
  type,
});

function consumerOn(
  coordinator: ScriptedShareCoordinator,
  extra: Partial<ShareConsumerOptions<string>> = {},
) {
  return new ShareConsumer<string>({
    url: "http://cohort.test",
    fetch: coordinator.fetch,
    retry: { retries: 0 },
    groupId: "g",
    topics: { jobs: 1 },
    source: MemoryLog.filled({ jobs: 1 }, 10, (_t, _p, o) => `job-${o}`),
    maxWaitMs: 20,
    idleMs: 5,
    ...extra,
  });
}

afterEach(() => {
  vi.useRealTimers();
});

/** vi.waitFor with room for a loaded machine (real timers; the fake-timer tests advance time themselves). */
const eventually = <T>(check: () => T) => vi.waitFor(check, { timeout: 5_000 });

describe("implicit mode", () => {
  it("accepts what returned and releases what threw, coalesced, on the next acquire", async () => {
    const coordinator = new ScriptedShareCoordinator();
    coordinator.batches = [[range(0, 4)]];
    const consumer = consumerOn(coordinator);
    const seen: string[] = [];
    await consumer.run({
      eachRecord: (record) => {
        seen.push(record.value as string);
        if (record.offset === 2) throw new Error("boom");
      },
    });
    await eventually(() => expect(coordinator.acquires().length).toBeGreaterThanOrEqual(2));
    await consumer.close();
    expect(seen).toEqual(["job-0", "job-1", "job-2", "job-3", "job-4"]);
    const [join] = coordinator.heartbeats();
    expect(join).toMatchObject({ memberEpoch: 0, subscribedTopics: [{ name: "jobs", partitions: 1 }] });
    const [first, second] = coordinator.acquires();
    expect(first).toMatchObject({
      maxRecords: 100,
      partitions: [{ topic: "jobs", partition: 0, logEndOffset: 10 }],
    });
    expect(first!.acknowledgements).toBeUndefined();
    expect(second!.acknowledgements).toEqual([
      entry(0, 1, "accept"),
      entry(2, 2, "release"),
      entry(3, 4, "accept"),
    ]);
    // Everything was settled before close: it sends no acknowledge request, and leaves.
    expect(coordinator.acknowledgeRequests()).toEqual([]);
    expect(coordinator.heartbeats().at(-1)).toMatchObject({ memberEpoch: -1, memberId: consumer.memberId });
  });

  it("eachBatch: an explicit reject stands, the rest is accepted; a throw releases what is unacknowledged", async () => {
    const coordinator = new ScriptedShareCoordinator();
    coordinator.batches = [[range(0, 3)], [range(4, 6)]];
    const consumer = consumerOn(coordinator);
    let calls = 0;
    await consumer.run({
      eachBatch: (records) => {
        calls++;
        records.at(-1)!.reject();
        if (calls === 2) {
          records[0]!.accept();
          throw new Error("batch failed");
        }
      },
    });
    await eventually(() => expect(coordinator.acquires().length).toBeGreaterThanOrEqual(3));
    await consumer.close();
    expect(coordinator.settlements()).toEqual([
      entry(0, 2, "accept"),
      entry(3, 3, "reject"),
      entry(4, 4, "accept"),
      entry(5, 5, "release"),
      entry(6, 6, "reject"),
    ]);
  });
});

describe("explicit mode", () => {
  it("sends what the handler chose; a record left unacknowledged is released", async () => {
    const coordinator = new ScriptedShareCoordinator();
    coordinator.batches = [[range(0, 3)]];
    const consumer = consumerOn(coordinator, { mode: "explicit" });
    await consumer.run({
      eachRecord: (record) => {
        if (record.offset === 0) record.accept();
        if (record.offset === 1) record.reject();
        if (record.offset === 3) {
          record.accept();
          throw new Error("after the accept: it stands");
        }
      },
    });
    await eventually(() => expect(coordinator.acquires().length).toBeGreaterThanOrEqual(2));
    await consumer.close();
    expect(coordinator.settlements()).toEqual([
      entry(0, 0, "accept"),
      entry(1, 1, "reject"),
      entry(2, 2, "release"),
      entry(3, 3, "accept"),
    ]);
  });

  it("renew() restarts the lock of its acquisition's held records at once; a refused renew rejects", async () => {
    const coordinator = new ScriptedShareCoordinator();
    coordinator.batches = [[range(0, 2)], [range(3, 3)]];
    const consumer = consumerOn(coordinator, { mode: "explicit", renewLocks: false });
    const outcomes: string[] = [];
    await consumer.run({
      eachRecord: async (record) => {
        if (record.offset === 0) {
          await record.renew();
          outcomes.push("renewed");
        }
        if (record.offset === 3) {
          coordinator.refuseEntry = (e) => e.type === "renew";
          await record.renew().catch((error) => outcomes.push(error.code));
        }
        record.accept();
      },
    });
    await eventually(() => expect(outcomes).toHaveLength(2));
    await consumer.close();
    expect(outcomes).toEqual(["renewed", "INVALID_RECORD_STATE"]);
    expect(coordinator.acknowledgeRequests().map((r) => r.entries)).toEqual([
      [entry(0, 2, "renew")],
      [entry(3, 3, "renew")],
    ]);
    // The lock on 3 is gone: its accept is not sent (it would be refused).
    expect(coordinator.settlements()).toEqual([entry(0, 2, "accept")]);
  });
});

describe("lock renewal (fake timers)", () => {
  async function slowFirstRecord(renewLocks: boolean) {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const coordinator = new ScriptedShareCoordinator();
    coordinator.lockMs = 1000;
    coordinator.batches = [[range(0, 2)]];
    const consumer = consumerOn(coordinator, { renewLocks, maxWaitMs: 100 });
    const start = Date.now();
    const done: number[] = [];
    await consumer.run({
      eachRecord: async (record: ShareRecord<string>) => {
        if (record.offset === 0) await new Promise((resolve) => setTimeout(resolve, 2_600));
        done.push(record.offset);
      },
    });
    for (let t = 0; t < 3_000; t += 50) await vi.advanceTimersByTimeAsync(50);
    await consumer.close();
    return { coordinator, start, done };
  }

  it("renews the held records every half lock while a handler is slow, then accepts them", async () => {
    const { coordinator, start, done } = await slowFirstRecord(true);
    expect(done).toEqual([0, 1, 2]);
    const renewals = coordinator.acknowledgeRequests();
    expect(renewals.map((r) => r.at - start)).toEqual([500, 1000, 1500, 2000, 2500]);
    for (const r of renewals) expect(r.entries).toEqual([entry(0, 2, "renew")]);
    expect(coordinator.settlements()).toEqual([entry(0, 2, "accept")]);
  });

  it("a renewal due while the member rejoins waits for it, without spinning", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const coordinator = new ScriptedShareCoordinator();
    coordinator.batches = [[range(0, 0)]];
    coordinator.heartbeatIntervalMs = 100;
    const consumer = consumerOn(coordinator);
    await consumer.poll();
    // The next heartbeat is fenced and the rejoin never answers: the member stays unjoined.
    coordinator.heartbeatErrors = [{ status: 409, code: "FENCED_MEMBER_EPOCH", kafkaCode: 110 }];
    coordinator.hangHeartbeats = true;
    const timers = vi.spyOn(globalThis, "setTimeout");
    await vi.advanceTimersByTimeAsync(3_000);
    // The due renewal is retried every 250 ms; re-armed at once it would run thousands of times.
    expect(timers.mock.calls.length).toBeLessThan(30);
    expect(
      coordinator
        .heartbeats()
        .map((h) => h.memberEpoch)
        .slice(-2),
    ).toEqual([1, 0]);
    expect(coordinator.acknowledgeRequests()).toEqual([]);
    expect(consumer.held).toBe(1);
    consumer.abort();
  });

  it("without renewal nothing is sent before the handler returns", async () => {
    const { coordinator } = await slowFirstRecord(false);
    expect(coordinator.acknowledgeRequests()).toEqual([]);
    expect(coordinator.settlements()).toEqual([entry(0, 2, "accept")]);
  });
});

describe("close, abort and losing the membership", () => {
  it("close waits for the record in flight, sends what is settled, leaves; the unhandled rest is not acknowledged", async () => {
    const coordinator = new ScriptedShareCoordinator();
    coordinator.batches = [[range(0, 4)]];
    const consumer = consumerOn(coordinator);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let inFlight = false;
    await consumer.run({
      eachRecord: async (record) => {
        if (record.offset === 1) {
          inFlight = true;
          await gate;
        }
      },
    });
    await eventually(() => expect(inFlight).toBe(true));
    const closed = consumer.close();
    release();
    await closed;
    expect(coordinator.acknowledgeRequests().map((r) => r.entries)).toEqual([[entry(0, 1, "accept")]]);
    expect(coordinator.acquires()).toHaveLength(1);
    expect(coordinator.heartbeats().at(-1)?.memberEpoch).toBe(-1);
  });

  it("close cuts a waiting acquire short and leaves at once", async () => {
    const coordinator = new ScriptedShareCoordinator();
    const consumer = consumerOn(coordinator, { maxWaitMs: 30_000 });
    await consumer.run({ eachRecord: () => {} });
    await eventually(() => expect(coordinator.acquires()).toHaveLength(1));
    const before = Date.now();
    await consumer.close();
    expect(Date.now() - before).toBeLessThan(5_000);
    expect(coordinator.heartbeats().at(-1)?.memberEpoch).toBe(-1);
  });

  it("an acquire carrying acknowledgements never waits; the next one does, and close cuts only that", async () => {
    const coordinator = new ScriptedShareCoordinator();
    coordinator.batches = [[range(0, 1)]];
    const consumer = consumerOn(coordinator, { maxWaitMs: 30_000 });
    await consumer.run({ eachRecord: () => {} });
    await eventually(() => expect(coordinator.acquires()).toHaveLength(3));
    const [, acknowledging, waiting] = coordinator.acquires();
    expect(acknowledging).toMatchObject({ maxWaitMs: 0, acknowledgements: [entry(0, 1, "accept")] });
    expect(waiting!.maxWaitMs).toBe(30_000);
    expect(waiting!.acknowledgements).toBeUndefined();
    await consumer.close();
    // Answered before the long poll began: nothing is sent twice.
    expect(coordinator.settlements()).toEqual([entry(0, 1, "accept")]);
  });

  it("abort sends nothing more: no acknowledgement, no leave", async () => {
    const coordinator = new ScriptedShareCoordinator();
    coordinator.batches = [[range(0, 2)]];
    const consumer = consumerOn(coordinator);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await consumer.run({ eachRecord: (r) => (r.offset === 1 ? gate : undefined) });
    await eventually(() => expect(consumer.held).toBe(2));
    const count = coordinator.requests.length;
    consumer.abort();
    await consumer.close(); // at once, though the handler is still in flight: a crash waits for nothing
    release();
    await consumer.done();
    expect(coordinator.requests.length).toBe(count);
  });

  it("UNKNOWN_MEMBER_ID on acquire drops the holdings and rejoins with epoch 0", async () => {
    const coordinator = new ScriptedShareCoordinator();
    coordinator.acquireErrors = [{ status: 409, code: "UNKNOWN_MEMBER_ID", kafkaCode: 25 }];
    const consumer = consumerOn(coordinator);
    await consumer.run({ eachRecord: () => {} });
    await eventually(() => expect(coordinator.heartbeats().length).toBe(2));
    expect(coordinator.heartbeats().map((h) => h.memberEpoch)).toEqual([0, 0]);
    await eventually(() => expect(coordinator.acquires().length).toBeGreaterThanOrEqual(2));
    await consumer.close();
  });

  it("FENCED_MEMBER_EPOCH rejoins under the same id and keeps the locks: the records' accepts still go", async () => {
    const coordinator = new ScriptedShareCoordinator();
    coordinator.batches = [[range(0, 1)]];
    coordinator.heartbeatIntervalMs = 10;
    const consumer = consumerOn(coordinator);
    const records = await consumer.poll();
    const before = coordinator.heartbeats().length;
    coordinator.heartbeatErrors = [{ status: 409, code: "FENCED_MEMBER_EPOCH", kafkaCode: 110 }];
    // The next heartbeat (epoch 1) is fenced; the member rejoins with 0 and is back at 1.
    const epochs = () => coordinator.heartbeats().map((h) => h.memberEpoch);
    await eventually(() => expect(epochs().slice(before, before + 3)).toEqual([1, 0, 1]));
    expect(new Set(coordinator.heartbeats().map((h) => h.memberId)).size).toBe(1);
    expect(consumer.held).toBe(2);
    for (const r of records) r.accept();
    expect(await consumer.commit()).toEqual([]);
    expect(coordinator.acknowledgeRequests().map((r) => r.entries)).toEqual([[entry(0, 1, "accept")]]);
    await consumer.close();
  });

  it("a refused acknowledgement is reported, and commit() returns it", async () => {
    const coordinator = new ScriptedShareCoordinator();
    coordinator.batches = [[range(0, 1)]];
    coordinator.refuseEntry = (e) => e.type === "accept";
    const failures: string[] = [];
    const consumer = consumerOn(coordinator, {
      onAcknowledgementFailed: (f) =>
        failures.push(`${f.type} ${f.firstOffset}-${f.lastOffset} ${f.error.code}`),
    });
    const records = await consumer.poll();
    for (const r of records) r.accept();
    const refused = await consumer.commit();
    expect(refused).toMatchObject([
      { firstOffset: 0, lastOffset: 1, type: "accept", error: { code: "INVALID_RECORD_STATE" } },
    ]);
    expect(failures).toEqual(["accept 0-1 INVALID_RECORD_STATE"]);
    await consumer.close();
  });
});

describe("poll()", () => {
  it("implicit: the previous poll's records are accepted on the next acquire, and by close", async () => {
    const coordinator = new ScriptedShareCoordinator();
    coordinator.batches = [[range(0, 1)], [range(2, 2)]];
    const consumer = consumerOn(coordinator);
    expect((await consumer.poll()).map((r) => r.value)).toEqual(["job-0", "job-1"]);
    expect((await consumer.poll()).map((r) => r.offset)).toEqual([2]);
    expect(coordinator.acquires()[1]!.acknowledgements).toEqual([entry(0, 1, "accept")]);
    await consumer.close();
    expect(coordinator.acknowledgeRequests().map((r) => r.entries)).toEqual([[entry(2, 2, "accept")]]);
  });

  it("explicit: what the previous poll left unacknowledged is released", async () => {
    const coordinator = new ScriptedShareCoordinator();
    coordinator.batches = [[range(0, 2)]];
    const consumer = consumerOn(coordinator, { mode: "explicit" });
    const [first] = await consumer.poll();
    first!.accept();
    expect(() => first!.reject()).toThrow(/acknowledged already/);
    await consumer.poll();
    expect(coordinator.acquires()[1]!.acknowledgements).toEqual([
      entry(0, 0, "accept"),
      entry(1, 2, "release"),
    ]);
    await consumer.close();
  });
});

describe("reading acquired ranges from the source", () => {
  /** A log with holes (compacted offsets) that answers at most `page` records per fetch. */
  const holey = (offsets: number[], page: number, logEnd: number) => ({
    fetches: [] as [number, number][],
    async fetch(_topic: string, _partition: number, from: number, max: number) {
      this.fetches.push([from, max]);
      const records = offsets.filter((o) => o >= from).slice(0, Math.min(page, max));
      return { records: records.map((offset) => ({ offset, value: `v${offset}` })), logEndOffset: logEnd };
    },
  });

  it("pages through a range; offsets skipped are gaps, offsets never answered are missing", async () => {
    const source = holey([0, 2, 3, 5], 2, 12);
    const read = await readRange(source, range(0, 7));
    expect(read.records.map((r) => r.offset)).toEqual([0, 2, 3, 5]);
    expect(read.gaps).toEqual([1, 4]);
    expect(read.missing).toEqual([6, 7]);
    expect(source.fetches).toEqual([
      [0, 8],
      [3, 5],
      [6, 2],
    ]);
  });

  it("a range the source skips entirely (records only past it) is all gaps", async () => {
    const read = await readRange(holey([9], 10, 12), range(4, 6));
    expect(read).toMatchObject({ records: [], gaps: [4, 5, 6], missing: [] });
  });

  it("the consumer accepts gaps at once, releases what is missing, and hands the rest to the handler", async () => {
    const coordinator = new ScriptedShareCoordinator();
    coordinator.batches = [[range(0, 7)]];
    const handled: number[] = [];
    const consumer = consumerOn(coordinator, { source: holey([0, 2, 3, 5], 2, 12) });
    await consumer.run({ eachRecord: (r) => void handled.push(r.offset) });
    await eventually(() => expect(coordinator.acquires().length).toBeGreaterThanOrEqual(2));
    await consumer.close();
    expect(handled).toEqual([0, 2, 3, 5]);
    // Without logEndOffset() the log end comes from a zero-record fetch at the last end seen.
    expect(coordinator.acquires()[0]!.partitions).toEqual([
      { topic: "jobs", partition: 0, logEndOffset: 12 },
    ]);
    expect(coordinator.acquires()[1]!.acknowledgements).toEqual([
      entry(0, 5, "accept"),
      entry(6, 7, "release"),
    ]);
  });
});
