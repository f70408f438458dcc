/** The bench coordinator plus a route that sets a fault on every directory shard (COHORT_TEST_HOOKS=1). */
import type { DirectoryFault } from "../../src/directory/directory-object";
import { DIRECTORY_SHARDS, shardStub } from "../../src/directory/shards";
import bench from "../harness/coordinator-entry";

export { GroupDirectory, GroupObject } from "../../src/worker";

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/__probe/fault/")) {
      const fault = path.slice("/__probe/fault/".length) as DirectoryFault;
      await Promise.all(
        Array.from({ length: DIRECTORY_SHARDS }, (_, i) => shardStub(env, i).setFault(fault)),
      );
      return new Response("ok");
    }
    return bench.fetch(request, env, ctx);
  },
};
