/** The `cohort` executable: the command line of main.ts on this process's arguments and streams. */

import { main } from "./main.ts";

/** Set by the @cohort/cli build (esbuild `define`); absent when the sources run directly. */
declare const COHORT_CLI_VERSION: string | undefined;

process.exitCode = await main(process.argv.slice(2), {
  version: typeof COHORT_CLI_VERSION === "string" ? COHORT_CLI_VERSION : "source",
  stdout: (text) => console.log(text),
  stderr: (text) => console.error(text),
  env: process.env,
});
