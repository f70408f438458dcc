/**
 * The groups list: one page of GET /v1/groups (the token's groups only) with each group's total lag and
 * its trend from the lag history, filters by state, type and id prefix, and paging by the API's cursor.
 */

import type { FC } from "hono/jsx";
import {
  type ApiError,
  type GroupList,
  type GroupSummary,
  groupPath,
  type LagSample,
  type V1Api,
} from "./api.ts";
import { StateBadge, StateLegend } from "./badges.tsx";
import type { Flash } from "./flash.ts";
import { count, GROUP_TYPES, iso, lagTrend, STATES, type Trend } from "./format.ts";
import { Layout, TableWrap, type Viewer } from "./layout.tsx";

/** Groups per console page: each row costs a lag and a history read, so pages stay small. */
export const PAGE_SIZE = 25;
/** The window a lag trend compares over. */
const TREND_WINDOW_MS = 15 * 60_000;

export interface Filters {
  state: string;
  type: string;
  prefix: string;
  cursor: string;
}

export interface GroupRow extends GroupSummary {
  totalLag: number | null;
  trend: Trend;
}

export interface GroupsData {
  rows: GroupRow[];
  nextCursor: string | null;
}

/** The query string of a filter set (empty fields left out), for links and for /v1. */
export function filterQuery(f: Partial<Filters>, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...f, ...extra })) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

export async function loadGroups(api: V1Api, f: Filters, now: number): Promise<GroupsData | ApiError> {
  const listed = await api.get<GroupList>(
    `/v1/groups${filterQuery({ state: f.state, type: f.type, prefix: f.prefix, cursor: f.cursor }, { limit: String(PAGE_SIZE) })}`,
  );
  if (!listed.ok) return listed.error;
  const rows = await Promise.all(
    listed.value.groups.map(async (g): Promise<GroupRow> => {
      const [lag, history] = await Promise.all([
        api.get<{ totalLag: number }>(groupPath(g.groupId, "/lag")),
        api.get<{ samples: LagSample[] }>(
          groupPath(g.groupId, `/lag/history?since=${now - TREND_WINDOW_MS}`),
        ),
      ]);
      return {
        ...g,
        totalLag: lag.ok ? lag.value.totalLag : null,
        trend: history.ok && Array.isArray(history.value.samples) ? lagTrend(history.value.samples) : null,
      };
    }),
  );
  return { rows, nextCursor: listed.value.nextCursor };
}

const FiltersForm: FC<{ f: Filters }> = ({ f }) => (
  <form method="get" action="/console/groups" data-testid="filters" class="filters">
    <div>
      <label for="f-prefix">Group id starts with</label>
      <input id="f-prefix" name="prefix" value={f.prefix} maxlength={249} pattern="[A-Za-z0-9._\-]*" />
    </div>
    <div>
      <label for="f-state">State</label>
      <select id="f-state" name="state">
        <option value="">Any state</option>
        {STATES.map((s) => (
          <option value={s} selected={s === f.state}>
            {s}
          </option>
        ))}
      </select>
    </div>
    <div>
      <label for="f-type">Type</label>
      <select id="f-type" name="type">
        <option value="">Any type</option>
        {GROUP_TYPES.map((t) => (
          <option value={t} selected={t === f.type}>
            {t}
          </option>
        ))}
      </select>
    </div>
    <div class="filter-buttons">
      <button type="submit">Filter</button> <a href="/console/groups">Clear</a>
    </div>
  </form>
);

const TrendText: FC<{ trend: Trend }> = ({ trend }) =>
  trend ? (
    <span class={`trend trend-${trend.words}`} title={`lag ${trend.words} over the last 15 minutes`}>
      <span aria-hidden="true">{trend.arrow}</span> {trend.words}
    </span>
  ) : null;

/** The table alone: the live region of the list page. */
export const GroupsTable: FC<{ data: GroupsData }> = ({ data }) => (
  <>
    {data.rows.length === 0 ? (
      <p class="empty">No groups match (only the groups your token covers are listed).</p>
    ) : null}
    <TableWrap label="Groups">
      <table data-testid="groups-table">
        <caption class="sr-only">Consumer groups</caption>
        <thead>
          <tr>
            <th scope="col">Group</th>
            <th scope="col">State</th>
            <th scope="col">Type</th>
            <th scope="col">Members</th>
            <th scope="col">Total lag</th>
          </tr>
        </thead>
        <tbody>
          {data.rows.map((g) => (
            <tr data-testid="group-row" data-group-id={g.groupId}>
              <th scope="row">
                <a class="mono" href={`/console/groups/${encodeURIComponent(g.groupId)}`}>
                  {g.groupId}
                </a>
              </th>
              <td>
                <StateBadge state={g.state} />
              </td>
              <td>{g.type}</td>
              <td class="num">{count(g.members)}</td>
              <td class="num">
                {count(g.totalLag)} <TrendText trend={g.trend} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  </>
);

export const GroupsPage: FC<{
  data: GroupsData;
  filters: Filters;
  viewer: Viewer;
  flash: Flash | null;
  now: number;
}> = ({ data, filters, viewer, flash, now }) => {
  const here = filterQuery({
    state: filters.state,
    type: filters.type,
    prefix: filters.prefix,
    cursor: filters.cursor,
  });
  const next = data.nextCursor
    ? `/console/groups${filterQuery({ ...filters, cursor: data.nextCursor })}`
    : null;
  return (
    <Layout title="Groups" viewer={viewer} flash={flash}>
      <h1>Groups</h1>
      <FiltersForm f={filters} />
      <StateLegend />
      <div
        data-testid="live"
        data-live-src={`/console/groups${filterQuery({ ...filters }, { fragment: "live" })}`}
        data-refreshed-at={iso(now)}
        class="live"
      >
        <GroupsTable data={data} />
      </div>
      <nav aria-label="Pages" class="pager">
        {filters.cursor ? (
          <a href={`/console/groups${filterQuery({ ...filters, cursor: "" })}`}>First page</a>
        ) : null}
        {next ? (
          <a href={next} data-testid="next-page" rel="next">
            Next page
          </a>
        ) : (
          <span class="muted">Last page</span>
        )}
        <a href={`/console/groups${here}`}>Reload</a>
      </nav>
    </Layout>
  );
};
