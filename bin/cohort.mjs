#!/usr/bin/env node
// The `cohort` CLI. The sources are TypeScript, run by Node's built-in type stripping (Node ≥ 22.18;
// `npm install` puts Node 22 first on the PATH of npm scripts and npx).
if (!process.features?.typescript) {
  console.error(
    `cohort: Node ${process.versions.node} cannot run TypeScript sources; use Node >= 22.18 ` +
      "(run through npx or an npm script so that the project's node_modules/.bin/node is used)",
  );
  process.exit(2);
}
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => console.log(text),
  stderr: (text) => console.error(text),
  env: process.env,
});
