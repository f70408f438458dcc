/**
 * The console's only data source: the /v1 app, called in-process with the caller's own credential, so
 * every page sees and does exactly what the token may (API.md §9) — auth, scopes and validation are the
 * API's, never re-implemented here.
 */

/** Calls the Worker's app (app.ts) with a request; `env` is the caller's environment. */
export type V1Fetch = (request: Request, env: Env) => Promise<Response>;

export interface ApiError {
  status: number;
  code: string;
  message: string;
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

/** One caller's view of /v1: its token (null with AUTH_MODE=none) and its origin. */
export class V1Api {
  private readonly fetcher: V1Fetch;
  private readonly env: Env;
  private readonly origin: string;
  private readonly token: string | null;

  constructor(fetcher: V1Fetch, env: Env, origin: string, token: string | null) {
    this.fetcher = fetcher;
    this.env = env;
    this.origin = origin;
    this.token = token;
  }

  get<T>(path: string): Promise<ApiResult<T>> {
    return this.call<T>("GET", path);
  }

  /** A JSON request; a JSON body only when one is given. */
  async call<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
    const headers = new Headers({ accept: "application/json" });
    if (this.token !== null) headers.set("authorization", `Bearer ${this.token}`);
    if (body !== undefined) headers.set("content-type", "application/json");
    const request = new Request(new URL(path, this.origin), {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const response = await this.fetcher(request, this.env);
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {}
    if (response.ok) return { ok: true, value: parsed as T };
    const error = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    return {
      ok: false,
      error: {
        status: response.status,
        code: typeof error?.code === "string" ? error.code : "UNKNOWN",
        message: typeof error?.message === "string" ? error.message : `HTTP ${response.status}`,
      },
    };
  }
}

/** The /v1 path of a group (ids are checked before they get here; encoded all the same). */
export const groupPath = (groupId: string, rest = "") => `/v1/groups/${encodeURIComponent(groupId)}${rest}`;

/** A route the running coordinator does not have yet (the API's unknown-route 404, not a missing group). */
export const isMissingRoute = (error: ApiError) => error.status === 404 && error.code === "NOT_FOUND";

// ---- the shapes the console reads (API.md §6–§8) ----

export interface GroupSummary {
  groupId: string;
  type: "classic" | "consumer" | "share";
  state: string;
  members: number;
}

export interface GroupList {
  groups: GroupSummary[];
  nextCursor: string | null;
}

export interface MemberView {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  memberEpoch?: number;
  state?: string;
  assignment: { topic: string; partitions: number[] }[] | string;
}

export interface SharePartitionView {
  topic: string;
  partition: number;
  startOffset: number | null;
  endOffset: number | null;
  logEndOffset: number | null;
  acquired: number;
  available: number;
  acknowledged: number;
  archived: number;
  lag: number | null;
}

export interface GroupView {
  groupId: string;
  type: "classic" | "consumer" | "share";
  state: string;
  generationId?: number;
  groupEpoch?: number;
  protocolType: string;
  protocolName?: string;
  assignor?: string;
  leaderId: string | null;
  members: MemberView[];
  partitions?: SharePartitionView[];
}

export interface LagRow {
  topic: string;
  partition: number;
  committedOffset: number;
  logEndOffset: number | null;
  lag: number | null;
  memberId: string | null;
}

export interface LagView {
  groupId: string;
  totalLag: number;
  partitions: LagRow[];
}

export interface LagSample {
  at: number;
  totalLag: number;
}

export interface GroupEvent {
  seq: number;
  at: number;
  type: string;
  memberId?: string;
  actor?: string | null;
  detail: Record<string, unknown>;
}

export interface ArchivedRange {
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
  deliveryCount: number;
  reason: string;
  archivedAt: number;
}

export interface ResetResult {
  dryRun: boolean;
  offsets: { topic: string; partition: number; previousOffset: number; newOffset: number }[];
}
