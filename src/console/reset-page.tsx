/**
 * Reset offsets as Redpanda Console does it: choose topic, partitions and strategy; see every
 * partition's offset before and after (the API's `dryRun: true`, which changes nothing); then apply the
 * very same values. The form's fields are parsed here; the API validates them again and decides.
 */

import type { FC } from "hono/jsx";
import type { ResetResult } from "./api.ts";
import type { Flash } from "./flash.ts";
import { count, plural } from "./format.ts";
import { Columns, Layout, SelectField, TableWrap, type Viewer } from "./layout.tsx";

export const STRATEGIES = {
  earliest: "Earliest (the log start)",
  latest: "Latest (the last reported log end)",
  offset: "To a given offset",
  shift: "Shift by (negative: back)",
} as const;
type Strategy = keyof typeof STRATEGIES;

/** The form's raw values, echoed back into the form as they were typed. */
export interface ResetFields {
  topic: string;
  partitions: string;
  to: string;
  offset: string;
  shiftBy: string;
}

export interface ResetBody {
  topic: string;
  partitions?: number[];
  to: Strategy;
  offset?: number;
  shiftBy?: number;
}

const field = (form: Record<string, unknown>, name: string, max = 300) => {
  const v = form[name];
  return typeof v === "string" ? v.trim().slice(0, max) : "";
};

export function resetFields(form: Record<string, unknown>): ResetFields {
  return {
    topic: field(form, "topic"),
    partitions: field(form, "partitions", 20_000),
    to: field(form, "to"),
    offset: field(form, "offset"),
    shiftBy: field(form, "shiftBy"),
  };
}

/** The API body of a form, or what is wrong with it (shown with a 400). */
export function resetBody(f: ResetFields): ResetBody | string {
  if (f.topic === "") return "choose a topic";
  if (!Object.hasOwn(STRATEGIES, f.to)) return "choose a strategy: earliest, latest, offset or shift";
  const body: ResetBody = { topic: f.topic, to: f.to as Strategy };
  if (f.partitions !== "") {
    if (!/^\d{1,10}(\s*,\s*\d{1,10})*$/.test(f.partitions)) {
      return "partitions: a comma-separated list of partition numbers, or empty for all";
    }
    body.partitions = [...new Set(f.partitions.split(",").map((p) => Number(p.trim())))];
  }
  if (body.to === "offset") {
    if (!/^\d{1,16}$/.test(f.offset)) return "offset: a whole number, 0 or more";
    body.offset = Number(f.offset);
  }
  if (body.to === "shift") {
    if (!/^[-+]?\d{1,16}$/.test(f.shiftBy)) return "shift by: a whole number (negative moves back)";
    body.shiftBy = Number(f.shiftBy);
  }
  return body;
}

const ResetForm: FC<{ groupId: string; topics: string[]; f: ResetFields }> = ({ groupId, topics, f }) => (
  <form
    method="post"
    action={`/console/groups/${encodeURIComponent(groupId)}/reset`}
    data-testid="reset-form"
    class="stack"
  >
    <SelectField
      id="r-topic"
      name="topic"
      label="Topic"
      options={topics.length === 0 ? [["", "No committed offsets"]] : topics.map((t) => [t, t] as const)}
      selected={f.topic}
    />
    <div>
      <label for="r-partitions">Partitions</label>
      <input
        id="r-partitions"
        name="partitions"
        value={f.partitions}
        inputmode="numeric"
        aria-describedby="r-partitions-hint"
      />
      <p id="r-partitions-hint" class="hint">
        Comma-separated, e.g. <code>0, 3</code>; empty for every committed partition of the topic.
      </p>
    </div>
    <fieldset>
      <legend>Reset to</legend>
      <SelectField
        id="r-to"
        name="to"
        label="Strategy"
        options={Object.entries(STRATEGIES)}
        selected={f.to || "earliest"}
      />
      <label for="r-offset">Offset (for “a given offset”)</label>
      <input id="r-offset" name="offset" value={f.offset} inputmode="numeric" />
      <label for="r-shift">Shift by (for “shift”)</label>
      <input id="r-shift" name="shiftBy" value={f.shiftBy} inputmode="numeric" />
    </fieldset>
    <button type="submit" name="action" value="preview" data-testid="reset-preview">
      Preview
    </button>
  </form>
);

/** The preview: each partition's committed offset now and after the reset, and the button that applies it. */
const Preview: FC<{ groupId: string; f: ResetFields; result: ResetResult }> = ({ groupId, f, result }) => (
  <section aria-labelledby="preview-h">
    <h2 id="preview-h">Preview: nothing has changed yet</h2>
    <TableWrap label="Offsets before and after">
      <table data-testid="reset-preview-table">
        <caption class="sr-only">Committed offsets before and after the reset</caption>
        <Columns
          names={["Topic", "Partition", "Before", "After", "Change"]}
          numeric={["Partition", "Before", "After", "Change"]}
        />
        <tbody>
          {result.offsets.map((o) => (
            <tr data-testid="reset-preview-row">
              <th scope="row">{o.topic}</th>
              <td class="num">{o.partition}</td>
              <td class="num">{o.previousOffset < 0 ? "none" : count(o.previousOffset)}</td>
              <td class="num">{count(o.newOffset)}</td>
              <td class="num">
                {o.previousOffset < 0
                  ? "new"
                  : `${o.newOffset >= o.previousOffset ? "+" : ""}${count(o.newOffset - o.previousOffset)}`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
    <form method="post" action={`/console/groups/${encodeURIComponent(groupId)}/reset`} class="actions">
      {Object.entries(f).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit" name="action" value="apply" class="danger" data-testid="reset-apply">
        Apply this reset
      </button>
    </form>
  </section>
);

/** What the reset page shows, with the status it is answered with (a preview's refusal keeps its own). */
export interface ResetPageProps {
  groupId: string;
  topics: string[];
  members: number;
  fields: ResetFields;
  preview: ResetResult | null;
  problem: string | null;
  status: number;
}

export const ResetPage: FC<Omit<ResetPageProps, "status"> & { viewer: Viewer; flash: Flash | null }> = ({
  groupId,
  topics,
  members,
  fields,
  preview,
  problem,
  viewer,
  flash,
}) => (
  <Layout title={`Reset offsets of ${groupId}`} viewer={viewer} flash={flash}>
    <nav aria-label="Breadcrumb" class="crumbs">
      <a href="/console/groups">Groups</a> /{" "}
      <a href={`/console/groups/${encodeURIComponent(groupId)}`}>{groupId}</a> /{" "}
      <span aria-current="page">Reset offsets</span>
    </nav>
    <h1>Reset offsets of {groupId}</h1>
    {members > 0 ? (
      <p class="note" data-testid="reset-members-note">
        The group has {plural(members, "member")}: offsets can be reset only while it is empty, so the
        coordinator will refuse this until its consumers stop.
      </p>
    ) : null}
    {problem ? (
      <div class="flash flash-bad" role="alert" data-testid="reset-problem">
        {problem}
      </div>
    ) : null}
    <ResetForm groupId={groupId} topics={topics} f={fields} />
    {preview ? <Preview groupId={groupId} f={fields} result={preview} /> : null}
  </Layout>
);

/** The flash after an applied reset: before → after per partition (the first ones). */
export function resetDoneMessage(result: ResetResult): string {
  const shown = result.offsets
    .slice(0, 20)
    .map((o) => `${o.topic}-${o.partition}: ${o.previousOffset} → ${o.newOffset}`);
  const more = result.offsets.length > 20 ? `, and ${result.offsets.length - 20} more` : "";
  return `offsets reset on ${result.offsets.length} partition${result.offsets.length === 1 ? "" : "s"} (${shown.join(", ")}${more}).`;
}
