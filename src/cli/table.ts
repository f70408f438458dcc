/**
 * Plain-text tables as `kafka-consumer-groups` prints them: upper-case headers, columns left-aligned
 * and padded to their widest cell, missing values as "-".
 */

export type Cell = string | number | null | undefined;

const show = (cell: Cell) => (cell === null || cell === undefined || cell === "" ? "-" : String(cell));

/** Renders rows under headers; every column is as wide as its widest cell, separated by two spaces. */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = rows.map((row) => headers.map((_, i) => show(row[i])));
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => (i === values.length - 1 ? value : value.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...cells.map(line)].join("\n");
}
