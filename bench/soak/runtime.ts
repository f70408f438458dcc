/**
 * The local runtime as an operator runs it: `wrangler dev` (the same command as `npm start`) as a child
 * process in its own process group, on a loopback port, persisting to a directory. `kill()` sends
 * SIGKILL to the whole group (wrangler and both of its workerd processes: no graceful shutdown, no
 * flush), and `start()` again on the same directory and port is a restart on the same durable state.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { rssOf, workerdProcesses } from "../harness/workerd";

const ROOT = resolve(import.meta.dirname, "../..");
const NODE = resolve(ROOT, "node_modules/.bin/node");
const WRANGLER = resolve(ROOT, "node_modules/wrangler/bin/wrangler.js");
/** The checkout whose wrangler.toml and src are run (SOAK_WORKER_DIR: soak another revision). */
const WORKER_DIR = resolve(process.env.SOAK_WORKER_DIR ?? ROOT);
const READY_TIMEOUT_MS = 60_000;

/** A free loopback port (the OS picks it; reused for every restart). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}

export interface WorkerdProcess {
  pid: number;
  /** "entry" serves the port (wrangler's proxy); "worker" runs cohort and its Durable Objects. */
  role: "entry" | "worker";
  rss: number;
}

export class LocalRuntime {
  readonly url: string;
  private child: ChildProcess | null = null;
  private log = "";

  readonly port: number;
  readonly persistDir: string;
  readonly vars: Record<string, string>;

  constructor(port: number, persistDir: string, vars: Record<string, string>) {
    this.port = port;
    this.persistDir = persistDir;
    this.vars = vars;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Starts wrangler dev and resolves once /health answers; returns the milliseconds that took. */
  async start(): Promise<number> {
    const t0 = performance.now();
    const args = [WRANGLER, "dev", "--ip", "127.0.0.1", "--port", String(this.port)];
    args.push(
      "--persist-to",
      this.persistDir,
      "--log-level",
      "error",
      "--show-interactive-dev-session=false",
    );
    for (const [name, value] of Object.entries(this.vars)) args.push("--var", `${name}:${value}`);
    this.log = "";
    const child = spawn(NODE, args, {
      cwd: WORKER_DIR,
      detached: true, // its own process group, so kill() reaches workerd too
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
    });
    const keep = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString()).slice(-4000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.child = child;
    while (performance.now() - t0 < READY_TIMEOUT_MS) {
      if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}): ${this.log}`);
      try {
        const res = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return performance.now() - t0;
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`wrangler dev not ready in ${READY_TIMEOUT_MS} ms: ${this.log}`);
  }

  /** The workerd processes of this runtime's process group, with their resident set sizes. */
  workerd(): WorkerdProcess[] {
    const pgid = this.child?.pid;
    if (pgid === undefined) return [];
    const out: WorkerdProcess[] = [];
    for (const { pid } of workerdProcesses().filter((p) => p.pgid === pgid)) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        const role = cmdline.includes(`entry=127.0.0.1:${this.port}`) ? "entry" : "worker";
        out.push({ pid, role, rss: rssOf(pid) });
      } catch {
        // The process ended while we looked.
      }
    }
    return out;
  }

  /** SIGKILL to the whole process group; resolves once every process of it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    const pgid = child.pid;
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // Already gone.
    }
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline && this.groupAlive(pgid)) await new Promise((r) => setTimeout(r, 20));
    this.child = null;
  }

  /** SIGKILL without waiting, for an aborted run. */
  killNow(): void {
    try {
      if (this.child?.pid) process.kill(-this.child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }

  /** A clean stop at the end of the run: SIGTERM, then SIGKILL if the group lingers. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    const pgid = child.pid;
    try {
      process.kill(-pgid, "SIGTERM");
    } catch {
      return;
    }
    const deadline = performance.now() + 5_000;
    while (performance.now() < deadline && this.groupAlive(pgid)) await new Promise((r) => setTimeout(r, 50));
    await this.kill();
  }

  private groupAlive(pgid: number): boolean {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
}
