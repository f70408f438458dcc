/**
 * A watch WebSocket client for tests of the socket's rules (API.md §5): it opens the upgrade with a
 * chosen token and subprotocols, and records every message and the close code the object sent.
 */

import { exports } from "cloudflare:workers";
import { token } from "../integration/helpers";
import { messageQueue } from "./consumer-helpers";

export interface WatchClient {
  messages: any[];
  /** The next message not yet taken (waits up to `ms`). */
  next(ms?: number): Promise<any>;
  send(message: unknown): void;
  /** Sends a text or binary frame as is. */
  sendRaw(message: string | Uint8Array): void;
  /** Resolves with the close the object sent (or the runtime reported). */
  closed: Promise<{ code: number; reason: string }>;
  /** The close code once closed, or null while open. */
  closeCode(): number | null;
  close(): void;
}

export interface Upgrade {
  status: number;
  /** The subprotocol the coordinator answered (`Sec-WebSocket-Protocol`), or null. */
  protocol: string | null;
  /** The error body of a refused upgrade. */
  body: any;
  socket: WatchClient | null;
}

export interface WatchOptions {
  /** The bearer token in the Authorization header; null sends none. Default: a valid admin token. */
  token?: string | null;
  /** Subprotocols offered in `Sec-WebSocket-Protocol`. */
  protocols?: string[];
  /** A query string appended to the URL (without `?`). */
  query?: string;
}

export async function openWatch(
  groupId: string,
  memberId: string,
  opts: WatchOptions = {},
): Promise<Upgrade> {
  const headers: Record<string, string> = { Upgrade: "websocket" };
  const auth = opts.token === undefined ? await token() : opts.token;
  if (auth) headers.authorization = `Bearer ${auth}`;
  if (opts.protocols) headers["sec-websocket-protocol"] = opts.protocols.join(", ");
  const query = opts.query ? `?${opts.query}` : "";
  const res = await exports.default.fetch(
    `http://cohort.test/v1/groups/${groupId}/members/${encodeURIComponent(memberId)}/watch${query}`,
    { headers },
  );
  const protocol = res.headers.get("sec-websocket-protocol");
  const ws = res.webSocket;
  if (!ws) {
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, protocol, body, socket: null };
  }
  return { status: res.status, protocol, body: null, socket: client(ws) };
}

/** Opens a watch that must be accepted, and returns its client. */
export async function mustWatch(
  groupId: string,
  memberId: string,
  opts: WatchOptions = {},
): Promise<WatchClient> {
  const up = await openWatch(groupId, memberId, opts);
  if (!up.socket) throw new Error(`watch refused: ${up.status} ${JSON.stringify(up.body)}`);
  return up.socket;
}

function client(ws: WebSocket): WatchClient {
  ws.accept();
  const inbox = messageQueue(ws);
  let code: number | null = null;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (e) => {
      code = e.code;
      resolve({ code: e.code, reason: e.reason });
    });
  });
  return {
    ...inbox,
    sendRaw: (message) => ws.send(message),
    closed,
    closeCode: () => code,
    close: () => {
      try {
        ws.close(1000, "done");
      } catch {}
    },
  };
}

/** Waits for the close, failing after `ms`. */
export async function closeOf(socket: WatchClient, ms = 5000): Promise<{ code: number; reason: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the socket was not closed")), ms);
  });
  try {
    return await Promise.race([socket.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
