/**
 * How groups spread over the directory's shards: DIRECTORY_SHARDS GroupDirectory objects, a group in
 * the one its id hashes to (FNV-1a, 32 bits: stable across releases and runtimes).
 *
 * Sizing, from the per-object request budget (DESIGN.md: a soft limit of ~1,000 requests/s per
 * object, 200–750/s published for requests that parse JSON and write storage, as every directory
 * update does). A group sends the directory one request per change of its summary (type, state,
 * member count), at most one at a time (changes made while one is in flight coalesce into the next).
 * A fleet of 100,000 groups × 20 members restarted by a rolling deploy over 10 minutes changes each
 * summary about 4 times per restarted member (leave, join, Reconciling, Stable): 2,000,000 × 4 / 600 s
 * ≈ 13,300 updates/s at the peak, ≈ 420/s per shard with 32 shards — inside the published range,
 * with headroom to the soft limit; a day's ordinary churn (each member restarting once) averages
 * ≈ 3/s per shard. A listing page asks every shard once (32 small reads in parallel). Changing this
 * number moves most groups to another shard: a release that does it must re-send every summary
 * (each group re-sends when its summary next changes, and on its first start after the release that
 * adds a migration for it), so it is a constant, not a setting.
 */

/** Directory objects the groups are spread over (see above for the sizing). */
export const DIRECTORY_SHARDS = 32;

/** FNV-1a over the id's UTF-16 units (group ids are ASCII, API.md §1). */
export function hashGroupId(groupId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < groupId.length; i++) {
    h ^= groupId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The shard (0 … DIRECTORY_SHARDS − 1) that lists `groupId`. */
export const shardOf = (groupId: string): number => hashGroupId(groupId) % DIRECTORY_SHARDS;

/** The directory object of shard `index`. */
export const shardStub = (env: Env, index: number) => env.DIRECTORY.getByName(`directory-${index}`);

/** The directory object that lists `groupId`. */
export const directoryOf = (env: Env, groupId: string) => shardStub(env, shardOf(groupId));
