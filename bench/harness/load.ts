/**
 * The load side of the benchmarks: a keep-alive HTTP client on loopback, a closed-loop runner (N callers,
 * each sending its next request when the previous answered) bounded by time and count, and the
 * statistics every figure uses (percentiles, medians over rounds).
 */
import { Agent, request } from "node:http";

export interface Reply {
  status: number;
  body: string;
}

/** One keep-alive connection pool per target; node:http costs the client less CPU than fetch. */
export class Http {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(base: string, sockets = 64) {
    const url = new URL(base);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets });
  }

  call(method: string, path: string, body?: unknown): Promise<Reply> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: payload === undefined ? {} : { "content-type": "application/json" },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** Calls and parses JSON, failing on any status but `expect` (the benchmark must not measure errors). */
  async json<T>(method: string, path: string, body?: unknown, expect = 200): Promise<T> {
    const reply = await this.call(method, path, body);
    if (reply.status !== expect) throw new Error(`${method} ${path} -> ${reply.status} ${reply.body}`);
    return JSON.parse(reply.body) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface LoadResult {
  /** Requests sent in all, warm-up included (for per-request storage accounting). */
  sent: number;
  requests: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LoadSpec {
  concurrency: number;
  /** Measured time after warm-up; the run also stops at `maxRequests`. */
  durationMs: number;
  warmupMs?: number;
  maxRequests?: number;
  /** One request; `n` counts requests across all callers, `caller` is 0…concurrency−1. */
  send: (n: number, caller: number) => Promise<void>;
}

/** Closed-loop load: `concurrency` callers in flight; latencies of the measured window only. */
export async function closedLoop(spec: LoadSpec): Promise<LoadResult> {
  const warmupEnd = performance.now() + (spec.warmupMs ?? 300);
  const max = spec.maxRequests ?? Number.POSITIVE_INFINITY;
  let n = 0;
  let start = 0;
  let end = 0;
  const latencies: number[] = [];
  const caller = async (id: number) => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= end || latencies.length >= max) return;
      await spec.send(n++, id);
      latencies.push(performance.now() - t0);
    }
  };
  const callers = Array.from({ length: spec.concurrency }, (_, i) => i);
  // Every caller warms up, then the measured window opens for all at once.
  const warm = callers.map(async (id) => {
    while (performance.now() < warmupEnd) await spec.send(n++, id);
  });
  await Promise.all(warm);
  start = performance.now();
  end = start + spec.durationMs;
  await Promise.all(callers.map((id) => caller(id)));
  const seconds = (performance.now() - start) / 1000;
  return {
    sent: n,
    requests: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

export function percentile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export const median = (values: number[]): number => percentile(values, 0.5);

export interface Summary {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Requests per second of each round: the noise between rounds on a shared machine. */
  rounds: number[];
}

/**
 * Ratios of paired rounds (each cohort round next to a floor round), then their median: on a machine
 * shared with other work, load drifts between rounds but much less within a pair.
 */
export function pairedRatio(cohort: LoadResult[], floor: LoadResult[], key: keyof LoadResult): number {
  return median(cohort.map((c, i) => (c[key] as number) / (floor[i]![key] as number)));
}

/** Each metric's median over rounds (a round is one closed-loop run). */
export function summarize(rounds: LoadResult[]): Summary {
  return {
    perSecond: median(rounds.map((r) => r.perSecond)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    rounds: rounds.map((r) => Math.round(r.perSecond)),
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
