/**
 * A share group's own tables (API.md §7): each share-partition's start/end offsets and the offsets in
 * flight by state, and the archived (dead-lettered) ranges with a redrive for operators with `admin`.
 */

import type { FC } from "hono/jsx";
import type { ArchivedRange, SharePartitionView } from "./api.ts";
import { count, iso, utc } from "./format.ts";
import { TableWrap } from "./layout.tsx";

export const ShareInFlight: FC<{ partitions: SharePartitionView[] }> = ({ partitions }) => (
  <section aria-labelledby="inflight-h">
    <h2 id="inflight-h">In flight per partition</h2>
    {partitions.length === 0 ? <p class="empty">No share-partition has been acquired from yet.</p> : null}
    <TableWrap label="In-flight offsets per share-partition">
      <table data-testid="share-inflight">
        <caption class="sr-only">
          Start offset, end offset and in-flight offsets by state per share-partition
        </caption>
        <thead>
          <tr>
            <th scope="col">Topic</th>
            <th scope="col">Partition</th>
            <th scope="col">Start offset</th>
            <th scope="col">End offset</th>
            <th scope="col">Log end offset</th>
            <th scope="col">Acquired</th>
            <th scope="col">Available</th>
            <th scope="col">Acknowledged</th>
            <th scope="col">Archived</th>
            <th scope="col">Lag</th>
          </tr>
        </thead>
        <tbody>
          {partitions.map((p) => (
            <tr data-testid="share-partition-row">
              <th scope="row">{p.topic}</th>
              <td class="num">{p.partition}</td>
              <td class="num">{count(p.startOffset)}</td>
              <td class="num">{count(p.endOffset)}</td>
              <td class="num">{count(p.logEndOffset)}</td>
              <td class="num">{count(p.acquired)}</td>
              <td class="num">{count(p.available)}</td>
              <td class="num">{count(p.acknowledged)}</td>
              <td class="num">{count(p.archived)}</td>
              <td class="num">{count(p.lag)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  </section>
);

const REASONS: Record<string, string> = {
  rejected: "rejected by a consumer",
  delivery_limit: "delivery limit reached",
  log_start: "below the log start",
};

export const ShareArchived: FC<{
  groupId: string;
  ranges: ArchivedRange[] | null;
  admin: boolean;
  more: boolean;
}> = ({ groupId, ranges, admin, more }) => (
  <section aria-labelledby="archived-h">
    <h2 id="archived-h">Archived (dead-lettered) ranges</h2>
    {ranges === null ? <p class="empty">The archived ranges are not available.</p> : null}
    {ranges?.length === 0 ? <p class="empty">Nothing archived.</p> : null}
    {more ? <p class="muted">Showing the first {ranges?.length} ranges.</p> : null}
    <TableWrap label="Archived ranges">
      <table data-testid="share-archived">
        <caption class="sr-only">Archived offset ranges with their reasons</caption>
        <thead>
          <tr>
            <th scope="col">Topic</th>
            <th scope="col">Partition</th>
            <th scope="col">Offsets</th>
            <th scope="col">Deliveries</th>
            <th scope="col">Reason</th>
            <th scope="col">Archived at</th>
            {admin ? <th scope="col">Action</th> : null}
          </tr>
        </thead>
        <tbody>
          {(ranges ?? []).map((r) => (
            <tr data-testid="archived-row">
              <th scope="row">{r.topic}</th>
              <td class="num">{r.partition}</td>
              <td class="num">
                {count(r.firstOffset)}–{count(r.lastOffset)}
              </td>
              <td class="num">{r.deliveryCount}</td>
              <td>{Object.hasOwn(REASONS, r.reason) ? REASONS[r.reason] : r.reason}</td>
              <td>
                <time datetime={iso(r.archivedAt)}>{utc(r.archivedAt)}</time>
              </td>
              {admin ? (
                <td>
                  <form method="post" action={`/console/groups/${encodeURIComponent(groupId)}/redrive`}>
                    <input type="hidden" name="topic" value={r.topic} />
                    <input type="hidden" name="partition" value={String(r.partition)} />
                    <input type="hidden" name="firstOffset" value={String(r.firstOffset)} />
                    <input type="hidden" name="lastOffset" value={String(r.lastOffset)} />
                    <button
                      type="submit"
                      data-testid="redrive"
                      aria-label={`Redrive ${r.topic}-${r.partition} offsets ${r.firstOffset} to ${r.lastOffset}`}
                    >
                      Redrive…
                    </button>
                  </form>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  </section>
);
