/**
 * A commit whose write fails: the steady commit of an existing group writes its one statement without
 * a transaction around it (src/group-shell.ts, `deferWrite`), so the failure path must still be exact —
 * nothing stored, the object as it was, a 503 — and the next commit must succeed.
 */

import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { call, commit, freshGroup } from "./helpers";
import { inObject, objectState } from "./inject-failure";

const stub = (g: string) => env.GROUPS.getByName(g);

const offsetsOf = async (g: string) =>
  (await call("GET", `/v1/groups/${g}/offsets`)).body.offsets.map((o: any) => [o.partition, o.offset]);

it("a steady commit whose statement SQLite refuses stores nothing, leaves the object as it was, and answers 503", async () => {
  const g = freshGroup("commit-fail");
  expect((await commit(g, [{ topic: "t", partition: 0, offset: 5 }])).status).toBe(200);
  expect((await commit(g, [{ topic: "t", partition: 0, offset: 6 }])).status).toBe(200);
  const before = await objectState(stub(g));
  // A real SQLite failure in the commit's own statement (group_row's CHECK (id = 1)).
  await inObject(g, (instance) => {
    instance.store.writeOffsets = () =>
      instance.ctx.storage.sql.exec("INSERT INTO group_row (id, record) VALUES (2, '{}')");
  });
  const failed = await commit(g, [{ topic: "t", partition: 0, offset: 7 }]);
  expect(failed.status, JSON.stringify(failed.body)).toBe(503);
  expect(failed.body.error.code).toBe("COORDINATOR_NOT_AVAILABLE");
  expect(await objectState(stub(g))).toEqual(before);
  expect(await offsetsOf(g)).toEqual([[0, 6]]);
  await inObject(g, (instance) => {
    delete instance.store.writeOffsets;
  });
  expect((await commit(g, [{ topic: "t", partition: 0, offset: 8 }])).status).toBe(200);
  expect(await offsetsOf(g)).toEqual([[0, 8]]);
});

it("a group's first commit writes its offsets, group row and directory entry together or not at all", async () => {
  const g = freshGroup("commit-fail");
  await inObject(g, (instance) => {
    const real = Object.getPrototypeOf(instance.store).saveGroup;
    instance.store.saveGroup = (...args: unknown[]) => {
      real.apply(instance.store, args);
      instance.ctx.storage.sql.exec("INSERT INTO group_row (id, record) VALUES (2, '{}')");
    };
  });
  const failed = await commit(g, [{ topic: "t", partition: 0, offset: 5 }]);
  expect(failed.status, JSON.stringify(failed.body)).toBe(503);
  expect(await offsetsOf(g)).toEqual([]);
  await inObject(g, (instance) => {
    delete instance.store.saveGroup;
  });
  expect((await commit(g, [{ topic: "t", partition: 0, offset: 5 }])).status).toBe(200);
  expect(await offsetsOf(g)).toEqual([[0, 5]]);
});
