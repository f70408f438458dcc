/**
 * The `cohort` command line: group and offset administration in the manner of Kafka's
 * `kafka-consumer-groups` (and `kafka-share-groups` for share groups), over cohort's HTTP API. Exit codes: 0 ok, 1 coordinator error (including an
 * unreachable coordinator), 2 usage error.
 */

import { parseArgs } from "node:util";
import { CohortAdmin } from "../client/admin.ts";
import { CohortError } from "../client/errors.ts";
import type { RedriveRequest } from "../client/share-types.ts";
import type { GroupKind, ResetRequest } from "../client/types.ts";
import * as commands from "./commands.ts";
import * as shareCommands from "./share-commands.ts";
import { terminalSafe, terminalSafeJson } from "./table.ts";

export const EXIT_OK = 0;
export const EXIT_COORDINATOR_ERROR = 1;
export const EXIT_USAGE = 2;

export const USAGE = `Usage: cohort <command> [options]

Commands:
  groups list [--state S]... [--type classic|consumer|share] [--prefix P] [--page-size N]
                Pages are printed as they arrive (N groups each, 1-1000, default 1000).
  groups describe <group> [--offsets | --members | --state]   (--offsets is the default)
  groups lag <group>
  groups delete <group>
  groups history <group> [--after SEQ] [--limit N] [--last N]
                The group's events, oldest first (N 1-1000, default 100; readable for
                OFFSETS_RETENTION_MS after the group is gone).
  offsets reset <group> --topic T [--partitions 0,1]
                (--to-earliest | --to-latest | --to-offset N | --shift-by N) [--dry-run | --execute]
                Without --execute a reset is a dry run and changes nothing.
  offsets delete <group> --topic T [--partitions 0,1]
  share-groups list [--state S]...
  share-groups describe <group> [--offsets | --members | --state | --archived [--topic T]]
                (--offsets is the default)
  share-groups reset-offsets <group> --topic T [--partitions 0,1]
                (--to-earliest | --to-latest | --to-offset N) [--dry-run | --execute]
                Only while the share group has no members; without --execute a dry run.
  share-groups delete-offsets <group> --topic T [--partitions 0,1]
  share-groups redrive <group> --topic T [--partition N] [--first-offset N] [--last-offset N]
                Archived offsets become available again with delivery count 0.

Options:
  --url URL      coordinator base URL (env COHORT_URL, default http://127.0.0.1:8787)
  --token JWT    bearer token (env COHORT_TOKEN)
  --json         print the result as JSON
  -h, --help     this help
  -V, --version  the CLI's version

Exit codes: 0 ok, 1 coordinator error (or coordinator unreachable), 2 usage error.`;

const OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  state: { type: "boolean" },
  "state-filter": { type: "string", multiple: true },
  type: { type: "string", multiple: true },
  prefix: { type: "string" },
  "page-size": { type: "string" },
  after: { type: "string" },
  limit: { type: "string" },
  last: { type: "string" },
  members: { type: "boolean" },
  offsets: { type: "boolean" },
  archived: { type: "boolean" },
  partition: { type: "string" },
  "first-offset": { type: "string" },
  "last-offset": { type: "string" },
  topic: { type: "string" },
  partitions: { type: "string" },
  "to-earliest": { type: "boolean" },
  "to-latest": { type: "boolean" },
  "to-offset": { type: "string" },
  "shift-by": { type: "string" },
  "dry-run": { type: "boolean" },
  execute: { type: "boolean" },
} as const;

class UsageError extends Error {}

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
  /** Printed by `--version`: the package's version in the @cohort/cli bundle. */
  version?: string;
}

/** Runs one command line; returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    io.stdout(io.version ?? "unknown");
    return EXIT_OK;
  }
  try {
    const output = await run(argv, io);
    if (output === null) {
      io.stdout(USAGE);
      return EXIT_OK;
    }
    if (!output.streamed) io.stdout(argv.includes("--json") ? terminalSafeJson(output.json) : output.text);
    if (output.note) io.stderr(output.note);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`cohort: ${terminalSafe(error.message)}\nRun 'cohort --help' for usage.`);
      return EXIT_USAGE;
    }
    if (error instanceof CohortError) {
      const kafka = error.kafkaCode === null ? "" : `Kafka ${error.kafkaCode}, `;
      const where = error.status === 0 ? "no response" : `HTTP ${error.status}`;
      // The message may quote what clients sent (member ids, topics): escaped like table cells.
      io.stderr(`cohort: ${terminalSafe(`${error.code} (${kafka}${where}): ${error.message}`)}`);
      return EXIT_COORDINATOR_ERROR;
    }
    throw error;
  }
}

/**
 * Rewrites what parseArgs cannot read as meant: `--shift-by -10` (a leading dash reads as an option)
 * becomes `--shift-by=-10`; `--state Stable` of `groups list` (a filter there, a flag for describe,
 * as in kafka-consumer-groups) becomes `--state-filter=Stable`.
 */
function normalizeArgs(argv: string[]): string[] {
  const listing = (argv.includes("groups") || argv.includes("share-groups")) && argv.includes("list");
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if ((arg === "--shift-by" || arg === "--to-offset") && next !== undefined && /^-\d+$/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else if (listing && arg.startsWith("--state=")) {
      out.push(`--state-filter=${arg.slice("--state=".length)}`);
    } else if (listing && arg === "--state" && next !== undefined && !next.startsWith("-")) {
      out.push(`--state-filter=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

async function run(argv: string[], io: Io): Promise<commands.Output | null> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: normalizeArgs(argv), options: OPTIONS, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return null;
  const [noun, verb, groupId, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  // "." and "..": no URL path can carry them (the SDK refuses them too); a usage error, nothing sent.
  if (groupId === "." || groupId === "..")
    throw new UsageError(`INVALID_GROUP_ID: group id '${groupId}' cannot be addressed in a URL path`);
  const admin = newAdmin(values.url ?? io.env.COHORT_URL ?? "http://127.0.0.1:8787", values.token, io);
  const command = `${noun} ${verb ?? ""}`.trim();
  if (command === "groups list" || command === "share-groups list") {
    if (groupId !== undefined) throw new UsageError(`unexpected argument '${groupId}'`);
    const states = (values["state-filter"] ?? []).flatMap((s) => s.split(",")).filter(Boolean);
    const types = (values.type ?? []).flatMap((t) => t.split(",")).filter(Boolean);
    const pageSize =
      values["page-size"] === undefined ? undefined : integer("page-size", values["page-size"]);
    if (pageSize !== undefined && (pageSize < 1 || pageSize > 1000)) {
      throw new UsageError("--page-size: give 1 to 1000 groups per page");
    }
    if (noun === "share-groups") {
      if (types.length > 0) throw new UsageError("share-groups list takes no --type");
      return shareCommands.listShareGroups(admin, { states, prefix: values.prefix, pageSize });
    }
    const filter = { states, types: types as GroupKind[], prefix: values.prefix, pageSize };
    return commands.listGroups(admin, filter, values.json === true, io.stdout);
  }
  const group = () => {
    if (!groupId) throw new UsageError(`'${command}' needs a group id`);
    return groupId;
  };
  switch (command) {
    case "groups describe": {
      const views = [values.members, values.offsets, values.state].filter(Boolean).length;
      if (views > 1) throw new UsageError("choose one of --offsets, --members, --state");
      if (values.members) return commands.describeMembers(admin, group());
      if (values.state) return commands.describeState(admin, group());
      return commands.describeOffsets(admin, group());
    }
    case "groups lag":
      return commands.groupLag(admin, group());
    case "groups history": {
      const after = values.after === undefined ? undefined : natural("after", values.after);
      const limit = values.limit === undefined ? undefined : natural("limit", values.limit);
      const last = values.last === undefined ? undefined : natural("last", values.last);
      return commands.history(admin, group(), { after, limit, last });
    }
    case "groups delete":
      return commands.deleteGroup(admin, group());
    case "offsets reset":
      return commands.resetOffsets(admin, group(), resetRequest(values));
    case "offsets delete":
      return commands.deleteOffsets(admin, group(), requiredTopic(values), partitionList(values.partitions));
    case "share-groups delete-offsets": {
      const partitions = partitionList(values.partitions);
      return shareCommands.deleteShareOffsets(admin, group(), requiredTopic(values), partitions);
    }
    case "share-groups describe": {
      const views = [values.members, values.offsets, values.state, values.archived].filter(Boolean).length;
      if (views > 1) throw new UsageError("choose one of --offsets, --members, --state, --archived");
      if (values.members) return shareCommands.describeShareMembers(admin, group());
      if (values.state) return shareCommands.describeShareState(admin, group());
      if (values.archived) return shareCommands.describeArchived(admin, group(), values.topic);
      return shareCommands.describeShareOffsets(admin, group());
    }
    case "share-groups reset-offsets": {
      const request = resetRequest(values);
      // Kafka's share groups reset to a position, never by a shift: the in-flight state is cleared.
      if (request.to === "shift")
        throw new UsageError("share groups reset with --to-earliest, --to-latest or --to-offset");
      return commands.resetOffsets(admin, group(), request);
    }
    case "share-groups redrive":
      return shareCommands.redrive(admin, group(), redriveRequest(values));
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

function newAdmin(url: string, token: string | undefined, io: Io): CohortAdmin {
  try {
    return new CohortAdmin({
      url,
      token: token ?? io.env.COHORT_TOKEN,
      fetch: io.fetch,
      // A person is waiting: retry briefly, then say what is wrong.
      retry: { retries: 2, initialDelayMs: 200, maxDelayMs: 1000 },
    });
  } catch (error) {
    throw new UsageError(`--url: ${(error as Error).message}`);
  }
}

type Values = Record<string, string | boolean | string[] | undefined>;

function requiredTopic(values: Values): string {
  if (typeof values.topic !== "string" || values.topic === "") throw new UsageError("--topic is required");
  return values.topic;
}

function partitionList(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const partitions = text.split(",").map((p) => p.trim());
  if (partitions.some((p) => !/^\d+$/.test(p)))
    throw new UsageError(`--partitions: '${text}' is not a list like 0,1,2`);
  return partitions.map(Number);
}

function integer(name: string, text: string): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`--${name}: '${text}' is not an integer`);
  return Number(text);
}

function resetRequest(values: Values): ResetRequest {
  const topic = requiredTopic(values);
  const targets = ["to-earliest", "to-latest", "to-offset", "shift-by"].filter(
    (k) => values[k] !== undefined,
  );
  if (targets.length !== 1) {
    throw new UsageError("give exactly one of --to-earliest, --to-latest, --to-offset N, --shift-by N");
  }
  if (values["dry-run"] && values.execute) throw new UsageError("--dry-run and --execute exclude each other");
  const partitions = partitionList(values.partitions as string | undefined);
  const base = { topic, dryRun: !values.execute, ...(partitions ? { partitions } : {}) };
  switch (targets[0]) {
    case "to-earliest":
      return { ...base, to: "earliest" };
    case "to-latest":
      return { ...base, to: "latest" };
    case "to-offset":
      return { ...base, to: "offset", offset: integer("to-offset", values["to-offset"] as string) };
    default:
      return { ...base, to: "shift", shiftBy: integer("shift-by", values["shift-by"] as string) };
  }
}

function redriveRequest(values: Values): RedriveRequest {
  const request: RedriveRequest = { topic: requiredTopic(values) };
  const partition = values.partition as string | undefined;
  const first = values["first-offset"] as string | undefined;
  const last = values["last-offset"] as string | undefined;
  if (partition !== undefined) request.partition = natural("partition", partition);
  if (first !== undefined) request.firstOffset = natural("first-offset", first);
  if (last !== undefined) request.lastOffset = natural("last-offset", last);
  return request;
}

function natural(name: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name}: '${text}' is not a non-negative integer`);
  return Number(text);
}
