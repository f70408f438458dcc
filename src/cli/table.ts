/**
 * Plain-text tables as `kafka-consumer-groups` prints them: upper-case headers, columns left-aligned
 * and padded to their widest cell, missing values as "-". Every cell goes through `terminalSafe`:
 * client ids, member ids, hosts and topics are whatever clients sent.
 */

export type Cell = string | number | null | undefined;

/**
 * What a terminal would act on instead of print: C0 and C1 controls (ESC starts ANSI sequences, \r
 * rewrites the line, \n forges rows), DEL, Unicode line/paragraph separators and the bidi embedding,
 * override and isolate marks that reorder what follows.
 */
function unsafe(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x5c || // backslash: doubled, so an escape cannot be forged
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

const NAMED = new Map([
  [0x09, "\\t"],
  [0x0a, "\\n"],
  [0x0d, "\\r"],
  [0x5c, "\\\\"],
]);

function escapeOne(code: number): string {
  const named = NAMED.get(code);
  if (named) return named;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
}

/**
 * A string as an operator's terminal may show it: every unsafe character as a visible escape
 * (`\x1b`, `\r`, `\u{202e}`), and backslash doubled so an escape cannot be forged.
 */
export function terminalSafe(text: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i); // every unsafe character is in the BMP: UTF-16 units suffice
    if (!unsafe(code)) continue;
    out += text.slice(from, i) + escapeOne(code);
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * JSON for a terminal: JSON.stringify escapes C0 controls but leaves DEL, C1 controls (8-bit CSI),
 * line separators and bidi marks raw; those become \uXXXX, which is the same JSON value.
 */
export function terminalSafeJson(value: unknown): string {
  const text = JSON.stringify(value, null, 2) ?? "null";
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x7f || !unsafe(code)) continue;
    out += `${text.slice(from, i)}\\u${code.toString(16).padStart(4, "0")}`;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

const show = (cell: Cell) =>
  cell === null || cell === undefined || cell === "" ? "-" : terminalSafe(String(cell));

/** Renders rows under headers; every column is as wide as its widest cell, separated by two spaces. */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = rows.map((row) => headers.map((_, i) => show(row[i])));
  // A loop, not Math.max(...column): spreading a column of ~200,000 rows overflows the call stack.
  const widths = headers.map((header) => header.length);
  for (const row of cells) {
    for (let i = 0; i < row.length; i++) widths[i] = Math.max(widths[i]!, row[i]!.length);
  }
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => (i === values.length - 1 ? value : value.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const lines = [line(headers)];
  for (const row of cells) lines.push(line(row));
  return lines.join("\n");
}
