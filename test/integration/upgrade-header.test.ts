/**
 * `Upgrade: websocket` on any route but the watch socket is refused before routing: the local
 * runtime turns such a request into a GET, so a POST commit would answer 200 with the offset list and
 * commit nothing, and a DELETE would answer with the describe. A clear 400 instead, changing nothing.
 */

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, commit, expectError, freshGroup, token } from "./helpers";

const UPGRADE = { upgrade: "websocket", connection: "Upgrade" };

describe("Upgrade: websocket outside the watch route", () => {
  it("a commit carrying it is a 400 and commits nothing", async () => {
    const g = freshGroup("upgrade-commit");
    const body = { offsets: [{ topic: "orders", partition: 0, offset: 7 }] };
    const refused = await call("POST", `/v1/groups/${g}/offsets`, body, { headers: UPGRADE });
    expectError(refused, 400, "INVALID_REQUEST", 42);
    expect(refused.body.error.message).toMatch(/upgrade/i);
    const fetched = await call("GET", `/v1/groups/${g}/offsets`);
    expect(fetched.body.offsets).toEqual([]);
  });

  it("a delete carrying it is a 400 and deletes nothing; other methods and routes likewise", async () => {
    const g = freshGroup("upgrade-delete");
    expect((await commit(g, [{ topic: "orders", partition: 0, offset: 3 }])).status).toBe(200);
    expectError(
      await call("DELETE", `/v1/groups/${g}`, undefined, { headers: UPGRADE }),
      400,
      "INVALID_REQUEST",
      42,
    );
    const deleteOffsets = await call("DELETE", `/v1/groups/${g}/offsets/orders`, undefined, {
      headers: { upgrade: "WebSocket" },
    });
    expectError(deleteOffsets, 400, "INVALID_REQUEST", 42);
    for (const path of ["/health", `/v1/groups/${g}`, `/v1/groups/${g}/offsets`, "/v1/groups"]) {
      expectError(await call("GET", path, undefined, { headers: UPGRADE }), 400, "INVALID_REQUEST", 42);
    }
    const fetched = await call("GET", `/v1/groups/${g}/offsets`);
    expect(fetched.body.offsets).toMatchObject([{ topic: "orders", partition: 0, offset: 3 }]);
  });

  it("the watch route still upgrades, and requests without the header are untouched", async () => {
    const g = freshGroup("upgrade-watch");
    const joined = await call("POST", `/v1/groups/${g}/heartbeat`, {
      memberId: "m",
      memberEpoch: 0,
      rebalanceTimeoutMs: 30_000,
      subscribedTopics: [{ name: "orders", partitions: 1 }],
      ownedPartitions: [],
    });
    expect(joined.status).toBe(200);
    const res = await exports.default.fetch(`http://cohort.test/v1/groups/${g}/members/m/watch`, {
      headers: { ...UPGRADE, authorization: `Bearer ${await token()}` },
    });
    expect(res.status).toBe(101);
    const socket = res.webSocket!;
    socket.accept();
    socket.close(1000, "done");
    expect((await call("GET", "/health")).status).toBe(200);
  });
});
