/**
 * Helpers for the console's tests on the Workers pool: a browser-like client (session cookie, Origin,
 * form posts, no redirect following) against the real Worker, an HTML query by CSS selector through
 * workerd's own HTMLRewriter, and groups of each type set up through /v1.
 */

import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { call, token } from "../integration/helpers";

export const ORIGIN = "https://cohort.test";
export const SESSION = "__Host-cohort_session";

export interface Page {
  status: number;
  html: string;
  headers: Headers;
  location: string | null;
}

export interface PageOptions {
  /** The session cookie's token (null: no cookie). */
  session?: string | null;
  method?: string;
  /** Form fields, posted as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** The Origin header; by default the coordinator's own on unsafe requests. null: none. */
  origin?: string | null;
  headers?: Record<string, string>;
}

/** A request as a browser on the console would send it; redirects are returned, not followed. */
export async function page(path: string, o: PageOptions = {}): Promise<Page> {
  const method = o.method ?? (o.form ? "POST" : "GET");
  const headers: Record<string, string> = { ...o.headers };
  if (o.session) headers.cookie = `${SESSION}=${o.session}`;
  const origin = o.origin === undefined ? (method === "GET" ? null : ORIGIN) : o.origin;
  if (origin) headers.origin = origin;
  if (o.form) headers["content-type"] = "application/x-www-form-urlencoded";
  const res = await exports.default.fetch(`${ORIGIN}${path}`, {
    method,
    headers,
    redirect: "manual",
    ...(o.form ? { body: new URLSearchParams(o.form).toString() } : {}),
  });
  return {
    status: res.status,
    html: await res.text(),
    headers: res.headers,
    location: res.headers.get("location"),
  };
}

/** Elements without an end tag (HTMLRewriter refuses an end-tag handler on them). */
const VOID = new Set([
  "area",
  "base",
  "br",
  "col",
  "embed",
  "hr",
  "img",
  "input",
  "link",
  "meta",
  "source",
  "track",
  "wbr",
]);

export interface Found {
  attrs: Record<string, string>;
  text: string;
}

/** Every element matching `selector`, with its attributes and its text (descendants' included). */
export async function select(html: string, selector: string): Promise<Found[]> {
  const found: Found[] = [];
  const open: Found[] = [];
  const rewriter = new HTMLRewriter().on(selector, {
    element(el) {
      const attrs = Object.fromEntries([...el.attributes].map(([k, v]) => [k!, decodeEntities(v ?? "")]));
      const item: Found = { attrs, text: "" };
      found.push(item);
      if (VOID.has(el.tagName)) return;
      open.push(item);
      el.onEndTag(() => {
        open.splice(open.indexOf(item), 1);
      });
    },
    text(t) {
      for (const item of open) item.text += decodeEntities(t.text);
    },
  });
  await rewriter.transform(new Response(html)).text();
  return found;
}

const ENTITIES: Record<string, string> = {
  "&amp;": "&",
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&#39;": "'",
};
/** HTMLRewriter hands out text and attribute values as written: undo the escaping hono/jsx applies. */
const decodeEntities = (s: string) => s.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]!);

export const testids = async (html: string, id: string) => select(html, `[data-testid="${id}"]`);

/** A page that must answer 200; returns its HTML. */
export async function ok(path: string, o: PageOptions = {}): Promise<string> {
  const p = await page(path, o);
  expect(p.status, p.html.slice(0, 500)).toBe(200);
  return p.html;
}

/** A token for a viewer (describe only) or an admin, on some groups. */
export const viewerToken = (groups: string[] = ["*"], claims: Record<string, unknown> = {}) =>
  token({ groups, scope: "describe", ...claims });
export const adminToken = (groups: string[] = ["*"]) => token({ groups, scope: "admin" });

/** Commits offsets (and log ends) as a simple (member-less) commit. */
export async function commitOffsets(
  groupId: string,
  topic: string,
  offsets: [number, number, number][],
  member: Record<string, unknown> = {},
) {
  const res = await call("POST", `/v1/groups/${groupId}/offsets`, {
    ...member,
    offsets: offsets.map(([partition, offset, logEndOffset]) => ({ topic, partition, offset, logEndOffset })),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

/** Joins a consumer-protocol member (KIP-848) subscribing to `topic`. */
export async function joinConsumer(groupId: string, memberId: string, topic: string, partitions: number) {
  const res = await call("POST", `/v1/groups/${groupId}/heartbeat`, {
    memberId,
    memberEpoch: 0,
    clientId: `client-${memberId}`,
    subscribedTopics: [{ name: topic, partitions }],
    ownedPartitions: [],
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** A share group with a member that rejected one range, so something is archived. */
export async function shareGroupWithArchive(groupId: string, topic: string) {
  const hb = await call("POST", `/v1/groups/${groupId}/share/heartbeat`, {
    memberEpoch: 0,
    clientId: "share-client",
    subscribedTopics: [{ name: topic, partitions: 1 }],
  });
  expect(hb.status, JSON.stringify(hb.body)).toBe(200);
  const memberId = hb.body.memberId as string;
  const acquired = await call("POST", `/v1/groups/${groupId}/share/acquire`, {
    memberId,
    maxRecords: 10,
    partitions: [{ topic, partition: 0, logEndOffset: 10, logStartOffset: 0 }],
  });
  expect(acquired.status, JSON.stringify(acquired.body)).toBe(200);
  expect(acquired.body.records.length).toBeGreaterThan(0);
  const acked = await call("POST", `/v1/groups/${groupId}/share/acknowledge`, {
    memberId,
    acknowledgements: [
      { topic, partition: 0, firstOffset: 0, lastOffset: 1, type: "reject" },
      { topic, partition: 0, firstOffset: 2, lastOffset: 4, type: "accept" },
    ],
  });
  expect(acked.status, JSON.stringify(acked.body)).toBe(200);
  return memberId;
}
