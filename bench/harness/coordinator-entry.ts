/**
 * The coordinator as the benchmark runs it: the production Worker unchanged, plus one bench-only route
 * that returns a group object's `stats()` (rows written, armed alarm). This module is bundled only by
 * `npm run bench`; the deployed Worker (src/worker.ts) has no such route.
 */
import app from "../../src/worker";

export { GroupDirectory, GroupObject } from "../../src/worker";

const STATS = "/__bench/stats/";

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path.startsWith(STATS)) {
      const groupId = decodeURIComponent(path.slice(STATS.length));
      return Response.json(await env.GROUPS.getByName(groupId).stats());
    }
    return app.fetch(request, env, ctx);
  },
};
