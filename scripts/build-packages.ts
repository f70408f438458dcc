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

/**
 * Empties a package's dist/ and bundles one entry of src/ into it as an ES module, headed by the
 * package's name and version (and `head`, e.g. a shebang).
 */
async function bundle(
  pkg: string,
  entry: string,
  outfile: string,
  target: { platform: "neutral" | "node"; target: string; head?: string; versionConstant?: string },
): Promise<string> {
  const dist = join(pkg, "dist");
  await rm(dist, { recursive: true, force: true });
  const { name, version } = JSON.parse(await readFile(join(pkg, "package.json"), "utf8"));
  await build({
    entryPoints: [join(SRC, entry)],
    bundle: true,
    format: "esm",
    platform: target.platform,
    target: target.target,
    outfile: join(dist, outfile),
    banner: { js: `${target.head ?? ""}/* ${name} ${version} */` },
    define: target.versionConstant ? { [target.versionConstant]: JSON.stringify(version) } : {},
    logLevel: "warning",
  });
  return dist;
}

async function buildClient(): Promise<void> {
  const dist = await bundle(CLIENT, "client/index.ts", "index.mjs", {
    platform: "neutral",
    target: "es2022",
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
  await bundle(CLI, "cli/bin.ts", "cohort.mjs", {
    platform: "node",
    target: "node20",
    head: "#!/usr/bin/env node\n",
    versionConstant: "COHORT_CLI_VERSION",
  });
}

await buildClient();
await buildCli();
