/**
 * The coordinator as the benchmark runs it: the production Worker unchanged, plus bench-only routes
 * that return a group object's `stats()` (rows written, armed alarm) and every directory shard's. This module is bundled only by
 * `npm run bench`; the deployed Worker (src/worker.ts) has no such route.
 */
import { DIRECTORY_SHARDS, shardStub } from "../../src/directory/shards";
import app from "../../src/worker";

export { GroupDirectory, GroupObject } from "../../src/worker";

const STATS = "/__bench/stats/";
const DIRECTORY = "/__bench/directory";

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    // The bench routes are told apart without parsing the URL: the production Worker does not pay
    // for a URL parse, so neither may the figures.
    if (!request.url.includes("/__bench/")) return app.fetch(request, env, ctx);
    const path = new URL(request.url).pathname;
    if (path === DIRECTORY) {
      const shards = Array.from({ length: DIRECTORY_SHARDS }, (_, i) => shardStub(env, i).stats());
      return Response.json(await Promise.all(shards));
    }
    if (path.startsWith(STATS)) {
      const groupId = decodeURIComponent(path.slice(STATS.length));
      return Response.json(await env.GROUPS.getByName(groupId).stats());
    }
    return app.fetch(request, env, ctx);
  },
};
