/**
 * A group's page: what it is (type, state, protocol), its members, offsets and lag, lag history, events
 * and, for share groups, in-flight and archived ranges — all read from /v1 with the caller's token.
 * The live region is also served alone (`?fragment=live`) for the refresh script.
 */

import type { FC } from "hono/jsx";
import {
  type ApiError,
  type ArchivedRange,
  type GroupEvent,
  type GroupView,
  groupPath,
  isMissingRoute,
  type LagSample,
  type LagView,
  type V1Api,
} from "./api.ts";
import { StateBadge } from "./badges.tsx";
import type { Flash } from "./flash.ts";
import { count, iso, plural } from "./format.ts";
import { EventsList, type EventsState, LagTable, MembersTable } from "./group-parts.tsx";
import { Layout, type Viewer } from "./layout.tsx";
import { ShareArchived, ShareInFlight } from "./share-parts.tsx";
import { Sparkline } from "./sparkline.tsx";

/** The newest events shown; the API keeps GROUP_HISTORY_MAX_EVENTS (1,000 by default). */
const EVENTS_SHOWN = 50;
const ARCHIVED_SHOWN = 100;

export interface GroupData {
  group: GroupView;
  lag: LagView | null;
  samples: LagSample[];
  events: EventsState;
  archived: ArchivedRange[] | null;
  moreArchived: boolean;
}

/** Everything the page shows, or the describe's refusal (403, 404, …) for an error page. */
export async function loadGroup(api: V1Api, groupId: string): Promise<GroupData | ApiError> {
  const described = await api.get<GroupView>(groupPath(groupId));
  if (!described.ok) return described.error;
  const group = described.value;
  const [lag, history, events, archived] = await Promise.all([
    api.get<LagView>(groupPath(groupId, "/lag")),
    api.get<{ samples: LagSample[] }>(groupPath(groupId, "/lag/history")),
    api.get<{ events: GroupEvent[] }>(groupPath(groupId, `/events?last=${EVENTS_SHOWN}`)),
    group.type === "share"
      ? api.get<{ ranges: ArchivedRange[]; nextCursor: string | null }>(
          groupPath(groupId, `/share/archived?limit=${ARCHIVED_SHOWN}`),
        )
      : null,
  ]);
  return {
    group,
    lag: lag.ok ? lag.value : null,
    samples: history.ok && Array.isArray(history.value.samples) ? history.value.samples : [],
    events: eventsState(events),
    archived: archived?.ok ? archived.value.ranges : null,
    moreArchived: archived?.ok === true && archived.value.nextCursor !== null,
  };
}

function eventsState(
  reply: { ok: true; value: { events: GroupEvent[] } } | { ok: false; error: ApiError },
): EventsState {
  if (reply.ok && Array.isArray(reply.value.events)) {
    return { events: reply.value.events.slice(-EVENTS_SHOWN).reverse() };
  }
  if (!reply.ok && isMissingRoute(reply.error)) {
    return { unavailable: "This coordinator does not keep group history yet." };
  }
  return { unavailable: `The events are not available${reply.ok ? "" : `: ${reply.error.message}`}.` };
}

const epochText = (g: GroupView) =>
  g.generationId !== undefined ? `generation ${count(g.generationId)}` : `group epoch ${count(g.groupEpoch)}`;

/** The part of the page the refresh script replaces: everything that changes while one watches. */
export const GroupLive: FC<{ data: GroupData; admin: boolean; now: number }> = ({ data, admin, now }) => {
  const { group } = data;
  return (
    <>
      <p class="summary">
        <StateBadge state={group.state} /> <span>{group.type} group</span> · <span>{epochText(group)}</span>
        {group.assignor ? <span> · assignor {group.assignor}</span> : null}
        {group.protocolName ? <span> · protocol {group.protocolName}</span> : null}
        <span class="muted">
          {" "}
          · updated <time datetime={iso(now)}>{iso(now).slice(11, 19)} UTC</time>
        </span>
      </p>
      <MembersTable group={group} />
      {group.type === "share" ? <ShareInFlight partitions={group.partitions ?? []} /> : null}
      <LagTable lag={data.lag} />
      <section aria-labelledby="history-h">
        <h2 id="history-h">Lag history</h2>
        <Sparkline samples={data.samples} />
      </section>
      {group.type === "share" ? (
        <ShareArchived
          groupId={group.groupId}
          ranges={data.archived}
          admin={admin}
          more={data.moreArchived}
        />
      ) : null}
      {admin ? <DeleteControl group={group} /> : null}
      <EventsList state={data.events} />
    </>
  );
};

/** Delete is offered only to `admin`, and disabled with its reason while members remain (409 NON_EMPTY_GROUP). */
const DeleteControl: FC<{ group: GroupView }> = ({ group }) => {
  const members = group.members.length;
  return (
    <section aria-labelledby="delete-h">
      <h2 id="delete-h">Delete the group</h2>
      <form method="post" action={`/console/groups/${encodeURIComponent(group.groupId)}/delete`}>
        {members > 0 ? (
          <>
            <button
              type="submit"
              class="danger"
              data-testid="delete-group"
              disabled
              aria-describedby="delete-why"
            >
              Delete group…
            </button>{" "}
            <span id="delete-why" data-testid="delete-disabled-reason">
              The group still has {plural(members, "member")}: a group can be deleted only when it is empty
              (NON_EMPTY_GROUP). Stop its consumers first.
            </span>
          </>
        ) : (
          <button type="submit" class="danger" data-testid="delete-group">
            Delete group…
          </button>
        )}
      </form>
    </section>
  );
};

export const GroupPage: FC<{ data: GroupData; viewer: Viewer; flash: Flash | null; now: number }> = ({
  data,
  viewer,
  flash,
  now,
}) => {
  const id = data.group.groupId;
  const base = `/console/groups/${encodeURIComponent(id)}`;
  return (
    <Layout title={id} viewer={viewer} flash={flash}>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href="/console/groups">Groups</a> / <span aria-current="page">{id}</span>
      </nav>
      <h1 class="mono">{id}</h1>
      {viewer.admin ? (
        <p class="actions">
          <a class="button" href={`${base}/reset`} data-testid="reset-link">
            Reset offsets…
          </a>
        </p>
      ) : null}
      <div
        data-testid="live"
        data-live-src={`${base}?fragment=live`}
        data-refreshed-at={iso(now)}
        class="live"
      >
        <GroupLive data={data} admin={viewer.admin} now={now} />
      </div>
      <p class="muted">
        <a href={base}>Reload</a> · the page refreshes itself every few seconds while it is visible.
      </p>
    </Layout>
  );
};
