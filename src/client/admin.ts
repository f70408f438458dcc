/**
 * The admin client: every offset route of API.md §3, group route of §6 and share-group admin route of
 * §7 and the group's history of §8, as `kafka-consumer-groups`, `kafka-share-groups` and Kafka's
 * Admin API offer them (the history is cohort's own: Kafka keeps none). Each method
 * is one request; errors are thrown as CohortError.
 */

import { CohortError } from "./errors.ts";
import { type ClientOptions, encodeSegment, groupPath, HttpTransport } from "./http.ts";
import type { ArchivedPage, ArchivedQuery, RedriveRequest, ShareGroupInfo } from "./share-types.ts";
import type {
  CommitRequest,
  CommitResult,
  CommittedOffset,
  FetchOffsetsResult,
  GroupEvents,
  GroupInfo,
  GroupKind,
  GroupLag,
  GroupListing,
  LagHistory,
  ResetRequest,
  ResetResult,
} from "./types.ts";

export interface ListGroupsFilter {
  /** Only groups in these states (e.g. Stable, Empty). */
  states?: readonly string[] | undefined;
  types?: readonly GroupKind[] | undefined;
  /** Only groups whose id starts with this. */
  prefix?: string | undefined;
  /** Groups per page, 1 … 1000 (the coordinator's default: 1000). */
  pageSize?: number | undefined;
}

/** One page of GET /v1/groups; `nextCursor` continues after it (null: the last page). */
export interface GroupPage {
  groups: GroupListing[];
  nextCursor: string | null;
}

export class CohortAdmin {
  readonly http: HttpTransport;

  /** Takes client options, or a transport shared with other clients. */
  constructor(options: ClientOptions | HttpTransport) {
    this.http = options instanceof HttpTransport ? options : new HttpTransport(options);
  }

  /** OffsetCommit: all entries are stored or none. Without memberId it is a "simple" commit. */
  async commitOffsets(groupId: string, request: CommitRequest): Promise<CommitResult> {
    return this.http.request("POST", `${groupPath(groupId)}/offsets`, { body: request });
  }

  /** OffsetFetch: committed offsets sorted by topic then partition (empty for an unknown group). */
  async fetchOffsets(groupId: string, topics?: readonly string[]): Promise<FetchOffsetsResult> {
    return this.http.request("GET", `${groupPath(groupId)}/offsets`, { query: { topic: topics } });
  }

  /** One partition's committed offset; `offset` is -1 when nothing was committed. */
  async fetchOffset(groupId: string, topic: string, partition: number): Promise<CommittedOffset> {
    return this.http.request(
      "GET",
      `${groupPath(groupId)}/offsets/${encodeSegment(topic)}/${encodeSegment(partition)}`,
    );
  }

  /** OffsetDelete: a topic's offsets, all partitions or the given ones. */
  async deleteOffsets(
    groupId: string,
    topic: string,
    partitions?: readonly number[],
  ): Promise<{ deleted: number }> {
    return this.http.request("DELETE", `${groupPath(groupId)}/offsets/${encodeSegment(topic)}`, {
      query: { partition: partitions },
    });
  }

  /** Reset offsets of a group without members; `dryRun: true` only reports the plan. */
  async resetOffsets(groupId: string, request: ResetRequest): Promise<ResetResult> {
    return this.http.request("POST", `${groupPath(groupId)}/offsets/reset`, { body: request });
  }

  /** One page of the groups the token may describe, by id, after `cursor` (a previous nextCursor). */
  listGroupsPage(filter: ListGroupsFilter = {}, cursor?: string | null): Promise<GroupPage> {
    return this.http.request<GroupPage>("GET", "/v1/groups", {
      query: {
        state: filter.states,
        type: filter.types,
        prefix: filter.prefix,
        limit: filter.pageSize,
        cursor: cursor ?? undefined,
      },
    });
  }

  /** Every page of the listing in turn (a page may be short; only the last has no nextCursor). */
  async *groupPages(filter: ListGroupsFilter = {}): AsyncGenerator<GroupListing[]> {
    let cursor: string | null = null;
    do {
      const page: GroupPage = await this.listGroupsPage(filter, cursor);
      yield page.groups;
      cursor = page.nextCursor;
    } while (cursor !== null);
  }

  /** All the groups the token may describe, by id: every page, in memory. */
  async listGroups(filter: ListGroupsFilter = {}): Promise<GroupListing[]> {
    const all: GroupListing[] = [];
    for await (const groups of this.groupPages(filter)) all.push(...groups);
    return all;
  }

  async describeGroup(groupId: string): Promise<GroupInfo> {
    return this.http.request("GET", groupPath(groupId));
  }

  async lag(groupId: string): Promise<GroupLag> {
    return this.http.request("GET", `${groupPath(groupId)}/lag`);
  }

  /** Deletes a group without members, with its offsets. */
  async deleteGroup(groupId: string): Promise<void> {
    await this.http.request("DELETE", groupPath(groupId));
  }

  /**
   * A share group's describe: members with their assignment, and per share-partition its start
   * offset, in-flight counts and lag. A group of another type is refused with
   * INCONSISTENT_GROUP_PROTOCOL, as the share routes refuse it. Reset (`resetOffsets`, `earliest` |
   * `latest` | `offset`, Empty groups only) and `deleteOffsets` take share groups as they are.
   */
  async describeShareGroup(groupId: string): Promise<ShareGroupInfo> {
    const group = await this.http.request<GroupInfo & { partitions?: ShareGroupInfo["partitions"] }>(
      "GET",
      groupPath(groupId),
    );
    if (group.type !== "share") {
      throw new CohortError({
        code: "INCONSISTENT_GROUP_PROTOCOL",
        kafkaCode: 23,
        status: 409,
        message: `group ${groupId} is a ${group.type} group, not a share group`,
      });
    }
    const members = group.members.map((m) => ({
      ...m,
      assignment: typeof m.assignment === "string" ? [] : m.assignment,
    }));
    return { ...group, type: "share", members, partitions: group.partitions ?? [] };
  }

  /** One page of a share group's archived (dead-lettered) ranges, newest archived last. */
  async archived(groupId: string, query: ArchivedQuery = {}): Promise<ArchivedPage> {
    return this.http.request("GET", `${groupPath(groupId)}/share/archived`, {
      query: { topic: query.topic, limit: query.limit, cursor: query.cursor },
    });
  }

  /** Every archived range of a share group (all pages). */
  async allArchived(groupId: string, topic?: string): Promise<ArchivedPage["ranges"]> {
    const ranges: ArchivedPage["ranges"] = [];
    let cursor: string | undefined;
    do {
      const page = await this.archived(groupId, { topic, cursor });
      ranges.push(...page.ranges);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return ranges;
  }

  /**
   * The group's events after seq `after` (default 0), oldest first, at most `limit` (1 … 1000, default
   * 100); or, with `last`, the newest `last` events. Pass `nextAfter` back as `after` to poll for newer
   * ones. Readable for OFFSETS_RETENTION_MS after the group was deleted or expired.
   */
  async events(
    groupId: string,
    options: { after?: number; limit?: number; last?: number } = {},
  ): Promise<GroupEvents> {
    return this.http.request("GET", `${groupPath(groupId)}/events`, {
      query: { after: options.after, limit: options.limit, last: options.last },
    });
  }

  /** The group's total lag, sampled at most once a minute while commits arrive, at or after `since`. */
  async lagHistory(groupId: string, options: { since?: number } = {}): Promise<LagHistory> {
    return this.http.request("GET", `${groupPath(groupId)}/lag/history`, { query: { since: options.since } });
  }

  /** Makes archived offsets available again with delivery count 0 (the dead-letter redrive). */
  async redrive(groupId: string, request: RedriveRequest): Promise<{ redriven: number }> {
    return this.http.request("POST", `${groupPath(groupId)}/share/archived/redrive`, { body: request });
  }
}
