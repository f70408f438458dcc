#!/usr/bin/env node
// The `cohort` CLI of this repository. With Node's built-in type stripping (Node ≥ 22.18, which npm
// scripts and npx put first on the PATH) it runs the TypeScript sources; otherwise (Node 20) the
// plain-JavaScript bundle of the @cohort/cli package that `npm install` built (packages/cli/dist).
import { existsSync } from "node:fs";

const bundle = new URL("../packages/cli/dist/cohort.mjs", import.meta.url);
if (process.features?.typescript) {
  await import("../src/cli/bin.ts");
} else if (existsSync(bundle)) {
  await import(bundle.href);
} else {
  console.error(
    `cohort: Node ${process.versions.node} cannot run TypeScript sources and packages/cli is not built; ` +
      "run `npm run build:packages`, or use Node >= 22.18",
  );
  process.exit(2);
}
