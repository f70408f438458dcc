/**
 * How the benchmark reports: one row per figure with its value, the floor measured in the same run, the
 * ratio, and the target where the issue sets one. Printed as a table and written with the raw data
 * to bench/results/latest.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import type { Http } from "./load";

export interface Row {
  figure: string;
  metric: string;
  value: number;
  unit: string;
  /** The same metric on the floor Worker, where one applies. */
  floor?: number;
  /** value / floor (for latencies, a ratio above 1 means slower than the floor). */
  ratio?: number;
  target?: string;
  met?: boolean;
  note?: string;
}

export class Report {
  readonly rows: Row[] = [];
  readonly raw: Record<string, unknown> = {};
  readonly missing: string[] = [];

  add(row: Row): void {
    this.rows.push(row);
  }

  /** A figure that could not be measured in this run, with the reason. */
  skip(figure: string, reason: string): void {
    this.missing.push(`${figure}: ${reason}`);
  }

  print(): void {
    const fmt = (v: number | undefined, digits = 2) =>
      v === undefined || Number.isNaN(v)
        ? ""
        : v >= 100
          ? Math.round(v).toLocaleString("en-US")
          : v.toFixed(digits);
    const lines = this.rows.map((r) => [
      r.figure,
      r.metric,
      `${fmt(r.value)} ${r.unit}`,
      fmt(r.floor),
      r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}×`,
      r.target ?? "",
      r.met === undefined ? "" : r.met ? "yes" : "NO",
      r.note ?? "",
    ]);
    const head = ["figure", "metric", "value", "floor", "ratio", "target", "met", "note"];
    const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
    console.log(line(head));
    console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
    for (const l of lines) console.log(line(l));
    for (const m of this.missing) console.log(`not measured: ${m}`);
  }

  write(path: string, settings: Record<string, unknown>): void {
    mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    const machine = {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? "unknown",
      memoryBytes: totalmem(),
      node: process.version,
      /** Other work on the same cores skews every figure; recorded so a reader can judge. */
      loadAverageAtEnd: loadavg(),
    };
    const doc = {
      at: new Date().toISOString(),
      machine,
      settings,
      rows: this.rows,
      missing: this.missing,
      raw: this.raw,
    };
    writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
  }
}

/** What every figure gets: both Workers, their clients, and how long and how often to measure. */
export interface Bench {
  coordinator: { url: string; http: Http; rss(): number };
  floor: { url: string; http: Http };
  rounds: number;
  durationMs: number;
  report: Report;
}

export interface ObjectStats {
  rowsWritten: number;
  alarmAt: number | null;
}

/** A group object's own accounting, through the bench-only route of bench/harness/coordinator-entry.ts. */
export const statsOf = (bench: Bench, groupId: string): Promise<ObjectStats> =>
  bench.coordinator.http.json<ObjectStats>("GET", `/__bench/stats/${encodeURIComponent(groupId)}`);
