/**
 * The Worker entry: the HTTP app, and the Durable Object classes wrangler binds (GROUPS, DIRECTORY).
 */

import { app } from "./http/app";

export { GroupDirectory } from "./directory-object";
export { GroupObject } from "./group-object";
export type { AppType } from "./http/app";

export default app;
