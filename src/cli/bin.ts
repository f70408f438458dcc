/** The `cohort` executable: the command line of main.ts on this process's arguments and streams. */

import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => console.log(text),
  stderr: (text) => console.error(text),
  env: process.env,
});
