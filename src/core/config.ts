/**
 * Configuration of API.md §2, read from the Worker's environment (wrangler `[vars]`, `--var`, secrets).
 * A malformed value is an operator error: the coordinator refuses to run on it (fail closed) and says
 * which variable is wrong, rather than silently using a default.
 */

export interface Config {
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupInitialRebalanceDelayMs: number;
  groupMaxSize: number;
  offsetsRetentionMs: number;
  offsetMetadataMaxBytes: number;
  consumerSessionTimeoutMs: number;
  consumerHeartbeatIntervalMs: number;
  /** Partitions a consumer group assigns in all (sum over its subscribed topics); see limits.ts. */
  groupMaxPartitions: number;
  /** Share groups (API.md §7, KIP-932). */
  shareRecordLockDurationMs: number;
  shareDeliveryCountLimit: number;
  sharePartitionMaxRecordLocks: number;
  shareSessionTimeoutMs: number;
  shareHeartbeatIntervalMs: number;
  shareAutoOffsetReset: "earliest" | "latest";
  /** Events kept per group (API.md §8): a ring of this many rows (src/storage/history-store.ts). */
  groupHistoryMaxEvents: number;
  authMode: "jwt" | "none";
  jwtSecret: string | undefined;
}

const NUMERIC: ReadonlyArray<[keyof Config, string, number]> = [
  ["groupMinSessionTimeoutMs", "GROUP_MIN_SESSION_TIMEOUT_MS", 6000],
  ["groupMaxSessionTimeoutMs", "GROUP_MAX_SESSION_TIMEOUT_MS", 1_800_000],
  ["groupInitialRebalanceDelayMs", "GROUP_INITIAL_REBALANCE_DELAY_MS", 3000],
  ["groupMaxSize", "GROUP_MAX_SIZE", 10_000],
  ["offsetsRetentionMs", "OFFSETS_RETENTION_MS", 604_800_000],
  ["offsetMetadataMaxBytes", "OFFSET_METADATA_MAX_BYTES", 4096],
  ["consumerSessionTimeoutMs", "CONSUMER_SESSION_TIMEOUT_MS", 45_000],
  ["consumerHeartbeatIntervalMs", "CONSUMER_HEARTBEAT_INTERVAL_MS", 5000],
  ["groupMaxPartitions", "GROUP_MAX_PARTITIONS", 100_000],
  ["shareRecordLockDurationMs", "SHARE_RECORD_LOCK_DURATION_MS", 30_000],
  ["shareDeliveryCountLimit", "SHARE_DELIVERY_COUNT_LIMIT", 5],
  ["sharePartitionMaxRecordLocks", "SHARE_PARTITION_MAX_RECORD_LOCKS", 2000],
  ["shareSessionTimeoutMs", "SHARE_SESSION_TIMEOUT_MS", 45_000],
  ["shareHeartbeatIntervalMs", "SHARE_HEARTBEAT_INTERVAL_MS", 5000],
  ["groupHistoryMaxEvents", "GROUP_HISTORY_MAX_EVENTS", 1000],
];

/**
 * Ceilings an operator cannot raise a limit past (README, Configuration). A member may hold all of a
 * group's partitions and must be able to report them in one heartbeat of at most 1 MiB: with
 * partition numbers below 100,000 (the most a topic may have) that is ≤ 6 bytes each, so 150,000. An
 * offset row holds its metadata: 256 KiB keeps it far under a row's 1 MB.
 */
const CEILINGS: Partial<Record<keyof Config, number>> = {
  groupMaxPartitions: 150_000,
  offsetMetadataMaxBytes: 262_144,
  // Kafka's own bounds (group.share.delivery.count.limit ≤ 10, record locks ≤ 10,000): a share
  // partition's in-flight ranges stay few enough for one row, and a poison record stops circulating.
  shareDeliveryCountLimit: 10,
  sharePartitionMaxRecordLocks: 10_000,
  shareRecordLockDurationMs: 3_600_000,
  // A page of history reads at most this many rows; 100,000 events of ≤ ~100 KB stay far under storage.
  groupHistoryMaxEvents: 100_000,
};

/** Lower bounds (Kafka's): a limit of 0 would archive on first sight, a lock of 0 ms could never be used. */
const FLOORS: Partial<Record<keyof Config, number>> = {
  shareDeliveryCountLimit: 2,
  sharePartitionMaxRecordLocks: 100,
  shareRecordLockDurationMs: 1000,
  shareSessionTimeoutMs: 1000,
  shareHeartbeatIntervalMs: 100,
  // Fewer than 10 events would not hold one rebalance's story (leave, fence, state, rebalance).
  groupHistoryMaxEvents: 10,
};

export const DEFAULT_CONFIG: Config = {
  ...(Object.fromEntries(NUMERIC.map(([key, , dflt]) => [key, dflt])) as Omit<
    Config,
    "authMode" | "jwtSecret" | "shareAutoOffsetReset"
  >),
  shareAutoOffsetReset: "latest",
  authMode: "jwt",
  jwtSecret: undefined,
};

export type ConfigResult = { ok: true; config: Config } | { ok: false; problem: string };

/** Reads the configuration from an environment of strings (or numbers, as wrangler may pass them). */
export function readConfig(env: Record<string, unknown>): ConfigResult {
  const config: Config = { ...DEFAULT_CONFIG };
  for (const [key, name] of NUMERIC) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const value = typeof raw === "number" ? raw : Number(String(raw).trim());
    if (!Number.isSafeInteger(value) || value < 0) {
      return {
        ok: false,
        problem: `configuration variable ${name} must be a non-negative integer, got ${String(raw)}`,
      };
    }
    const ceiling = CEILINGS[key];
    if (ceiling !== undefined && value > ceiling) {
      return {
        ok: false,
        problem: `configuration variable ${name} must be at most ${ceiling}, got ${value}`,
      };
    }
    const floor = FLOORS[key];
    if (floor !== undefined && value < floor) {
      return { ok: false, problem: `configuration variable ${name} must be at least ${floor}, got ${value}` };
    }
    (config as unknown as Record<string, number>)[key] = value;
  }
  if (config.groupMinSessionTimeoutMs > config.groupMaxSessionTimeoutMs) {
    return { ok: false, problem: "GROUP_MIN_SESSION_TIMEOUT_MS is larger than GROUP_MAX_SESSION_TIMEOUT_MS" };
  }
  const reset = env.SHARE_AUTO_OFFSET_RESET;
  if (reset !== undefined && reset !== "") {
    if (reset !== "earliest" && reset !== "latest") {
      return {
        ok: false,
        problem: `configuration variable SHARE_AUTO_OFFSET_RESET must be "earliest" or "latest", got ${String(reset)}`,
      };
    }
    config.shareAutoOffsetReset = reset;
  }
  const mode = env.AUTH_MODE === undefined || env.AUTH_MODE === "" ? "jwt" : String(env.AUTH_MODE);
  if (mode !== "jwt" && mode !== "none") {
    return { ok: false, problem: `configuration variable AUTH_MODE must be "jwt" or "none", got ${mode}` };
  }
  config.authMode = mode;
  const secret = env.JWT_SECRET;
  config.jwtSecret = typeof secret === "string" && secret !== "" ? secret : undefined;
  return { ok: true, config };
}
