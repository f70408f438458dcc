/**
 * Helpers for the directory tests: a group's shard and object, the test hook that makes shards fail
 * or hang (COHORT_TEST_HOOKS=1 in this project), the listing read page by page, and polling.
 */

import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { DirectoryFault } from "../../src/directory/directory-object.ts";
import { DIRECTORY_SHARDS, shardOf, shardStub } from "../../src/directory/shards.ts";
import { call, type Reply } from "../integration/helpers";

export const shardFor = (groupId: string) => shardStub(env, shardOf(groupId));
export const groupObject = (groupId: string) => env.GROUPS.getByName(groupId);

export const setFault = (groupId: string, fault: DirectoryFault) => shardFor(groupId).setFault(fault);

export async function clearFaults(): Promise<void> {
  await Promise.all(Array.from({ length: DIRECTORY_SHARDS }, (_, i) => shardStub(env, i).setFault("none")));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every page of a listing (`query` without cursor), checking each page's shape; the pages too. */
export async function listAll(
  query: string,
  token?: string,
): Promise<{ groups: any[]; pages: number; shortPages: number }> {
  const groups: any[] = [];
  let cursor: string | null = null;
  let pages = 0;
  let shortPages = 0;
  const limit = Number(new URLSearchParams(query).get("limit") ?? 1000);
  do {
    const path: string = `/v1/groups?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const reply: Reply = await call("GET", path, undefined, token === undefined ? {} : { token });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.groups.length).toBeLessThanOrEqual(limit);
    groups.push(...reply.body.groups);
    cursor = reply.body.nextCursor;
    if (cursor !== null && reply.body.groups.length < limit) shortPages++;
    pages++;
  } while (cursor !== null);
  return { groups, pages, shortPages };
}

/** The listing's entry for `groupId` (undefined: not listed). */
export async function listed(groupId: string): Promise<any> {
  const reply = await call("GET", `/v1/groups?prefix=${groupId}&limit=1000`);
  if (reply.status !== 200) return { status: reply.status };
  return reply.body.groups.find((g: any) => g.groupId === groupId);
}

/** Polls `probe` every 50 ms until `done` holds; returns the ms it took, failing after `timeoutMs`. */
export async function until<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const started = Date.now();
  let last: T | undefined;
  while (Date.now() - started < timeoutMs) {
    last = await probe();
    if (done(last)) return Date.now() - started;
    await sleep(50);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}
