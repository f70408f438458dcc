/**
 * What share routes refuse before any share state is involved (API.md §1, §2, §7): each route's scope
 * (consume: heartbeat, acquire, acknowledge; describe: archived; admin: redrive, admin implying the
 * others; 401 without a token), the schema bounds (400 with the issues), share routes on a consumer or
 * classic group (409 INCONSISTENT_GROUP_PROTOCOL, with or without members), unknown groups, and the
 * OpenAPI document listing the routes with their bounds. A refused request changes nothing.
 */

import { describe, expect, it } from "vitest";
import { join } from "../consumer/consumer-helpers";
import { call, commit, expectError, freshGroup, token } from "../integration/helpers";
import { acknowledge, acquire, archived, redrive, shareHeartbeat } from "./share-helpers";

const entry = { topic: "t", partition: 0, firstOffset: 0, lastOffset: 0, type: "accept" };

describe("scopes", () => {
  it("needs consume for heartbeat, acquire and acknowledge, describe for archived, admin for redrive", async () => {
    const g = freshGroup("scope");
    const consume = await token({ scope: "consume" });
    const describeOnly = await token({ scope: "describe" });
    const admin = await token({ scope: "admin" });
    const forbidden = (r: { status: number; body: any }) =>
      expectError(r as never, 403, "GROUP_AUTHORIZATION_FAILED", 30);
    // Refused by scope: the token would have reached the group otherwise.
    forbidden(await shareHeartbeat(g, { memberEpoch: 0 }, describeOnly));
    forbidden(await acquire(g, { memberId: "m", maxRecords: 1 }, describeOnly));
    forbidden(await acknowledge(g, { memberId: "m", acknowledgements: [entry] }, describeOnly));
    forbidden(await archived(g, "", consume));
    forbidden(await redrive(g, { topic: "t" }, consume));
    forbidden(await redrive(g, { topic: "t" }, describeOnly));
    // Allowed: answered by the group (which does not exist), not by the scope check.
    expectError(await acquire(g, { memberId: "m", maxRecords: 1 }, consume), 409, "UNKNOWN_MEMBER_ID", 25);
    expectError(
      await acknowledge(g, { memberId: "m", acknowledgements: [entry] }, consume),
      409,
      "UNKNOWN_MEMBER_ID",
      25,
    );
    expectError(await archived(g, "", describeOnly), 404, "GROUP_ID_NOT_FOUND", 69);
    expectError(await redrive(g, { topic: "t" }, admin), 404, "GROUP_ID_NOT_FOUND", 69);
    expectError(await archived(g, "", admin), 404, "GROUP_ID_NOT_FOUND", 69);
    expectError(await acquire(g, { memberId: "m" }, admin), 409, "UNKNOWN_MEMBER_ID", 25);
    // Nothing was created by any of it.
    expectError(await call("GET", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
  });

  it("refuses a missing token and a group outside the token's patterns", async () => {
    expectError(await acquire("jobs", { memberId: "m", maxRecords: 1 }, null), 401, "UNAUTHENTICATED", null);
    const t = await token({ groups: ["queue-*"], scope: "admin" });
    expectError(await archived("jobs", "", t), 403, "GROUP_AUTHORIZATION_FAILED", 30);
    expectError(await shareHeartbeat("jobs", { memberEpoch: 0 }, t), 403, "GROUP_AUTHORIZATION_FAILED", 30);
  });
});

describe("schema bounds", () => {
  const invalid = async (res: Promise<{ status: number; body: any }>, path: string) => {
    const r = await res;
    expectError(r as never, 400, "INVALID_REQUEST", 42);
    expect(r.body.error.issues.map((i: any) => i.path)).toContain(path);
  };

  it("bounds acquire: maxRecords 1…10000, maxWaitMs 0…30000, 10,000 partitions, ordered log offsets", async () => {
    const g = freshGroup("bounds");
    await invalid(acquire(g, { memberId: "m", maxRecords: 0 }), "maxRecords");
    await invalid(acquire(g, { memberId: "m", maxRecords: 10_001 }), "maxRecords");
    await invalid(acquire(g, { memberId: "m", maxRecords: 1.5 }), "maxRecords");
    await invalid(acquire(g, { memberId: "m", maxWaitMs: 30_001 }), "maxWaitMs");
    await invalid(acquire(g, { memberId: "m", maxWaitMs: -1 }), "maxWaitMs");
    await invalid(acquire(g, { memberId: "" }), "memberId");
    const partitions = Array.from({ length: 10_001 }, (_, i) => ({ topic: "t", partition: i }));
    await invalid(acquire(g, { memberId: "m", partitions }), "partitions");
    await invalid(
      acquire(g, {
        memberId: "m",
        partitions: [{ topic: "t", partition: 0, logEndOffset: 5, logStartOffset: 6 }],
      }),
      "partitions.0.logStartOffset",
    );
    await invalid(
      acquire(g, { memberId: "m", partitions: [{ topic: "t", partition: 0, logEndOffset: 2 ** 53 }] }),
      "partitions.0.logEndOffset",
    );
    await invalid(
      acquire(g, { memberId: "m", acknowledgements: [{ ...entry, type: "commit" }] }),
      "acknowledgements.0.type",
    );
  });

  it("bounds acknowledge, heartbeat, the archived query and redrive", async () => {
    const g = freshGroup("bounds");
    await invalid(acknowledge(g, { memberId: "m", acknowledgements: [] }), "acknowledgements");
    await invalid(
      acknowledge(g, { memberId: "m", acknowledgements: [{ ...entry, firstOffset: 5, lastOffset: 4 }] }),
      "acknowledgements.0.lastOffset",
    );
    await invalid(
      acknowledge(g, { memberId: "m", acknowledgements: [{ ...entry, topic: "a b" }] }),
      "acknowledgements.0.topic",
    );
    await invalid(shareHeartbeat(g, { memberEpoch: -2 }), "memberEpoch");
    const topics = Array.from({ length: 1001 }, (_, i) => ({ name: `t${i}`, partitions: 1 }));
    await invalid(shareHeartbeat(g, { memberEpoch: 0, subscribedTopics: topics }), "subscribedTopics");
    await invalid(archived(g, "?limit=0"), "limit");
    await invalid(archived(g, "?limit=10001"), "limit");
    await invalid(archived(g, `?cursor=${"c".repeat(1025)}`), "cursor");
    await invalid(archived(g, "?topic=a&topic=b"), "topic");
    await invalid(redrive(g, { topic: "t", firstOffset: 9, lastOffset: 1 }), "lastOffset");
    await invalid(redrive(g, { topic: "t", partition: -1 }), "partition");
    expectError(await call("GET", `/v1/groups/${g}`), 404, "GROUP_ID_NOT_FOUND", 69);
  });

  it("serves the routes in /openapi.json with their bounds", async () => {
    const doc = (await call("GET", "/openapi.json", undefined, { token: null })).body;
    for (const route of ["heartbeat", "acquire", "acknowledge", "archived", "archived/redrive"])
      expect(Object.keys(doc.paths)).toContain(`/v1/groups/{groupId}/share/${route}`);
    const acquireBody = doc.components.schemas.ShareAcquireRequest.properties;
    expect([acquireBody.maxRecords.minimum, acquireBody.maxRecords.maximum]).toEqual([1, 10_000]);
    expect(acquireBody.maxWaitMs.maximum).toBe(30_000);
    expect(doc.components.schemas.ShareAcknowledgeRequest.properties.acknowledgements.maxItems).toBe(10_000);
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["ShareHeartbeatResponse", "ConsumerHeartbeatResponse", "ShareRedriveRequest"]),
    );
    // Each share route documents its scope's refusals and the group's errors.
    const redriveDoc = doc.paths["/v1/groups/{groupId}/share/archived/redrive"].post;
    expect(Object.keys(redriveDoc.responses)).toEqual(
      expect.arrayContaining(["200", "400", "403", "404", "409"]),
    );
  });
});

describe("share routes on groups of another type", () => {
  it("refuses acquire, acknowledge, archived and redrive on a consumer group and on a group of simple commits", async () => {
    const consumer = freshGroup("other");
    await join(consumer, "c1", { t: 2 });
    const simple = freshGroup("other");
    expect((await commit(simple, [{ topic: "t", partition: 0, offset: 3 }])).status).toBe(200);
    for (const g of [consumer, simple]) {
      const inconsistent = (r: { status: number; body: any }) =>
        expectError(r as never, 409, "INCONSISTENT_GROUP_PROTOCOL", 23);
      inconsistent(await acquire(g, { memberId: "c1", maxRecords: 5 }));
      inconsistent(await acknowledge(g, { memberId: "c1", acknowledgements: [entry] }));
      inconsistent(await archived(g));
      inconsistent(await redrive(g, { topic: "t" }));
    }
    // Both groups are as they were.
    expect((await call("GET", `/v1/groups/${consumer}`)).body.members.map((m: any) => m.memberId)).toEqual([
      "c1",
    ]);
    expect((await call("GET", `/v1/groups/${simple}/offsets/t/0`)).body.offset).toBe(3);
  });
});
