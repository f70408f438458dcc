/**
 * What each CLI command asks the coordinator and how it prints the answer. A command returns its
 * result as data (`json`) and as text (`text`); main decides which to print. Text shows client-supplied
 * strings only through `terminalSafe` (tables do it per cell).
 */

import type { CohortAdmin, ListGroupsFilter } from "../client/admin.ts";
import type { GroupInfo, GroupLag, MemberInfo, ResetRequest } from "../client/types.ts";
import { type Cell, renderTable, terminalSafe, terminalSafeJson } from "./table.ts";

export interface Output {
  json: unknown;
  text: string;
  /** Already written as it came (a paged listing): nothing left to print. */
  streamed?: boolean;
  /** A note for stderr (e.g. that a dry run changed nothing). */
  note?: string;
}

const OFFSET_HEADERS = [
  "GROUP",
  "TOPIC",
  "PARTITION",
  "CURRENT-OFFSET",
  "LOG-END-OFFSET",
  "LAG",
  "CONSUMER-ID",
  "HOST",
  "CLIENT-ID",
];

const LIST_HEADERS = ["GROUP", "TYPE", "STATE", "#MEMBERS"];

/**
 * `groups list`: writes each page as it arrives, so a listing of 100,000 groups starts at once and
 * holds one page in memory. Text: one table whose columns widen when a page needs it (the header
 * is printed once). JSON: one array, written item by item.
 */
export async function listGroups(
  admin: CohortAdmin,
  filter: ListGroupsFilter,
  json: boolean,
  write: (text: string) => void,
): Promise<Output> {
  // Columns only widen: each page is padded to the widest cell seen so far (the header printed once).
  const widths = LIST_HEADERS.map((h) => h.length);
  let held: string | null = null;
  let pages = 0;
  if (json) write("[");
  for await (const page of admin.groupPages(filter)) {
    pages++;
    if (json) {
      for (const g of page) {
        if (held !== null) write(`${held},`);
        held = terminalSafeJson(g).replace(/^/gm, "  ");
      }
      continue;
    }
    const rows = page.map((g) => [g.groupId, g.type, g.state, String(g.members)]);
    for (const row of rows) {
      for (let i = 0; i < row.length; i++) widths[i] = Math.max(widths[i]!, row[i]!.length);
    }
    const pad = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i]!));
    const lines = renderTable(pad(LIST_HEADERS), rows.map(pad)).split("\n");
    const text = (pages === 1 ? lines : lines.slice(1)).join("\n");
    if (text !== "") write(text);
  }
  if (json) write(held === null ? "]" : `${held}\n]`);
  return { json: null, text: "", streamed: true };
}

/** The partitions a member owns, as "orders:0,1 payments:3" (or the opaque assignment string). */
function assignmentText(member: MemberInfo): string {
  if (typeof member.assignment === "string") return member.assignment;
  return member.assignment.map((tp) => `${tp.topic}:${tp.partitions.join(",")}`).join(" ");
}

const partitionCount = (member: MemberInfo) =>
  typeof member.assignment === "string"
    ? null
    : member.assignment.reduce((n, tp) => n + tp.partitions.length, 0);

export async function describeMembers(admin: CohortAdmin, groupId: string): Promise<Output> {
  const group = await admin.describeGroup(groupId);
  const rows = group.members.map((m) => [
    groupId,
    m.memberId,
    m.groupInstanceId,
    m.clientHost,
    m.clientId,
    partitionCount(m),
    assignmentText(m),
  ]);
  const headers = [
    "GROUP",
    "CONSUMER-ID",
    "GROUP-INSTANCE-ID",
    "HOST",
    "CLIENT-ID",
    "#PARTITIONS",
    "ASSIGNMENT",
  ];
  return { json: group, text: renderTable(headers, rows) };
}

export async function describeState(admin: CohortAdmin, groupId: string): Promise<Output> {
  const group = await admin.describeGroup(groupId);
  const epoch = group.type === "consumer" ? group.groupEpoch : group.generationId;
  const strategy = group.type === "consumer" ? group.assignor : group.protocolName;
  const rows = [[groupId, group.type, strategy, group.state, epoch, group.members.length]];
  const headers = ["GROUP", "TYPE", "ASSIGNMENT-STRATEGY", "STATE", "EPOCH", "#MEMBERS"];
  return { json: group, text: renderTable(headers, rows) };
}

/**
 * Kafka's default describe: one row per partition with committed offset, log end, lag and owner.
 * Partitions a member owns without a commit yet appear with "-" for the offset, as in Kafka.
 */
export async function describeOffsets(admin: CohortAdmin, groupId: string): Promise<Output> {
  const [group, lag] = await Promise.all([admin.describeGroup(groupId), admin.lag(groupId)]);
  const rows = offsetRows(group, lag);
  return { json: { groupId, totalLag: lag.totalLag, partitions: rows }, text: offsetTable(rows) };
}

interface OffsetRow {
  topic: string;
  partition: number;
  currentOffset: number | null;
  logEndOffset: number | null;
  lag: number | null;
  consumerId: string | null;
  host: string | null;
  clientId: string | null;
}

function offsetRows(group: GroupInfo, lag: GroupLag): OffsetRow[] {
  const owners = new Map<string, MemberInfo>();
  for (const member of group.members) {
    if (typeof member.assignment === "string") continue;
    for (const tp of member.assignment) for (const p of tp.partitions) owners.set(`${tp.topic}/${p}`, member);
  }
  const byMemberId = new Map(group.members.map((m) => [m.memberId, m]));
  const rows = new Map<string, OffsetRow>();
  for (const p of lag.partitions) {
    const owner =
      owners.get(`${p.topic}/${p.partition}`) ?? (p.memberId ? byMemberId.get(p.memberId) : undefined);
    rows.set(`${p.topic}/${p.partition}`, {
      topic: p.topic,
      partition: p.partition,
      currentOffset: p.committedOffset < 0 ? null : p.committedOffset,
      logEndOffset: p.logEndOffset,
      lag: p.lag,
      consumerId: owner?.memberId ?? p.memberId,
      host: owner?.clientHost ?? null,
      clientId: owner?.clientId ?? null,
    });
  }
  for (const [key, member] of owners) {
    if (rows.has(key)) continue;
    const [topic, partition] = [
      key.slice(0, key.lastIndexOf("/")),
      Number(key.slice(key.lastIndexOf("/") + 1)),
    ];
    rows.set(key, {
      topic,
      partition,
      currentOffset: null,
      logEndOffset: null,
      lag: null,
      consumerId: member.memberId,
      host: member.clientHost,
      clientId: member.clientId,
    });
  }
  return [...rows.values()]
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
    .map((row) => ({ groupId: group.groupId, ...row }));
}

function offsetTable(rows: (OffsetRow & { groupId?: string })[]): string {
  const cells: Cell[][] = rows.map((r) => [
    r.groupId,
    r.topic,
    r.partition,
    r.currentOffset,
    r.logEndOffset,
    r.lag,
    r.consumerId,
    r.host,
    r.clientId,
  ]);
  return renderTable(OFFSET_HEADERS, cells);
}

/** Lag from the lag route alone (works for a group that has only offsets). */
export async function groupLag(admin: CohortAdmin, groupId: string): Promise<Output> {
  const lag = await admin.lag(groupId);
  const rows = lag.partitions.map((p) => [
    groupId,
    p.topic,
    p.partition,
    p.committedOffset < 0 ? null : p.committedOffset,
    p.logEndOffset,
    p.lag,
    p.memberId,
  ]);
  const table = renderTable(OFFSET_HEADERS.slice(0, 7), rows);
  return { json: lag, text: `${table}\n\nTOTAL-LAG: ${lag.totalLag}` };
}

export async function deleteGroup(admin: CohortAdmin, groupId: string): Promise<Output> {
  await admin.deleteGroup(groupId);
  return {
    json: { groupId, deleted: true },
    text: `Deletion of requested consumer groups ('${terminalSafe(groupId)}') was successful.`,
  };
}

export async function resetOffsets(
  admin: CohortAdmin,
  groupId: string,
  request: ResetRequest,
): Promise<Output> {
  const result = await admin.resetOffsets(groupId, request);
  const rows = result.offsets.map((o) => [groupId, o.topic, o.partition, o.previousOffset, o.newOffset]);
  const text = renderTable(["GROUP", "TOPIC", "PARTITION", "PREVIOUS-OFFSET", "NEW-OFFSET"], rows);
  const note = result.dryRun
    ? "Dry run: nothing was changed. Add --execute to apply these offsets."
    : undefined;
  return note ? { json: result, text, note } : { json: result, text };
}

export async function deleteOffsets(
  admin: CohortAdmin,
  groupId: string,
  topic: string,
  partitions: number[] | undefined,
): Promise<Output> {
  const { deleted } = await admin.deleteOffsets(groupId, topic, partitions);
  return {
    json: { groupId, topic, deleted },
    text: `Deleted ${deleted} committed offset${deleted === 1 ? "" : "s"} of topic '${terminalSafe(topic)}' from group '${terminalSafe(groupId)}'.`,
  };
}

const HISTORY_HEADERS = ["SEQ", "AT", "TYPE", "MEMBER", "ACTOR", "DETAIL"];

/** An event's detail on one line: `key=value`, lists and objects as compact JSON. */
function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(
      ([key, value]) =>
        `${key}=${typeof value === "object" && value !== null ? JSON.stringify(value) : String(value)}`,
    )
    .join(" ");
}

/** `groups history`: a page of the group's events (API.md §8), oldest first; the note says how to go on. */
export async function history(
  admin: CohortAdmin,
  groupId: string,
  options: { after?: number; limit?: number; last?: number },
): Promise<Output> {
  const page = await admin.events(groupId, options);
  const rows = page.events.map((e) => [
    e.seq,
    new Date(e.at).toISOString(),
    e.type,
    e.memberId,
    e.actor,
    detailText(e.detail),
  ]);
  const full = options.last === undefined && page.events.length === (options.limit ?? 100);
  const note = full ? `more may follow: --after ${page.nextAfter}` : undefined;
  return { json: page, text: renderTable(HISTORY_HEADERS, rows), ...(note ? { note } : {}) };
}
