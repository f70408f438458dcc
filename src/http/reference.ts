/**
 * The API reference at GET /reference: every route of the OpenAPI document (/openapi.json, generated
 * from the zod schemas), rendered on the server — method, path, summary, scope, parameters, request
 * body schema and responses — with a "try it" form per route that sends the request from the browser
 * with the token typed at the top (kept in sessionStorage, never sent anywhere else). It needs no
 * package and no CDN: the small script below is the page's only code. Swagger UI or Scalar would add
 * schema browsing and code samples; they are not among the dependencies.
 */

import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

type Schema = Record<string, unknown>;

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string }>;
}

export interface OpenApiDocument {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface Route {
  method: string;
  path: string;
  operation: Operation;
}

const METHODS = ["get", "post", "put", "patch", "delete"];

/** Every (method, path) of the document, in its order. */
export function routesOf(doc: OpenApiDocument): Route[] {
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ method: m.toUpperCase(), path, operation: item[m]! })),
  );
}

function resolve(schema: Schema | undefined, doc: OpenApiDocument): Schema | undefined {
  const ref = schema?.$ref;
  if (typeof ref !== "string") return schema;
  return doc.components?.schemas?.[ref.replace("#/components/schemas/", "")];
}

/** A request body to start from: every property, each with a value of its type. */
export function exampleOf(schema: Schema | undefined, doc: OpenApiDocument, depth = 0): unknown {
  const s = resolve(schema, doc);
  if (!s || depth > 6) return null;
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (Array.isArray(s.enum)) return s.enum[0];
  const choice = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (choice?.length) return exampleOf(choice.find((c) => c.type !== "null") ?? choice[0], doc, depth + 1);
  switch (Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type) {
    case "object": {
      const properties = (s.properties ?? {}) as Record<string, Schema>;
      return Object.fromEntries(
        Object.entries(properties).map(([k, v]) => [k, exampleOf(v, doc, depth + 1)]),
      );
    }
    case "array":
      return [exampleOf(s.items as Schema | undefined, doc, depth + 1)];
    case "integer":
    case "number":
      return typeof s.minimum === "number" ? s.minimum : 0;
    case "boolean":
      return false;
    case "string":
      return "";
    default:
      return null;
  }
}

const typeOf = (schema: Schema | undefined): string => {
  if (!schema) return "";
  if (Array.isArray(schema.enum)) return schema.enum.join(" | ");
  const choice = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (choice) return choice.map(typeOf).join(" | ");
  if (schema.type === "array") return `${typeOf(schema.items as Schema)}[]`;
  return Array.isArray(schema.type) ? schema.type.join(" | ") : String(schema.type ?? "");
};

const anchorOf = (route: Route): string =>
  `${route.method}-${route.path}`.toLowerCase().replace(/[^a-z0-9]+/g, "-");

function routeSection(route: Route, doc: OpenApiDocument): HtmlEscapedString | Promise<HtmlEscapedString> {
  const { method, path, operation } = route;
  const parameters = operation.parameters ?? [];
  const bodySchema = operation.requestBody?.content?.["application/json"]?.schema;
  const body = bodySchema ? JSON.stringify(exampleOf(bodySchema, doc), null, 2) : null;
  const socket = path.endsWith("/watch");
  return html`<section class="route" id="${anchorOf(route)}" data-testid="route" data-route="${method} ${path}">
  <h3><span class="method ${method.toLowerCase()}">${method}</span> <code>${path}</code></h3>
  <p>${operation.summary ?? ""}</p>
  ${operation.description ? html`<p class="description">${operation.description}</p>` : ""}
  ${
    parameters.length
      ? html`<table><thead><tr><th>parameter</th><th>in</th><th>type</th><th>required</th></tr></thead><tbody>
      ${parameters.map(
        (p) =>
          html`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td>${typeOf(p.schema)}</td><td>${p.required ? "yes" : ""}</td></tr>`,
      )}</tbody></table>`
      : ""
  }
  ${
    bodySchema
      ? html`<details><summary>request body schema</summary><pre>${JSON.stringify(resolve(bodySchema, doc), null, 2)}</pre></details>`
      : ""
  }
  <ul class="responses">${Object.entries(operation.responses ?? {}).map(
    ([status, r]) => html`<li><code>${status}</code> ${r.description ?? ""}</li>`,
  )}</ul>
  ${
    socket
      ? html`<p class="note">A WebSocket upgrade: open it with a WebSocket client (the SDK's consumer does).</p>`
      : html`<form data-try data-testid="try-it" data-method="${method}" data-path="${path}">
    ${parameters.map(
      (p) =>
        html`<label>${p.name} <small>(${p.in}${p.required ? ", required" : ""})</small>
      <input name="${p.name}" data-in="${p.in}" ${p.required ? "required" : ""} placeholder="${typeOf(p.schema)}"></label>`,
    )}
    ${body !== null ? html`<label>body <textarea name="body" rows="6" spellcheck="false">${body}</textarea></label>` : ""}
    <button type="submit">Try it</button>
    <output></output>
  </form>`
  }
</section>`;
}

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem 1.5rem; color: #1d232a; }
header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ddd; padding: .5rem 0; }
nav ul { columns: 2; padding-left: 1.2rem; font-size: 13px; }
.route { border: 1px solid #ddd; border-radius: 6px; padding: .25rem 1rem 1rem; margin: 1rem 0; }
.method { display: inline-block; min-width: 4.5rem; text-align: center; border-radius: 4px; color: #fff; font-size: 13px; }
.get { background: #1f6feb; } .post { background: #1a7f37; } .delete { background: #cf222e; } .put, .patch { background: #9a6700; }
table { border-collapse: collapse; margin: .5rem 0; } td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; }
form { display: grid; gap: .4rem; background: #f6f8fa; padding: .75rem; border-radius: 6px; }
label { display: grid; font-size: 13px; } header label { display: block; } input, textarea { font: 13px ui-monospace, monospace; padding: 4px; }
button { justify-self: start; padding: 4px 14px; } output { white-space: pre-wrap; font: 12px ui-monospace, monospace; }
pre { background: #f6f8fa; padding: .5rem; overflow: auto; font-size: 12px; } .note { color: #57606a; }`;

/** Sends each form's request with the page's token and shows the answer under it. */
const SCRIPT = `
const token = document.getElementById("token");
token.value = sessionStorage.getItem("cohort.token") ?? "";
token.addEventListener("input", () => sessionStorage.setItem("cohort.token", token.value));
for (const form of document.querySelectorAll("form[data-try]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let path = form.dataset.path;
    const query = new URLSearchParams();
    for (const input of form.querySelectorAll("input[data-in]")) {
      const value = input.value.trim();
      if (value === "") continue;
      if (input.dataset.in === "path") path = path.replace("{" + input.name + "}", encodeURIComponent(value));
      else for (const one of value.split(",")) query.append(input.name, one.trim());
    }
    const headers = {};
    if (token.value.trim()) headers.authorization = "Bearer " + token.value.trim();
    const body = form.querySelector("textarea[name=body]")?.value.trim();
    if (body) headers["content-type"] = "application/json";
    const output = form.querySelector("output");
    output.textContent = "…";
    try {
      const url = path + (query.size ? "?" + query : "");
      const response = await fetch(url, { method: form.dataset.method, headers, body: body || undefined });
      const text = await response.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch {}
      output.textContent = form.dataset.method + " " + url + " → " + response.status + "\\n" + shown;
    } catch (error) {
      output.textContent = String(error);
    }
  });
}`;

export function referencePage(doc: OpenApiDocument): HtmlEscapedString | Promise<HtmlEscapedString> {
  const routes = routesOf(doc);
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${doc.info.title} API reference</title><style>${raw(STYLE)}</style></head>
<body>
<header>
  <strong>${doc.info.title}</strong> API ${doc.info.version} — <a href="/openapi.json">openapi.json</a>
  <label>Bearer token (AUTH_MODE=jwt; mint one with <code>npm run token</code>)
    <input id="token" type="password" autocomplete="off" placeholder="eyJ…"></label>
</header>
<p>${doc.info.description ?? ""}. ${routes.length} routes; the contract is API.md. Errors have one shape:
<code>{"error":{"code","kafkaCode","message"}}</code>.</p>
<nav><ul data-testid="route-index">${routes.map(
    (r) => html`<li><a href="#${anchorOf(r)}">${r.method} ${r.path}</a></li>`,
  )}</ul></nav>
<main>${routes.map((r) => routeSection(r, doc))}</main>
<script type="module">${raw(SCRIPT)}</script>
</body></html>`;
}
