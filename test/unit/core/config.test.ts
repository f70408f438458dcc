import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, readConfig } from "../../../src/core/config";

describe("readConfig", () => {
  it("uses API.md §2's defaults for absent variables", () => {
    expect(readConfig({})).toEqual({ ok: true, config: DEFAULT_CONFIG });
    expect(DEFAULT_CONFIG).toMatchObject({
      groupMinSessionTimeoutMs: 6000,
      offsetsRetentionMs: 604_800_000,
      authMode: "jwt",
    });
  });

  it("reads strings and numbers, and the secret", () => {
    const read = readConfig({
      OFFSETS_RETENTION_MS: "1500",
      GROUP_MAX_SIZE: 3,
      AUTH_MODE: "none",
      JWT_SECRET: "s",
    });
    expect(read.ok && read.config).toMatchObject({
      offsetsRetentionMs: 1500,
      groupMaxSize: 3,
      authMode: "none",
      jwtSecret: "s",
    });
  });

  it("refuses malformed values, naming the variable", () => {
    expect(readConfig({ GROUP_MAX_SIZE: "ten" })).toEqual({
      ok: false,
      problem: expect.stringContaining("GROUP_MAX_SIZE"),
    });
    expect(readConfig({ OFFSETS_RETENTION_MS: "-1" }).ok).toBe(false);
    expect(readConfig({ AUTH_MODE: "maybe" })).toEqual({
      ok: false,
      problem: expect.stringContaining("AUTH_MODE"),
    });
    expect(readConfig({ GROUP_MIN_SESSION_TIMEOUT_MS: "10", GROUP_MAX_SESSION_TIMEOUT_MS: "5" }).ok).toBe(
      false,
    );
  });
});
