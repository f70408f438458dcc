/**
 * Deploy readiness without an account: `wrangler deploy --dry-run --outdir` bundles the coordinator
 * exactly as `wrangler deploy` would upload it (wrangler.toml, bindings, migrations), then the size of
 * the upload is measured and held to a budget.
 *   npm run deploy:check [-- --outdir DIR]       (exit 1 above the budget)
 * Budget: 400 KiB gzipped. Cloudflare's limits are 3 MiB (Free) and 10 MiB (Paid) gzipped; the budget
 * is far below them because startup time grows with the script, and ~1.7× today's bundle (README,
 * "Deploying") leaves room for the console without letting a stray dependency through unnoticed.
 */

import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";

export const BUNDLE_BUDGET_GZIP_BYTES = 400 * 1024;

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
/** What the upload carries: modules, not source maps or wrangler's README. */
const UPLOADED = /\.(m?js|cjs|wasm|bin|txt|html|sql)$/;

export interface BundleFile {
  name: string;
  bytes: number;
  gzipBytes: number;
}

export interface DeployBundle {
  /** The directory wrangler wrote the bundle to; `worker.js` is the entry module. */
  dir: string;
  files: BundleFile[];
  bytes: number;
  gzipBytes: number;
  /** Wrangler's own "Total Upload: … / gzip: …" line. */
  wranglerSummary: string | null;
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRANGLER, ...args], {
      cwd: ROOT,
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`wrangler ${args.join(" ")} exited ${code}:\n${output}`)),
    );
  });
}

/** Bundles the coordinator into `outdir` (a new temporary directory when absent) and measures it. */
export async function buildDeployBundle(outdir?: string): Promise<DeployBundle> {
  const dir = outdir ?? (await mkdtemp(join(tmpdir(), "cohort-deploy-")));
  if (outdir) await rm(outdir, { recursive: true, force: true });
  const output = await run(["deploy", "--dry-run", "--outdir", dir]);
  const files: BundleFile[] = [];
  for (const name of (await readdir(dir)).filter((n) => UPLOADED.test(n)).sort()) {
    const content = await readFile(join(dir, name));
    files.push({ name, bytes: content.length, gzipBytes: gzipSync(content).length });
  }
  return {
    dir,
    files,
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    gzipBytes: files.reduce((sum, f) => sum + f.gzipBytes, 0),
    wranglerSummary: /Total Upload:[^\n]*/.exec(output)?.[0] ?? null,
  };
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { outdir: { type: "string" } } });
  const bundle = await buildDeployBundle(values.outdir);
  for (const file of bundle.files) {
    console.log(`${file.name.padEnd(20)} ${kib(file.bytes).padStart(12)}  gzip ${kib(file.gzipBytes)}`);
  }
  console.log(`wrangler: ${bundle.wranglerSummary ?? "(no size line)"}`);
  const verdict = bundle.gzipBytes <= BUNDLE_BUDGET_GZIP_BYTES ? "within" : "OVER";
  console.log(
    `deploy bundle: ${kib(bundle.bytes)}, gzip ${kib(bundle.gzipBytes)} — ${verdict} the budget of ` +
      `${kib(BUNDLE_BUDGET_GZIP_BYTES)} gzipped (${bundle.dir})`,
  );
  if (!values.outdir) await rm(bundle.dir, { recursive: true, force: true });
  return verdict === "within" ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await main();
