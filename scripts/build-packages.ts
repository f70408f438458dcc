/**
 * Builds the two npm packages in packages/ (run by `npm install`'s prepare, or `npm run build:packages`):
 * - @cohort/client: src/client as one ES module for any runtime (Workers, Node ≥ 20, browsers), with
 *   its declarations (scripts/package-declarations.ts) — no runtime dependency;
 * - @cohort/cli: src/cli and the SDK it uses as one plain-JavaScript file for Node ≥ 20.
 * No source maps: the bundles are unminified ES2022, readable as they are.
 */

import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { checkDeclarations, packageDeclarations } from "./package-declarations.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SRC = join(ROOT, "src");
const CLIENT = join(ROOT, "packages/client");
const CLI = join(ROOT, "packages/cli");

async function version(pkg: string): Promise<string> {
  return JSON.parse(await readFile(join(pkg, "package.json"), "utf8")).version;
}

async function buildClient(): Promise<void> {
  const dist = join(CLIENT, "dist");
  await rm(dist, { recursive: true, force: true });
  await build({
    entryPoints: [join(SRC, "client/index.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    outfile: join(dist, "index.mjs"),
    banner: { js: `/* @cohort/client ${await version(CLIENT)} */` },
    logLevel: "warning",
  });
  const declarations = packageDeclarations(join(SRC, "client/index.ts"), SRC);
  for (const [name, text] of declarations) {
    const file = join(dist, "types", name);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  const index = join(dist, "index.d.ts");
  await writeFile(index, 'export * from "./types/client/index.js";\n');
  checkDeclarations([index]);
}

async function buildCli(): Promise<void> {
  const dist = join(CLI, "dist");
  await rm(dist, { recursive: true, force: true });
  await build({
    entryPoints: [join(SRC, "cli/bin.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile: join(dist, "cohort.mjs"),
    banner: { js: `#!/usr/bin/env node\n/* @cohort/cli ${await version(CLI)} */` },
    logLevel: "warning",
  });
}

await buildClient();
await buildCli();
