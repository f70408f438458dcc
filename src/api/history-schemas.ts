/**
 * Zod schemas of the history routes (API.md §8): the query bounds (`after`, `limit`, `since`, strict
 * decimal integers: anything else, `__proto__` or a number past 2^53 included, is 400 INVALID_REQUEST),
 * and the events and lag samples as served. The detail shapes are those of src/core/history.ts.
 */

import { z } from "@hono/zod-openapi";

/** The most events one page holds, and its default (API.md §8). */
export const MAX_EVENTS_LIMIT = 1000;
export const DEFAULT_EVENTS_LIMIT = 100;

/** A decimal integer 0 … 2^53−1 in a query string. */
const safeInteger = (what: string) =>
  z
    .string()
    .regex(/^\d{1,16}$/, `${what}: a decimal integer 0 … 2^53−1`)
    .transform(Number)
    .pipe(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER));

/** A page size 1 … MAX_EVENTS_LIMIT in a query string. */
const pageSize = () =>
  z
    .string()
    .regex(/^\d{1,4}$/, `an integer 1-${MAX_EVENTS_LIMIT}`)
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_EVENTS_LIMIT));

export const EventsQuery = z
  .object({
    after: safeInteger("after")
      .optional()
      .openapi({ type: "integer", minimum: 0, description: "Return events with a larger seq (default 0)" }),
    limit: pageSize()
      .optional()
      .openapi({ type: "integer", minimum: 1, maximum: MAX_EVENTS_LIMIT, default: DEFAULT_EVENTS_LIMIT }),
    // An extension of API.md §8: the newest events without paging from the oldest kept one (a ring of
    // up to 100,000). Still oldest first, and `nextAfter` continues from them as usual.
    last: pageSize().optional().openapi({
      type: "integer",
      minimum: 1,
      maximum: MAX_EVENTS_LIMIT,
      description: "Return the newest `last` events instead (not with `after` or `limit`)",
    }),
  })
  .refine((q) => q.last === undefined || (q.after === undefined && q.limit === undefined), {
    message: "`last` cannot be combined with `after` or `limit`",
    path: ["last"],
  });

export const LagHistoryQuery = z.object({
  since: safeInteger("since").optional().openapi({
    type: "integer",
    minimum: 0,
    description: "Samples at or after this time (ms since the epoch)",
  }),
});

const EventType = z.enum([
  "member_joined",
  "member_left",
  "member_fenced",
  "rebalance",
  "state_changed",
  "offsets_reset",
  "offsets_deleted",
  "share_archived",
  "share_redriven",
]);

export const HistoryEvent = z
  .object({
    seq: z.number().int(),
    at: z.number().int(),
    type: EventType,
    memberId: z.string().optional(),
    actor: z
      .string()
      .nullable()
      .optional()
      .openapi({ description: "Admin events: the token's sub, or null" }),
    detail: z.record(z.string(), z.unknown()),
  })
  .openapi("HistoryEvent");

export const EventsResponse = z
  .object({
    events: z.array(HistoryEvent),
    nextAfter: z.number().int().openapi({ description: "Pass back as `after` to continue" }),
  })
  .openapi("GroupEvents");

export const LagHistoryResponse = z
  .object({ samples: z.array(z.object({ at: z.number().int(), totalLag: z.number().int() })) })
  .openapi("LagHistory");
