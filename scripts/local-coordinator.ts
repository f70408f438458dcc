/**
 * Starts the real cohort worker on workerd through wrangler's programmatic API, on a free loopback
 * port with its own temporary state directory: for the CLI tests and `npm run demo`.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { unstable_startWorker } from "wrangler";

export interface LocalCoordinator {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:40123 */
  url: string;
  stop: () => Promise<void>;
}

const CONFIG = fileURLToPath(new URL("../wrangler.toml", import.meta.url));

/** `vars` override wrangler.toml's [vars] (AUTH_MODE is "none" unless given). */
export async function startLocalCoordinator(vars: Record<string, string> = {}): Promise<LocalCoordinator> {
  // Offline machines cannot fetch the Request.cf object; a placeholder is fine for cohort.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  const persist = await mkdtemp(join(tmpdir(), "cohort-local-"));
  const bindings = Object.fromEntries(
    Object.entries({ AUTH_MODE: "none", ...vars }).map(([name, value]) => [
      name,
      { type: "plain_text" as const, value },
    ]),
  );
  const worker = await unstable_startWorker({
    config: CONFIG,
    bindings,
    dev: {
      server: { hostname: "127.0.0.1", port: 0 },
      inspector: false,
      watch: false,
      persist,
      logLevel: "error",
    },
  });
  await worker.ready;
  const url = (await worker.url).href.replace(/\/+$/, "");
  return {
    url,
    stop: async () => {
      await worker.dispose();
      await rm(persist, { recursive: true, force: true });
    },
  };
}
