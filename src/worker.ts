import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";
export class GroupObject extends DurableObject {
  async ping() {
    return this.ctx.storage.sql.exec("select 1 as x").one().x;
  }
}
export class GroupDirectory extends DurableObject {}
const app = new Hono<{ Bindings: Env }>();
app.get("/health", (c) => c.json({ status: "ok" }));
app.get("/ping", async (c) => c.json({ x: await c.env.GROUPS.getByName("a").ping() }));
export default app;
