#!/usr/bin/env node
/**
 * Mints an HS256 bearer token for cohort (API.md §2) with hono's JWT helper.
 *   JWT_SECRET=… npm run token -- --groups 'orders-*,billing' --scope 'consume describe' --ttl 3600
 */

import { parseArgs } from "node:util";
import { sign } from "hono/jwt";

const { values } = parseArgs({
  options: {
    groups: { type: "string", default: "*" },
    scope: { type: "string", default: "consume" },
    ttl: { type: "string", default: "3600" },
  },
});
const secret = process.env.JWT_SECRET;
if (!secret) {
  console.error("mint-token: set JWT_SECRET to the secret the coordinator checks tokens with");
  process.exit(2);
}
const ttl = Number(values.ttl);
if (!Number.isSafeInteger(ttl) || ttl <= 0) {
  console.error("mint-token: --ttl must be a positive number of seconds");
  process.exit(2);
}
const groups = values.groups
  .split(",")
  .map((g) => g.trim())
  .filter(Boolean);
const token = await sign(
  { exp: Math.floor(Date.now() / 1000) + ttl, groups, scope: values.scope },
  secret,
  "HS256",
);
process.stdout.write(`${token}\n`);
