/**
 * Copies Swagger UI's browser bundle from node_modules/swagger-ui-dist (the one source of truth, its
 * version pinned in package.json) into public/reference/swagger-ui/, where Workers Static Assets serve
 * it next to the committed page and initializer: run by `npm install`'s prepare, or
 * `npm run build:reference`. The copies are gitignored; nothing is fetched from a CDN at run time.
 * Only what the page loads is copied (the bundle and its CSS; the standalone preset's top bar is not
 * used), with Apache-2.0's LICENSE and NOTICE, which travel with the code they cover.
 */

import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SOURCE = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
export const SWAGGER_UI_COPY = join(ROOT, "public/reference/swagger-ui");
const FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"];
/** The maps are not copied, so the pointers to them would only 404 in an open devtools. */
const SOURCE_MAP_COMMENT = /\n?\/[*/]# sourceMappingURL=\S+?(\*\/)?\s*$/;

export async function copySwaggerUi(): Promise<void> {
  await rm(SWAGGER_UI_COPY, { recursive: true, force: true });
  await mkdir(SWAGGER_UI_COPY, { recursive: true });
  for (const file of FILES) {
    const text = await readFile(join(SOURCE, file), "utf8");
    await writeFile(join(SWAGGER_UI_COPY, file), text.replace(SOURCE_MAP_COMMENT, "\n"));
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await copySwaggerUi();
