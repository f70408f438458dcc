/**
 * The floor every cohort figure is divided by: a request takes the same path as a coordinator call
 * (Hono route, JSON body parsed, Durable Object RPC by name, one small SQLite read, JSON back) but the
 * object does no coordinator work. The WebSocket route is the floor for heartbeats over the watch
 * socket: the Hibernation API, one small SQLite read per message, one reply.
 */
import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";

interface FloorEnv {
  FLOOR: DurableObjectNamespace<FloorObject>;
}

export class FloorObject extends DurableObject<FloorEnv> {
  constructor(ctx: DurableObjectState, env: FloorEnv) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
      ctx.storage.sql.exec("INSERT OR IGNORE INTO kv (k, v) VALUES (1, 'floor')");
    });
  }

  /** The tiny read a coordinator call cannot do without (a group row, an offset). */
  async read(): Promise<{ v: string }> {
    return { v: this.ctx.storage.sql.exec<{ v: string }>("SELECT v FROM kv WHERE k = 1").one().v };
  }

  /** The same with one small upsert: the platform's own cost of a durable write, for comparison. */
  async write(n: number): Promise<{ v: string }> {
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO kv (k, v) VALUES (2, ?)", String(n));
    return this.read();
  }

  override async fetch(): Promise<Response> {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const body = JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message));
    const row = this.ctx.storage.sql.exec<{ v: string }>("SELECT v FROM kv WHERE k = 1").one();
    ws.send(JSON.stringify({ type: "floor", id: body.id ?? null, v: row.v }));
  }
}

const app = new Hono<{ Bindings: FloorEnv }>();

app.post("/v1/groups/:groupId/floor", async (c) => {
  await c.req.json();
  return c.json(await c.env.FLOOR.getByName(c.req.param("groupId")).read());
});

app.post("/v1/groups/:groupId/floor/write", async (c) => {
  const body = await c.req.json<{ n?: number }>();
  return c.json(await c.env.FLOOR.getByName(c.req.param("groupId")).write(body.n ?? 0));
});

app.get("/v1/groups/:groupId/floor/watch", (c) => {
  if (c.req.header("upgrade") !== "websocket") return c.json({ error: "expected a WebSocket" }, 426);
  return c.env.FLOOR.getByName(c.req.param("groupId")).fetch(c.req.raw);
});

export default app;
