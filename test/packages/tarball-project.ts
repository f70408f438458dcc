/**
 * A user's project outside this repository: the packages built and packed as `npm publish` would
 * upload them, installed from the tarballs into a fresh directory under the system's temp dir, so
 * nothing resolves through this repository's node_modules or its `exports`.
 */

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

export interface Packed {
  name: string;
  filename: string;
  files: string[];
}

export interface TarballProject {
  dir: string;
  packed: Packed[];
  remove: () => Promise<void>;
}

/** Runs a command, failing with its output when it fails. */
export async function sh(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(command, args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024, ...options });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${command} ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
    );
  }
}

/**
 * The machine's own Node, as a user's shell finds it: the first `node` on the PATH that is not this
 * repository's node_modules/.bin (npm scripts put Node 22 there first).
 */
export async function systemNode(): Promise<{ path: string; version: string }> {
  const own = join(ROOT, "node_modules");
  const dirs = (process.env.PATH ?? "").split(delimiter).filter((d) => d && !d.startsWith(own));
  for (const dir of [...dirs, "/usr/local/bin", "/usr/bin"]) {
    const path = join(dir, "node");
    if (!existsSync(path)) continue;
    const { stdout } = await sh(path, ["--version"]);
    return { path, version: stdout.trim() };
  }
  throw new Error("no node outside node_modules/.bin on the PATH");
}

/** Newest (or oldest) modification time of the files under `paths`. */
async function mtime(
  paths: string[],
  pick: (a: number, b: number) => number,
  start: number,
): Promise<number> {
  let result = start;
  for (const path of paths) {
    if (!existsSync(path)) return Number.NaN;
    const entries = (await stat(path)).isDirectory()
      ? (await readdir(path, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())
      : [];
    const files = entries.length ? entries.map((e) => join(e.parentPath, e.name)) : [path];
    for (const file of files) result = pick(result, (await stat(file)).mtimeMs);
  }
  return result;
}

/** Rebuilds packages/* when a source they are built from changed since (prepare built them). */
async function buildIfStale(packages: string[]): Promise<void> {
  const sources = [
    ...["client", "cli", "api", "core", "assignors"].map((dir) => `src/${dir}`),
    "scripts/build-packages.ts",
    "scripts/package-declarations.ts",
    ...packages.map((p) => `${p}/package.json`),
  ];
  const newest = await mtime(
    sources.map((p) => join(ROOT, p)),
    Math.max,
    0,
  );
  const built = await mtime(
    packages.map((p) => join(ROOT, p, "dist")),
    Math.min,
    Number.POSITIVE_INFINITY,
  );
  if (!(built > newest)) await sh(process.execPath, [join(ROOT, "scripts/build-packages.ts")], { cwd: ROOT });
}

/** Packs packages/* (built if stale) and installs the tarballs (offline: they have no dependencies). */
export async function tarballProject(packages: string[]): Promise<TarballProject> {
  await buildIfStale(packages);
  const base = await mkdtemp(join(tmpdir(), "cohort-packages-"));
  const tarballs = join(base, "tarballs");
  const dir = join(base, "project");
  await mkdir(tarballs);
  await mkdir(dir);
  const { stdout } = await sh(
    "npm",
    ["pack", "--json", "--pack-destination", tarballs, ...packages.map((p) => join(ROOT, p))],
    { cwd: ROOT },
  );
  const packed = (JSON.parse(stdout) as { name: string; filename: string; files: { path: string }[] }[]).map(
    (p) => ({ name: p.name, filename: join(tarballs, p.filename), files: p.files.map((f) => f.path) }),
  );
  await writeFile(
    join(dir, "package.json"),
    JSON.stringify({ name: "cohort-user-project", private: true, type: "module" }, null, 2),
  );
  await sh(
    "npm",
    ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", ...packed.map((p) => p.filename)],
    { cwd: dir },
  );
  return { dir, packed, remove: () => rm(base, { recursive: true, force: true }) };
}

/** The README's first TypeScript block after `heading`, pointed at `url` instead of the local default. */
export async function readmeBlock(file: string, heading: string, url: string): Promise<string> {
  const text = await readFile(join(ROOT, file), "utf8");
  const section = text.slice(text.indexOf(heading));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error(`no ts block after ${heading} in ${file}`);
  return block[1]!.replaceAll("http://127.0.0.1:8787", url);
}
