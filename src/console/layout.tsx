/**
 * The console's page frame (landmarks, skip link, the one stylesheet and script), the flash message a
 * form leaves for the next page, and the pages for refusals and errors.
 */

import { raw } from "hono/html";
import type { Child, FC } from "hono/jsx";
import type { Flash } from "./flash.ts";
import { subjectText, utc } from "./format.ts";

/** Who is looking: for the header (who is signed in, sign-out in jwt mode, when the session ends). */
export interface Viewer {
  signedIn: boolean;
  /** The token's `sub`, or null when it has none (or AUTH_MODE=none). */
  subject: string | null;
  expiresAt: number | null;
  admin: boolean;
}

export const Layout: FC<{
  title: string;
  viewer?: Viewer | null;
  flash?: Flash | null;
  children?: Child;
}> = ({ title, viewer, flash, children }) => (
  <>
    {/* Without a doctype browsers render in quirks mode. */}
    {raw("<!DOCTYPE html>")}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · cohort console`}</title>
        {/* No favicon request (it would be a 404 on every page). */}
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/console/console.css" />
        <script src="/console/live.js" defer />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/console">
            cohort console
          </a>
          <nav aria-label="Console">
            <ul>
              <li>
                <a href="/console/groups">Groups</a>
              </li>
            </ul>
          </nav>
          {viewer?.signedIn ? (
            <form method="post" action="/console/sign-out" class="sign-out">
              {viewer.subject !== null ? (
                <span class="subject" data-testid="session-subject">
                  Signed in as <bdi>{subjectText(viewer.subject)}</bdi>
                </span>
              ) : null}
              {viewer.expiresAt !== null ? (
                <span class="muted">Session until {utc(viewer.expiresAt)}</span>
              ) : null}
              <button type="submit">Sign out</button>
            </form>
          ) : null}
        </header>
        <main id="main">
          {flash ? (
            <div
              class={flash.ok ? "flash flash-ok" : "flash flash-bad"}
              role={flash.ok ? "status" : "alert"}
              data-testid={flash.testid ?? "flash"}
            >
              <strong>{flash.ok ? "Done: " : "Refused: "}</strong>
              {flash.message}
            </div>
          ) : null}
          {children}
        </main>
      </body>
    </html>
  </>
);

/** A page that says why something was refused or failed, with the API's code. */
export const ErrorPage: FC<{ status: number; code: string; message: string; viewer?: Viewer | null }> = ({
  status,
  code,
  message,
  viewer,
}) =>
  status === 403 ? (
    <Layout title="Not allowed" viewer={viewer ?? null}>
      <section data-testid="forbidden" aria-labelledby="refused">
        <h1 id="refused">Not allowed</h1>
        <p>Your token does not allow this: {message}</p>
        <p class="muted">
          HTTP 403 · {code}. Ask for a token whose <code>groups</code> and <code>scope</code> cover it.
        </p>
        <p>
          <a href="/console/groups">Back to the groups you may see</a>
        </p>
      </section>
    </Layout>
  ) : (
    <Layout title={`Error ${status}`} viewer={viewer ?? null}>
      <section data-testid="error" aria-labelledby="error">
        <h1 id="error">
          {status === 404 ? "Not found" : status === 503 ? "Coordinator not available" : "Request refused"}
        </h1>
        <p>{message}</p>
        <p class="muted">
          HTTP {status} · {code}
        </p>
        <p>
          <a href="/console/groups">Back to the groups</a>
        </p>
      </section>
    </Layout>
  );

/** A second step before an action that cannot be undone: the same fields, posted again with `confirm`. */
export const ConfirmPage: FC<{
  title: string;
  action: string;
  fields: Record<string, string>;
  button: string;
  testid: string;
  cancel: string;
  viewer: Viewer;
  children?: Child;
}> = ({ title, action, fields, button, testid, cancel, viewer, children }) => (
  <Layout title={title} viewer={viewer}>
    <h1>{title}</h1>
    {children}
    <form method="post" action={action} class="actions">
      {Object.entries(fields).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <input type="hidden" name="confirm" value="yes" />
      <button type="submit" class="danger" data-testid={testid}>
        {button}
      </button>
      <a href={cancel}>Cancel</a>
    </form>
  </Layout>
);

/** A table inside a wrapper that scrolls sideways on a narrow screen. */
export const TableWrap: FC<{ label: string; children?: Child }> = ({ label, children }) => (
  <section class="table-wrap" aria-label={label} tabindex={0}>
    {children}
  </section>
);

/** A labelled select; `options` are [value, words] pairs, the selected one marked. */
export const SelectField: FC<{
  id: string;
  name: string;
  label: string;
  options: readonly (readonly [string, string])[];
  selected: string;
}> = ({ id, name, label, options, selected }) => (
  <div>
    <label for={id}>{label}</label>
    <select id={id} name={name}>
      {options.map(([value, words]) => (
        <option value={value} selected={value === selected}>
          {words}
        </option>
      ))}
    </select>
  </div>
);

/** A table's header row: one column header per name (null leaves a column out), numbers right-aligned. */
export const Columns: FC<{ names: readonly (string | null)[]; numeric?: readonly string[] }> = ({
  names,
  numeric = [],
}) => (
  <thead>
    <tr>
      {names.map((name) =>
        name === null ? null : (
          <th scope="col" class={numeric.includes(name) ? "num" : undefined}>
            {name}
          </th>
        ),
      )}
    </tr>
  </thead>
);
