import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_JWT_SECRET } from "./test/test-secret.ts";

/** A Workers-pool project: the real worker and Durable Objects on workerd, with vars overridden. */
function workersProject(name: string, include: string[], bindings: Record<string, string>) {
  return {
    plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" }, miniflare: { bindings } })],
    test: { name, include, testTimeout: 30_000, hookTimeout: 30_000 },
  };
}

export default defineConfig({
  test: {
    // Two files at a time even on 2 cores (vitest's default is cores − 1): most tests wait on real
    // timers (sessions, locks, the alarm), so a second file uses time the first leaves idle.
    maxWorkers: 2,
    // cohort's structured log lines (src/log.ts) are the product's output, not the tests': kept out of
    // the report (tests that check them spy on console), shown with COHORT_TEST_LOGS=1.
    onConsoleLog: (log) => process.env.COHORT_TEST_LOGS === "1" || !log.startsWith('{"event":"cohort.'),
    projects: [
      // Pure core and assignors in plain Node: no runtime, fake clocks.
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" } },
      // The cohort CLI as a child process against a local coordinator started by wrangler.
      {
        test: {
          name: "cli",
          include: ["test/cli/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/cli/global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      // The console in headless Chromium against a local coordinator (AUTH_MODE=jwt), one browser for all.
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts", "test/adversary-12/browser/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/browser/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      // The API reference (Swagger UI as static assets) in headless Chromium, against wrangler dev.
      {
        test: {
          name: "reference",
          include: ["test/reference/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      // The npm packages as a user installs them: packed, installed in a temp project, run on the
      // machine's Node against the coordinator's deploy bundle in Miniflare.
      {
        test: {
          name: "packages",
          include: ["test/packages/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      // The coordinator over HTTP on workerd, with JWT auth on.
      workersProject("workers", ["test/integration/**/*.test.ts"], {
        AUTH_MODE: "jwt",
        JWT_SECRET: TEST_JWT_SECRET,
      }),
      // Short retention so the alarm's expiry can be observed.
      workersProject("workers-retention", ["test/retention/**/*.test.ts"], {
        AUTH_MODE: "none",
        OFFSETS_RETENTION_MS: "1500",
      }),
      // The consumer protocol with short sessions, so expiry by the alarm is observable in real time.
      workersProject("workers-consumer", ["test/consumer/**/*.test.ts"], {
        AUTH_MODE: "jwt",
        JWT_SECRET: TEST_JWT_SECRET,
        CONSUMER_SESSION_TIMEOUT_MS: "1500",
        CONSUMER_HEARTBEAT_INTERVAL_MS: "500",
        // Small enough that the watch sockets' object cap (2 × GROUP_MAX_SIZE) can be reached.
        GROUP_MAX_SIZE: "16",
      }),
      // The classic protocol with short delays, so join barriers and session expiry run in real time.
      workersProject("workers-classic", ["test/classic/**/*.test.ts"], {
        AUTH_MODE: "jwt",
        JWT_SECRET: TEST_JWT_SECRET,
        GROUP_INITIAL_REBALANCE_DELAY_MS: "100",
        GROUP_MIN_SESSION_TIMEOUT_MS: "50",
      }),
      // The black-box model: the coordinator's clock is moved by the test (src/core/clock.ts), so
      // sessions and rebalance timeouts pass in virtual time and the alarm is fired when it is due.
      workersProject("workers-model", ["test/model/**/*.test.ts"], {
        AUTH_MODE: "none",
        CONSUMER_SESSION_TIMEOUT_MS: "3000",
        CONSUMER_HEARTBEAT_INTERVAL_MS: "1000",
        GROUP_MIN_SESSION_TIMEOUT_MS: "1000",
        GROUP_INITIAL_REBALANCE_DELAY_MS: "300",
      }),
      // Share groups with locks and sessions short enough that the alarm's expiry runs in real time,
      // a small delivery limit and in-flight cap (both at Kafka's floors), and earliest resets.
      workersProject("workers-share", ["test/share/**/*.test.ts"], {
        AUTH_MODE: "jwt",
        JWT_SECRET: TEST_JWT_SECRET,
        SHARE_RECORD_LOCK_DURATION_MS: "1500",
        SHARE_SESSION_TIMEOUT_MS: "3000",
        SHARE_HEARTBEAT_INTERVAL_MS: "500",
        SHARE_DELIVERY_COUNT_LIMIT: "3",
        SHARE_PARTITION_MAX_RECORD_LOCKS: "100",
        SHARE_AUTO_OFFSET_RESET: "earliest",
        OFFSETS_RETENTION_MS: "600000",
      }),
      // The directory and listing: shards made to fail by a test hook, sessions short enough to expire.
      workersProject("workers-directory", ["test/directory/**/*.test.ts"], {
        AUTH_MODE: "jwt",
        JWT_SECRET: TEST_JWT_SECRET,
        COHORT_TEST_HOOKS: "1",
        CONSUMER_SESSION_TIMEOUT_MS: "1500",
        CONSUMER_HEARTBEAT_INTERVAL_MS: "500",
      }),
      // The group's history (API.md §8): a small ring so the cap is reached, a short retention (ten
      // lag-sample slots) and sessions the tests pass with the coordinator's clock (src/core/clock.ts).
      workersProject("workers-history", ["test/history/**/*.test.ts"], {
        AUTH_MODE: "jwt",
        JWT_SECRET: TEST_JWT_SECRET,
        GROUP_HISTORY_MAX_EVENTS: "10",
        SHARE_AUTO_OFFSET_RESET: "earliest",
        OFFSETS_RETENTION_MS: "600000",
        CONSUMER_SESSION_TIMEOUT_MS: "3000",
        CONSUMER_HEARTBEAT_INTERVAL_MS: "1000",
      }),
      // Adversarial tests of the history routes and the console (API.md §8, §9): JWT auth, a ring of 10
      // events so the cap is reached, instant classic joins and earliest share resets.
      workersProject("workers-adversary-12", ["test/adversary-12/*.test.ts"], {
        AUTH_MODE: "jwt",
        JWT_SECRET: TEST_JWT_SECRET,
        GROUP_HISTORY_MAX_EVENTS: "10",
        GROUP_INITIAL_REBALANCE_DELAY_MS: "0",
        GROUP_MIN_SESSION_TIMEOUT_MS: "50",
        SHARE_AUTO_OFFSET_RESET: "earliest",
      }),
      // The console's event list when the ring holds more than one page of /v1 events (cap above 1000).
      workersProject("workers-adversary-12-big-ring", ["test/adversary-12/big-ring/**/*.test.ts"], {
        AUTH_MODE: "jwt",
        JWT_SECRET: TEST_JWT_SECRET,
        GROUP_HISTORY_MAX_EVENTS: "1500",
      }),
      // A hostile web page against a local coordinator without auth (`npm start`, AUTH_MODE=none).
      workersProject("workers-adversary-12-open", ["test/adversary-12/open/**/*.test.ts"], {
        AUTH_MODE: "none",
      }),
      // AUTH_MODE=jwt with no secret configured must fail closed.
      workersProject("workers-no-secret", ["test/no-secret/**/*.test.ts"], { AUTH_MODE: "jwt" }),
      // The client SDK against the real coordinator, with timeouts short enough to watch fencing.
      workersProject("workers-sdk", ["test/sdk/**/*.test.ts"], {
        AUTH_MODE: "none",
        CONSUMER_SESSION_TIMEOUT_MS: "1500",
        CONSUMER_HEARTBEAT_INTERVAL_MS: "200",
        GROUP_MIN_SESSION_TIMEOUT_MS: "500",
        GROUP_INITIAL_REBALANCE_DELAY_MS: "100",
        // Share groups: 1 s locks (Kafka's floor) so expiry and renewal are observable; sessions well
        // past the lock so a crashed member's records come back by lock expiry, not by its removal.
        SHARE_AUTO_OFFSET_RESET: "earliest",
        SHARE_RECORD_LOCK_DURATION_MS: "1000",
        SHARE_DELIVERY_COUNT_LIMIT: "3",
        SHARE_SESSION_TIMEOUT_MS: "6000",
        SHARE_HEARTBEAT_INTERVAL_MS: "200",
      }),
      // Adversarial tests of the SDK's consumer API (issue 14), with the workers-sdk project's settings.
      workersProject("workers-adversary-14", ["test/adversary-14/**/*.test.ts"], {
        AUTH_MODE: "none",
        CONSUMER_SESSION_TIMEOUT_MS: "1500",
        CONSUMER_HEARTBEAT_INTERVAL_MS: "200",
        GROUP_MIN_SESSION_TIMEOUT_MS: "500",
        GROUP_INITIAL_REBALANCE_DELAY_MS: "100",
      }),
      // The operator console (API.md §9) with JWT auth, short classic delays and earliest share resets.
      workersProject("workers-console", ["test/console/**/*.test.ts"], {
        AUTH_MODE: "jwt",
        JWT_SECRET: TEST_JWT_SECRET,
        GROUP_INITIAL_REBALANCE_DELAY_MS: "0",
        SHARE_AUTO_OFFSET_RESET: "earliest",
      }),
      // The console in local development: no auth, no sign-in.
      workersProject("workers-console-open", ["test/console-open/**/*.test.ts"], { AUTH_MODE: "none" }),
    ],
  },
});
