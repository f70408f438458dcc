/**
 * `cohort share-groups …`: share-group administration with the columns of Kafka's
 * `kafka-share-groups.sh` (ShareGroupCommand) — GROUP TOPIC PARTITION START-OFFSET LAG for offsets,
 * GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS MEMBER-EPOCH ASSIGNMENT for members — plus what cohort
 * adds: the in-flight counts per partition, the archived (dead-letter) list and redrive. Reset and
 * offset deletion are the offset routes, shared with `offsets reset|delete`.
 */

import type { CohortAdmin, ListGroupsFilter } from "../client/admin.ts";
import type { RedriveRequest, ShareGroupInfo, ShareMemberInfo } from "../client/share-types.ts";
import type { Output } from "./commands.ts";
import { renderTable, terminalSafe } from "./table.ts";

const byPartition = (a: { topic: string; partition: number }, b: { topic: string; partition: number }) =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;

/** Kafka's share-group note for a group without members, on stderr beside the table. */
const emptyNote = (group: ShareGroupInfo) =>
  group.state === "Empty" ? `Share group '${terminalSafe(group.groupId)}' has no active members.` : undefined;

const withNote = (output: Output, note: string | undefined): Output => (note ? { ...output, note } : output);

export async function listShareGroups(
  admin: CohortAdmin,
  filter: Omit<ListGroupsFilter, "types">,
): Promise<Output> {
  const groups = await admin.listGroups({ ...filter, types: ["share"] });
  const rows = groups.map((g) => [g.groupId, g.state, g.members]);
  return { json: groups, text: renderTable(["GROUP", "STATE", "#MEMBERS"], rows) };
}

/** Kafka's default describe: one row per share-partition, with cohort's in-flight counts after LAG. */
export async function describeShareOffsets(admin: CohortAdmin, groupId: string): Promise<Output> {
  const group = await admin.describeShareGroup(groupId);
  const partitions = [...group.partitions].sort(byPartition);
  if (partitions.length === 0) {
    const text = `Share group '${terminalSafe(groupId)}' has no offset information.`;
    return { json: { groupId, partitions }, text };
  }
  const headers = [
    "GROUP",
    "TOPIC",
    "PARTITION",
    "START-OFFSET",
    "LAG",
    "LOG-END-OFFSET",
    "ACQUIRED",
    "AVAILABLE",
    "ACKNOWLEDGED",
    "ARCHIVED",
  ];
  const rows = partitions.map((p) => [
    groupId,
    p.topic,
    p.partition,
    p.startOffset,
    p.lag,
    p.logEndOffset,
    p.acquired,
    p.available,
    p.acknowledged,
    p.archived,
  ]);
  return withNote({ json: { groupId, partitions }, text: renderTable(headers, rows) }, emptyNote(group));
}

/** "jobs:0,1;audit:3", as ShareGroupCommand prints an assignment. */
function assignmentText(member: ShareMemberInfo): string {
  return [...member.assignment]
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))
    .map((tp) => `${tp.topic}:${[...tp.partitions].sort((a, b) => a - b).join(",")}`)
    .join(";");
}

export async function describeShareMembers(admin: CohortAdmin, groupId: string): Promise<Output> {
  const group = await admin.describeShareGroup(groupId);
  const members = [...group.members].sort((a, b) =>
    a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
  );
  const headers = ["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "MEMBER-EPOCH", "ASSIGNMENT"];
  const rows = members.map((m) => [
    groupId,
    m.memberId,
    m.clientHost,
    m.clientId,
    m.assignment.reduce((n, tp) => n + tp.partitions.length, 0),
    m.memberEpoch,
    assignmentText(m),
  ]);
  return withNote({ json: group, text: renderTable(headers, rows) }, emptyNote(group));
}

export async function describeShareState(admin: CohortAdmin, groupId: string): Promise<Output> {
  const group = await admin.describeShareGroup(groupId);
  const rows = [[groupId, group.state, group.groupEpoch, group.members.length]];
  return { json: group, text: renderTable(["GROUP", "STATE", "GROUP-EPOCH", "#MEMBERS"], rows) };
}

/** The archived (dead-lettered) ranges, every page, in the coordinator's order. */
export async function describeArchived(admin: CohortAdmin, groupId: string, topic?: string): Promise<Output> {
  const ranges = await admin.allArchived(groupId, topic);
  const headers = [
    "GROUP",
    "TOPIC",
    "PARTITION",
    "FIRST-OFFSET",
    "LAST-OFFSET",
    "DELIVERY-COUNT",
    "REASON",
    "ARCHIVED-AT",
  ];
  const rows = ranges.map((r) => [
    groupId,
    r.topic,
    r.partition,
    r.firstOffset,
    r.lastOffset,
    r.deliveryCount,
    r.reason,
    new Date(r.archivedAt).toISOString(),
  ]);
  return { json: { groupId, ranges }, text: renderTable(headers, rows) };
}

export async function redrive(admin: CohortAdmin, groupId: string, request: RedriveRequest): Promise<Output> {
  const { redriven } = await admin.redrive(groupId, request);
  const partition = request.partition === undefined ? "" : ` partition ${request.partition}`;
  const from = request.firstOffset === undefined ? "" : ` from offset ${request.firstOffset}`;
  const to = request.lastOffset === undefined ? "" : ` to offset ${request.lastOffset}`;
  const text =
    `Redrove ${redriven} archived offset${redriven === 1 ? "" : "s"} of topic '${terminalSafe(request.topic)}'` +
    `${partition}${from}${to} in share group '${terminalSafe(groupId)}': available again, delivery count 0.`;
  return { json: { groupId, ...request, redriven }, text };
}

/** OffsetDelete of a share group: its share-partitions' state goes; Kafka's TOPIC STATUS table. */
export async function deleteShareOffsets(
  admin: CohortAdmin,
  groupId: string,
  topic: string,
  partitions: number[] | undefined,
): Promise<Output> {
  const { deleted } = await admin.deleteOffsets(groupId, topic, partitions);
  const status = `Successful (${deleted} share-partition${deleted === 1 ? "" : "s"})`;
  return { json: { groupId, topic, deleted }, text: renderTable(["TOPIC", "STATUS"], [[topic, status]]) };
}
