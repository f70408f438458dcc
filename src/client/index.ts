/** `cohort/client`: the TypeScript SDK of cohort — admin client, transport and errors. */

export { CohortAdmin, type ListGroupsFilter } from "./admin.ts";
export { CohortError, type ErrorIssue } from "./errors.ts";
export {
  type ClientOptions,
  DEFAULT_RETRY,
  type FetchLike,
  HttpTransport,
  type RetryPolicy,
} from "./http.ts";
export type * from "./types.ts";
