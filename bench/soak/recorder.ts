/**
 * What the soak measures, phase by phase: answered requests with their latencies, coordinator errors by
 * code (which well-behaved members must never see), requests that reached no coordinator at all (the
 * runtime was killed), and the workerd processes' resident memory sampled along the way.
 */
import { percentile } from "../harness/load";

export interface PhaseSummary {
  phase: string;
  seconds: number;
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: Record<string, number>;
  unreachable: Record<string, number>;
}

class Phase {
  readonly started = performance.now();
  ended: number | null = null;
  readonly latencies: number[] = [];
  readonly errors = new Map<string, number>();
  readonly unreachable = new Map<string, number>();

  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  summary(): PhaseSummary {
    const seconds = ((this.ended ?? performance.now()) - this.started) / 1000;
    return {
      phase: this.name,
      seconds: round(seconds, 1),
      requests: this.latencies.length,
      perSecond: round(this.latencies.length / seconds, 1),
      p50Ms: round(percentile(this.latencies, 0.5), 1),
      p99Ms: round(percentile(this.latencies, 0.99), 1),
      maxMs: round(
        this.latencies.reduce((a, b) => Math.max(a, b), 0),
        1,
      ),
      errors: Object.fromEntries(this.errors),
      unreachable: Object.fromEntries(this.unreachable),
    };
  }
}

export class Recorder {
  private current: Phase | null = null;
  private readonly phases: Phase[] = [];

  /** Closes the running phase and opens `name`. */
  phase(name: string): void {
    if (this.current) this.current.ended = performance.now();
    this.current = new Phase(name);
    this.phases.push(this.current);
  }

  get phaseName(): string {
    return this.current?.name ?? "-";
  }

  end(): void {
    if (this.current) this.current.ended = performance.now();
    this.current = null;
  }

  ok(ms: number): void {
    this.current?.latencies.push(ms);
  }

  /** An answer that is an error (counted, and its latency too: it was an answered request). */
  error(code: string, ms: number): void {
    if (!this.current) return;
    this.current.latencies.push(ms);
    this.current.errors.set(code, (this.current.errors.get(code) ?? 0) + 1);
  }

  /** A detail worth reading after the run (kept for the report, bounded). */
  note(message: string): void {
    if (this.notes.length < 50) this.notes.push(`[${this.phaseName}] ${message}`);
  }

  readonly notes: string[] = [];

  unreachable(code: string): void {
    if (!this.current) return;
    this.current.unreachable.set(code, (this.current.unreachable.get(code) ?? 0) + 1);
  }

  summaries(): PhaseSummary[] {
    return this.phases.map((p) => p.summary());
  }
}

export const round = (x: number, digits = 0): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
