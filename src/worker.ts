/**
 * The Worker entry: the HTTP app, and the Durable Object classes wrangler binds (GROUPS, DIRECTORY).
 */

import { app } from "./http/app.ts";

export { GroupDirectory } from "./directory/directory-object.ts";
export { GroupObject } from "./group-object.ts";
export type { AppType } from "./http/app.ts";

export default app;
