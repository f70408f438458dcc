/**
 * Hostile values and checks shared by the fuzz tests: names that are Object.prototype keys, unicode
 * that breaks naive code (lone surrogates, RTL overrides, NUL, emoji), names at and over the 249-char
 * limit, numbers at and past every bound, deep and duplicate-key JSON, and the API.md §1 error check.
 * Results are tallied by route and status, so a failing run says exactly where the 5xx came from.
 */

import fc from "fast-check";
import { expect } from "vitest";
import { ERRORS } from "../../src/core/errors";

/** Keys every plain object already has: a client string used as a plain-object key hits these. */
export const PROTO_KEYS = [
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "prototype",
  "valueOf",
  "__defineGetter__",
  "isPrototypeOf",
] as const;

/** Strings that are not valid names (API.md §1: 1–249 of [A-Za-z0-9._-]) but reach parsers anyway. */
export const UNICODE_HOSTILE = [
  "\uD800", // lone high surrogate
  "a\uDC00b", // lone low surrogate
  "\u202Eevil\u202C", // RTL override
  "nul\u0000byte",
  "🙂",
  "e\u0301", // combining accent
  "\u200B", // zero-width space
  "a b",
  "..",
  "",
  "x".repeat(250),
] as const;

/** Valid at the limit: 249 characters. */
export const NAME_AT_LIMIT = "n".repeat(249);

/** A name a route accepts (valid, but prototype keys and the 249-char limit included). */
export const validNames = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PROTO_KEYS) },
  { weight: 1, arbitrary: fc.constantFrom(NAME_AT_LIMIT, "orders", "t", "a.b-c_d") },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/) },
);
/** Any name: valid, prototype keys, unicode, over the limit. */
export const hostileNames = fc.oneof(
  { weight: 3, arbitrary: validNames },
  { weight: 2, arbitrary: fc.constantFrom(...UNICODE_HOSTILE) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20, unit: "binary" }) },
);

/** Numbers at, just past and far past every bound, floats, -0, and strings that look numeric. */
export const hostileNumbers = fc.oneof(
  fc.constantFrom(0, 1, -1, -2, -3, 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1, 2 ** 53, 1e308, -1e308),
  fc.constantFrom(0.5, 1.000001, -0, 1e-300, Number.MIN_VALUE),
  fc.constantFrom("NaN", "Infinity", "-Infinity", "1e999", "0x10", "1", "", " 1"),
  fc.integer({ min: -3, max: 20 }),
);

/** Raw JSON text of numbers JSON.stringify cannot produce. */
export const RAW_NUMBERS = [
  "-0",
  "1e999",
  "-1e999",
  "1.0",
  "1e2",
  "0.0000001",
  "123456789012345678901234567890",
];

/** `[[[…]]]` or `{"a":{"a":…}}` nested `depth` times. */
export const deepJson = (depth: number, kind: "array" | "object" = "array"): string =>
  kind === "array"
    ? `${"[".repeat(depth)}${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

/** `?name=v&name=v…` with the value repeated `times`. */
export const repeatQuery = (name: string, value: string, times: number): string =>
  Array.from({ length: times }, () => `${name}=${encodeURIComponent(value)}`).join("&");

export interface Outcome {
  route: string;
  status: number;
  code?: string;
  detail: string;
}

/** Counts of outcomes by route and status, and the ones that broke the contract. */
export class Tally {
  readonly counts = new Map<string, number>();
  readonly broken: Outcome[] = [];

  add(o: Outcome, problem: string | null): void {
    const key = `${o.route} ${o.status}${o.code ? ` ${o.code}` : ""}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (problem) this.broken.push({ ...o, detail: `${problem}: ${o.detail}` });
  }

  /** The failures grouped by route and status, for the assertion message and the log. */
  summary(): string {
    const byKey = new Map<string, number>();
    for (const b of this.broken) {
      const key = `${b.route} ${b.status}${b.code ? ` ${b.code}` : ""}`;
      byKey.set(key, (byKey.get(key) ?? 0) + 1);
    }
    const lines = [...byKey].map(([k, n]) => `  ${n} × ${k}`);
    const examples = this.broken.slice(0, 8).map((b) => `  e.g. ${b.detail.slice(0, 300)}`);
    return [...lines, ...examples].join("\n");
  }

  expectClean(): void {
    expect(this.broken.length, `contract broken:\n${this.summary()}`).toBe(0);
  }
}

/**
 * Checks one answer against API.md §1: never a 5xx (503 only when the object restarts under a request,
 * which these tests never do), and every error `{"error": {code, kafkaCode, message}}` with its status.
 * Returns the problem, or null.
 */
export function contractProblem(status: number, text: string): { problem: string | null; code?: string } {
  if (status < 400) return { problem: null };
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: `status ${status} with a body that is not JSON` };
  }
  const code = json?.error?.code as keyof typeof ERRORS | undefined;
  if (status >= 500) return { problem: `5xx (${status})`, code };
  if (!code || !ERRORS[code]) return { problem: `unknown error code ${code}`, code };
  if (Object.keys(json).join() !== "error") return { problem: "extra top-level keys", code };
  if (ERRORS[code].status !== status) return { problem: `${code} with status ${status}`, code };
  if (json.error.kafkaCode !== ERRORS[code].kafkaCode) return { problem: `${code} kafkaCode`, code };
  if (typeof json.error.message !== "string") return { problem: `${code} without a message`, code };
  return { problem: null, code };
}

/** Runs `tasks` with at most `width` in flight (parked classic joins must not serialize the run). */
export async function pool<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
      }
    }),
  );
  return out;
}

/** The seed of this run (FUZZ_SEED reproduces one), printed with every failure. */
export const fuzzSeed = (): number => Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
