/**
 * Words for what the console shows: Kafka's group states and what they mean, lag trends, event
 * descriptions, numbers and times. Everything shown in colour is also said in text.
 */

import type { GroupEvent, LagSample } from "./api.ts";

/** Kafka's group states (classic, consumer and share groups) and what each means to an operator. */
export const STATE_MEANINGS: Record<string, string> = {
  Empty: "No members. Committed offsets are kept until they expire (offsets retention).",
  PreparingRebalance: "A rebalance started: the coordinator waits for every member to rejoin.",
  CompletingRebalance:
    "Every member rejoined: the coordinator waits for the leader's assignment (SyncGroup).",
  Assigning:
    "The group epoch moved (membership or subscriptions changed): a new target assignment is computed.",
  Reconciling: "Members are revoking and taking partitions to reach the target assignment.",
  Stable: "Members and their assignment are settled: the group is consuming.",
  Dead: "The group is being deleted: no members and no offsets remain.",
};

export const STATES = Object.keys(STATE_MEANINGS);
export const GROUP_TYPES = ["classic", "consumer", "share"] as const;

/** Own keys only: a state named like `__proto__` must not read Object.prototype. */
export const stateMeaning = (state: string) =>
  Object.hasOwn(STATE_MEANINGS, state) ? STATE_MEANINGS[state]! : "A state this console does not know.";

/** A badge's colour class; unknown states get the neutral one. */
export function stateClass(state: string): string {
  switch (state) {
    case "Stable":
      return "badge badge-ok";
    case "Empty":
      return "badge badge-idle";
    case "Dead":
      return "badge badge-bad";
    default:
      return Object.hasOwn(STATE_MEANINGS, state) ? "badge badge-busy" : "badge badge-idle";
  }
}

const numbers = new Intl.NumberFormat("en-US");
export const count = (n: number | null | undefined) => (typeof n === "number" ? numbers.format(n) : "—");

/** The longest subject the header shows, in characters (code points); a longer one ends in "…". */
export const SUBJECT_SHOWN = 64;

/**
 * A token's `sub` for display: control and bidi-override characters dropped (they could make the
 * line read as someone else), then cut to SUBJECT_SHOWN characters without splitting a surrogate pair.
 * JSX escapes the result like any text.
 */
export function subjectText(sub: string): string {
  const chars = Array.from(sub.replace(/[\p{Cc}\u202A-\u202E\u2066-\u2069]/gu, ""));
  if (chars.length === 0) return "(a subject without printable characters)";
  return chars.length > SUBJECT_SHOWN ? `${chars.slice(0, SUBJECT_SHOWN - 1).join("")}…` : chars.join("");
}

/** A timestamp as ISO (for `datetime`) and as a short UTC text. */
export const iso = (ms: number) => new Date(ms).toISOString();
export const utc = (ms: number) => `${iso(ms).replace("T", " ").slice(0, 19)} UTC`;

export type Trend = { arrow: string; words: string } | null;

/**
 * Which way a group's lag is going: its newest sample against the oldest of the window given. Within
 * 5% (or 10 records) either way counts as steady, so noise does not flip the arrow.
 */
export function lagTrend(samples: readonly LagSample[]): Trend {
  if (samples.length < 2) return null;
  const first = samples[0]!.totalLag;
  const last = samples[samples.length - 1]!.totalLag;
  const slack = Math.max(10, Math.abs(first) * 0.05);
  if (last > first + slack) return { arrow: "↑", words: "rising" };
  if (last < first - slack) return { arrow: "↓", words: "falling" };
  return { arrow: "→", words: "steady" };
}

/** `1 member`, `2 members`, `1,000 records`: a count and its noun, singular only for exactly 1. */
export const plural = (n: unknown, word: string, many = `${word}s`) =>
  `${typeof n === "number" ? count(n) : str(n)} ${n === 1 ? word : many}`;
const str = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v) : "?");

/** One line describing an event of API.md §8 (the detail shapes in BRIEF.md's history interface). */
export function describeEvent(e: GroupEvent): string {
  const d = e.detail ?? {};
  const member = e.memberId ? `member ${e.memberId}` : "a member";
  switch (e.type) {
    case "member_joined":
      return `${member} joined (client ${str(d.clientId) || "without an id"} from ${str(d.clientHost) || "an unknown host"}${d.groupInstanceId ? `, static instance ${str(d.groupInstanceId)}` : ""})`;
    case "member_left":
      return `${member} left (${str(d.reason)})`;
    case "member_fenced":
      return `${member} was fenced (${str(d.reason).replaceAll("_", " ")})`;
    case "rebalance": {
      const generation =
        d.generationId !== undefined
          ? `generation ${str(d.generationId)}`
          : `group epoch ${str(d.groupEpoch)}`;
      return `rebalance to ${generation}: ${plural(d.members, "member")}, ${plural(d.partitionsMoved, "partition")} moved`;
    }
    case "state_changed":
      return `state ${str(d.from)} → ${str(d.to)}`;
    case "offsets_reset": {
      const parts = Array.isArray(d.partitions) ? d.partitions.length : 0;
      return `offsets of ${str(d.topic)} reset on ${plural(parts, "partition")}`;
    }
    case "offsets_deleted": {
      const parts = Array.isArray(d.partitions) ? d.partitions : [];
      const word = parts.length === 1 ? "partition" : "partitions";
      return `offsets of ${str(d.topic)} deleted (${word} ${parts.length > 0 ? parts.join(", ") : "?"})`;
    }
    case "share_archived":
      return `${str(d.topic)}-${str(d.partition)} offsets ${str(d.firstOffset)}–${str(d.lastOffset)} archived (${str(d.reason).replaceAll("_", " ")})`;
    case "share_redriven":
      return `${str(d.topic)}-${str(d.partition)} offsets ${str(d.firstOffset)}–${str(d.lastOffset)} redriven (${plural(d.count, "offset")})`;
    default:
      return e.type;
  }
}

/** A member's assignment as text: `orders: 0, 1, 2; payments: 4`, or the classic protocol's opaque bytes. */
export function assignmentText(assignment: { topic: string; partitions: number[] }[] | string): string {
  if (typeof assignment === "string") {
    return assignment === "" ? "—" : `opaque (${plural(assignment.length, "character")})`;
  }
  if (assignment.length === 0) return "—";
  return assignment.map((a) => `${a.topic}: ${a.partitions.join(", ")}`).join("; ");
}
