/**
 * How a long record is cut into rows (src/storage/group-store.ts): the pieces join back to the record,
 * each is at most PART_CHARS units (so at most 768 KiB of UTF-8), and no cut falls inside a surrogate
 * pair (SQLite would store half a pair as U+FFFD and the record would not come back).
 */

import fc from "fast-check";
import { expect, it } from "vitest";
import { PART_CHARS, splitRecord } from "../../../src/storage/group-store";

const isHigh = (code: number) => code >= 0xd800 && code <= 0xdbff;

it("cuts records into pieces that join back, within PART_CHARS, never inside a surrogate pair", () => {
  const unit = fc.constantFrom("a", "é", "🙂", "\u{10ffff}", '"');
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 3 * PART_CHARS + 5 }), unit, unit, (length, a, b) => {
      const text = (a + b).repeat(Math.ceil(length / 4)).slice(0, length);
      const parts = splitRecord(text);
      expect(parts.join("")).toBe(text);
      for (const [i, part] of parts.entries()) {
        expect(part.length).toBeLessThanOrEqual(PART_CHARS);
        expect(Buffer.byteLength(part, "utf8")).toBeLessThan(1_000_000);
        if (i < parts.length - 1) expect(isHigh(part.charCodeAt(part.length - 1))).toBe(false);
      }
      // Only as many pieces as needed (a cut moved back by one unit adds at most one per piece).
      expect(parts.length).toBeGreaterThanOrEqual(Math.max(1, Math.ceil(text.length / PART_CHARS)));
      expect(parts.length).toBeLessThanOrEqual(Math.max(1, Math.ceil(text.length / (PART_CHARS - 1))));
    }),
    { numRuns: 40 },
  );
});
