/** The `cohort` CLI as a user runs it — a child process against the CLI tests' local coordinator — and table parsing. */

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { inject } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/cohort.mjs", import.meta.url));

/** The local coordinator global-setup.ts started. */
export const url = inject("cohortUrl");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function cohort(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, COHORT_URL: url, COHORT_TOKEN: "" } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout: stdout.trimEnd(), stderr: stderr.trimEnd() });
      },
    );
  });
}

/** Splits a table into rows of cells (columns are separated by two or more spaces). */
export const cells = (table: string) => table.split("\n").map((line) => line.trim().split(/ {2,}/));
