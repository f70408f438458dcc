/** Runs the CLI's `main()` in-process against an injected fetch, capturing stdout and stderr. */

import { main } from "../../../src/cli/main.ts";

export async function runMain(args: string[], fetch: typeof globalThis.fetch) {
  const out = { stdout: "", stderr: "" };
  const code = await main(args, {
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
    env: { COHORT_URL: "http://cohort.test" },
    fetch,
  });
  return { code, ...out };
}
