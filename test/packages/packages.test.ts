/**
 * The published packages as a user gets them: packed, installed from the tarballs into a project under
 * the temp dir, and used there with the machine's own Node (20 on the reference machine) against a
 * coordinator built by `wrangler deploy --dry-run` (the bundle a deploy uploads), run by Miniflare:
 * (a) the README's SDK quick start, (b) a consumer Worker built by wrangler from the installed SDK,
 * reaching the coordinator through a service binding, (c) `cohort groups list` from the installed CLI.
 */

import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUNDLE_BUDGET_GZIP_BYTES,
  buildDeployBundle,
  type DeployBundle,
} from "../../scripts/deploy-check.ts";
import { ROOT, readmeBlock, sh, systemNode, type TarballProject, tarballProject } from "./tarball-project.ts";

const COMPATIBILITY_DATE = "2026-10-15";
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");

let project: TarballProject;
let coordinator: DeployBundle;
let mf: Miniflare;
let url: string;
let node: { path: string; version: string };

beforeAll(async () => {
  [project, coordinator, node] = await Promise.all([
    tarballProject(["packages/client", "packages/cli"]),
    buildDeployBundle(),
    systemNode(),
  ]);
  console.log(
    `packages: ${project.packed.map((p) => p.name).join(", ")}; coordinator bundle gzip ` +
      `${(coordinator.gzipBytes / 1024).toFixed(1)} KiB; user's node ${node.version} (${node.path})`,
  );
  // The consumer Worker, built by wrangler in the user's project (resolving @cohort/client there).
  const fixture = join(ROOT, "test/packages/fixtures/consumer-worker");
  for (const file of ["worker.ts", "wrangler.toml", "tsconfig.json"]) {
    await cp(join(fixture, file), join(project.dir, file));
  }
  await sh(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", "build"], {
    cwd: project.dir,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  // Miniflare's classic (v4) option shape, converted: two workers in one runtime.
  const options = convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    workers: [
      {
        name: "cohort",
        modules: true,
        scriptPath: join(coordinator.dir, "worker.js"),
        modulesRoot: coordinator.dir,
        compatibilityDate: COMPATIBILITY_DATE,
        durableObjects: {
          GROUPS: { className: "GroupObject", useSQLite: true },
          DIRECTORY: { className: "GroupDirectory", useSQLite: true },
        },
        bindings: { AUTH_MODE: "none", CONSUMER_HEARTBEAT_INTERVAL_MS: "500" },
      },
      {
        name: "consumer",
        modules: true,
        scriptPath: join(project.dir, "build/worker.js"),
        modulesRoot: join(project.dir, "build"),
        compatibilityDate: COMPATIBILITY_DATE,
        serviceBindings: { COHORT: "cohort" },
      },
    ],
  });
  mf = new Miniflare(options);
  url = (await mf.ready).href.replace(/\/+$/, "");
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
  await project?.remove();
});

describe("the packed tarballs", () => {
  it("hold the bundles, types, README and CHANGELOG, and nothing else", () => {
    const [client, cli] = project.packed;
    expect(client!.files).toEqual(
      expect.arrayContaining(["dist/index.mjs", "dist/index.d.ts", "README.md", "CHANGELOG.md"]),
    );
    expect(cli!.files.sort()).toEqual(["CHANGELOG.md", "README.md", "dist/cohort.mjs", "package.json"]);
    for (const file of [...client!.files, ...cli!.files])
      expect(file).toMatch(/^(dist\/.*\.(mjs|d\.ts)|[A-Z]+\.md|package\.json)$/);
  });

  it("install with no dependencies", async () => {
    for (const name of ["client", "cli"]) {
      const manifest = JSON.parse(
        await readFile(join(project.dir, "node_modules/@cohort", name, "package.json"), "utf8"),
      );
      expect(manifest.dependencies).toBeUndefined();
    }
  });

  it("type-check a user's Worker against the installed declarations (Bundler and NodeNext resolution)", async () => {
    const bundler = ["-p", "tsconfig.json"];
    const nodeNext = [...bundler, "--module", "NodeNext", "--moduleResolution", "NodeNext"];
    await Promise.all(
      [bundler, nodeNext].map((args) => sh(process.execPath, [TSC, ...args], { cwd: project.dir })),
    );
  });
});

describe("used outside the repository", () => {
  it("the coordinator's deploy bundle is within its budget", () => {
    expect(coordinator.gzipBytes).toBeLessThanOrEqual(BUNDLE_BUDGET_GZIP_BYTES);
  });

  it("(a) the README's SDK quick start runs on the machine's Node", async () => {
    const quickstart = await readmeBlock("README.md", "## SDK and CLI", url);
    expect(quickstart.split("\n").filter(Boolean).length).toBeLessThan(20);
    expect(await readmeBlock("packages/client/README.md", "npm install @cohort/client", url)).toBe(
      quickstart,
    );
    await writeFile(join(project.dir, "quickstart.mjs"), quickstart);
    const { stdout } = await sh(node.path, ["quickstart.mjs"], { cwd: project.dir });
    expect(stdout).toContain("assigned");
    for (const partition of [0, 1]) {
      for (let offset = 0; offset < 5; offset++) {
        expect(stdout).toContain(`${partition} ${offset} orders-${partition}-${offset}`);
      }
    }
  });

  it("(b) a Worker built from the installed SDK consumes through a service binding", async () => {
    // Miniflare's Fetcher type does not line up with the Workers types this project compiles with.
    const worker = (await mf.getWorker("consumer")) as unknown as {
      fetch: (url: string) => Promise<Response>;
    };
    const response = await worker.fetch("http://consumer/?group=worker-consumer");
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      seen: string[];
      committed: { partition: number; offset: number }[];
    };
    expect(body.seen).toEqual([
      "0@0=orders-0-0",
      "0@1=orders-0-1",
      "0@2=orders-0-2",
      "1@0=orders-1-0",
      "1@1=orders-1-1",
      "1@2=orders-1-2",
    ]);
    expect(body.committed).toEqual([
      { partition: 0, offset: 3 },
      { partition: 1, offset: 3 },
    ]);
  });

  it("(c) `cohort groups list` from the installed CLI runs on the machine's Node", async () => {
    const cohort = join(project.dir, "node_modules/.bin/cohort");
    const { version } = JSON.parse(await readFile(join(ROOT, "packages/cli/package.json"), "utf8"));
    expect((await sh(node.path, [cohort, "--version"])).stdout.trim()).toBe(version);
    let stdout = "";
    // The listing follows the groups' changes through the directory, off the request path.
    for (let attempt = 0; attempt < 50; attempt++) {
      ({ stdout } = await sh(node.path, [cohort, "groups", "list", "--url", url], { cwd: project.dir }));
      if (stdout.includes("quickstart") && stdout.includes("worker-consumer")) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(stdout).toMatch(/quickstart\s+consumer\s+Empty/);
    expect(stdout).toMatch(/worker-consumer\s+consumer\s+Empty/);
  });
});
