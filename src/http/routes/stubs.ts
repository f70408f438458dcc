/** How routes reach Durable Objects: one GroupObject per group id. */
export const groupStub = (env: Env, groupId: string) => env.GROUPS.getByName(groupId);
