/**
 * The CLI's text output as a terminal receives it: client-supplied strings cannot move the cursor,
 * rewrite lines, forge rows or reorder text, and a table of 250,000 rows renders (no spread into
 * Math.max). Pure functions: no coordinator needed.
 */

import { describe, expect, it } from "vitest";
import { renderTable, terminalSafe, terminalSafeJson } from "../../src/cli/table.ts";

/** Whether `text` holds a character a terminal acts on (C0/C1, DEL, separators, bidi), newlines aside. */
function hasActive(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) continue;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || [0x61c, 0x200e, 0x200f, 0x2028, 0x2029].includes(c))
      return true;
    if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return true;
  }
  return false;
}

const HOSTILE = "\u001b[2J\u001b[31mred\u001b]0;title\u0007\r\nFAKE  ROW\u202egnp.exe\u2066\u009b31m\\x1b";

describe("terminalSafe", () => {
  it("shows every active character as a visible escape and doubles backslashes", () => {
    expect(terminalSafe(HOSTILE)).toBe(
      "\\x1b[2J\\x1b[31mred\\x1b]0;title\\x07\\r\\nFAKE  ROW\\u{202e}gnp.exe\\u{2066}\\x9b31m\\\\x1b",
    );
    expect(terminalSafe("orders-app.v2 ünïcødé 日本")).toBe("orders-app.v2 ünïcødé 日本");
  });

  it("tables escape every cell: one line per row, nothing active", () => {
    const table = renderTable(
      ["CONSUMER-ID", "CLIENT-ID"],
      [
        [HOSTILE, "ok"],
        ["plain", HOSTILE],
      ],
    );
    const lines = table.split("\n");
    expect(lines).toHaveLength(3);
    expect(hasActive(table)).toBe(false);
    expect(lines[1]).toContain("\\x1b[31mred");
  });

  it("JSON keeps the values and escapes what JSON.stringify leaves raw", () => {
    const value = { clientId: HOSTILE, memberId: "\u2028\u007f" };
    const text = terminalSafeJson(value);
    expect(hasActive(text)).toBe(false);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe("renderTable", () => {
  it("renders 250,000 rows with columns as wide as their widest cell", () => {
    const rows = Array.from({ length: 250_000 }, (_, i) => [`group-${i}`, "orders", i % 64, i]);
    const table = renderTable(["GROUP", "TOPIC", "PARTITION", "OFFSET"], rows);
    const lines = table.split("\n");
    expect(lines).toHaveLength(250_001);
    const width = "group-249999".length;
    expect(lines[0]).toBe(`${"GROUP".padEnd(width)}  TOPIC   PARTITION  OFFSET`);
    expect(lines.at(-1)).toBe(`${"group-249999".padEnd(width)}  orders  ${"15".padEnd(9)}  249999`);
    expect(lines[1]).toBe(`${"group-0".padEnd(width)}  orders  ${"0".padEnd(9)}  0`);
  });
});
