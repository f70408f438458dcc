/**
 * The tables and lists of a group's page: members and their assignments, offsets and lag per
 * partition with each partition's owner, and the event timeline (API.md §6, §8).
 */

import type { FC } from "hono/jsx";
import type { GroupEvent, GroupView, LagView } from "./api.ts";
import { assignmentText, count, describeEvent, iso, utc } from "./format.ts";
import { Columns, TableWrap } from "./layout.tsx";

/**
 * The key columns first (member, client id, assignment): at a phone's width they are on screen and
 * only host, epoch and static instance scroll sideways within the table.
 */
export const MembersTable: FC<{ group: GroupView }> = ({ group }) => {
  const epochHeader = group.type === "classic" ? "Generation" : "Member epoch";
  return (
    <section aria-labelledby="members-h">
      <h2 id="members-h">Members ({group.members.length})</h2>
      {group.members.length === 0 ? (
        <p class="empty">No members: nobody is consuming for this group.</p>
      ) : null}
      <TableWrap label="Members">
        <table data-testid="members-table" class="wrapping">
          <caption class="sr-only">Members of {group.groupId}</caption>
          <Columns
            names={["Member", "Client id", "Assignment", "Host", epochHeader, "Static instance"]}
            numeric={[epochHeader]}
          />
          <tbody>
            {group.members.map((m) => (
              <tr data-testid="member-row" data-member-id={m.memberId}>
                <th scope="row" class="mono wrap">
                  {m.memberId}
                  {m.memberId === group.leaderId ? <span class="tag"> leader</span> : null}
                </th>
                <td class="wrap">{m.clientId || "—"}</td>
                <td class="wrap">{assignmentText(m.assignment)}</td>
                <td class="wrap">{m.clientHost || "—"}</td>
                <td class="num">{count(m.memberEpoch ?? group.generationId)}</td>
                <td class="wrap">{m.groupInstanceId ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </section>
  );
};

export const LagTable: FC<{ lag: LagView | null }> = ({ lag }) => (
  <section aria-labelledby="lag-h">
    <h2 id="lag-h">Offsets and lag</h2>
    <p>
      Total lag: <strong data-testid="total-lag">{lag ? count(lag.totalLag) : "—"}</strong>
      {lag ? null : <span class="muted"> (not available)</span>}
    </p>
    {lag && lag.partitions.length === 0 ? <p class="empty">No committed offsets yet.</p> : null}
    <TableWrap label="Offsets and lag per partition">
      <table data-testid="lag-table">
        <caption class="sr-only">Committed offset, log end offset and lag per partition</caption>
        <Columns
          names={["Topic", "Partition", "Committed offset", "Log end offset", "Lag", "Owner"]}
          numeric={["Partition", "Committed offset", "Log end offset", "Lag"]}
        />
        <tbody>
          {(lag?.partitions ?? []).map((p) => (
            <tr data-testid="partition-row" data-topic={p.topic} data-partition={String(p.partition)}>
              <th scope="row">{p.topic}</th>
              <td class="num">{p.partition}</td>
              <td class="num">{p.committedOffset < 0 ? "none" : count(p.committedOffset)}</td>
              <td class="num">{p.logEndOffset === null ? "unknown" : count(p.logEndOffset)}</td>
              <td class="num">{p.lag === null ? "unknown" : count(p.lag)}</td>
              <td class="mono">{p.memberId ?? "unassigned"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  </section>
);

/** Why the timeline is empty: nothing happened yet, or this coordinator keeps no history. */
export type EventsState = { events: GroupEvent[] } | { unavailable: string };

export const EventsList: FC<{ state: EventsState }> = ({ state }) => {
  const events = "events" in state ? state.events : [];
  return (
    <section aria-labelledby="events-h">
      <h2 id="events-h">Events</h2>
      {"unavailable" in state ? <p class="empty">{state.unavailable}</p> : null}
      {"events" in state && events.length === 0 ? <p class="empty">No events recorded yet.</p> : null}
      <ol data-testid="events" class="events" reversed>
        {events.map((e) => (
          <li data-testid="event" data-event-type={e.type} data-seq={String(e.seq)}>
            <time datetime={iso(e.at)}>{utc(e.at)}</time>{" "}
            <span class="tag">{e.type.replaceAll("_", " ")}</span> {describeEvent(e)}
            {e.actor ? <span class="muted"> — by {e.actor}</span> : null}
          </li>
        ))}
      </ol>
    </section>
  );
};
