/**
 * Opens cohort's watch WebSocket (API.md §5) where the runtime allows: in Workers through the injected
 * fetch (an Upgrade request answered with `response.webSocket`), elsewhere with the global WebSocket
 * (Node ≥ 22 and browsers), which cannot set headers everywhere: the token travels as the subprotocol
 * `cohort.bearer.<JWT>` beside `cohort.v1`, never in the URL. Without either, the consumer simply relies
 * on its heartbeats. The coordinator closes the socket with 4000 (the member was removed: a `fenced`
 * message says why), 4001 (the token expired) or 4002 (a newer watch of the member replaced it); the
 * consumer opens a new one, with a fresh token, after its next successful heartbeat.
 */

import type { HttpTransport } from "./http.ts";

export interface WatchHandlers {
  onMessage: (message: unknown) => void;
  onClose: () => void;
}

export interface WatchSocket {
  close(): void;
}

type MinimalSocket = {
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
  close(code?: number, reason?: string): void;
};

function attach(socket: MinimalSocket, handlers: WatchHandlers): WatchSocket {
  socket.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    try {
      handlers.onMessage(JSON.parse(event.data));
    } catch {
      // Not JSON: not cohort's message; ignore it.
    }
  });
  socket.addEventListener("close", () => handlers.onClose());
  socket.addEventListener("error", () => handlers.onClose());
  return {
    close: () => {
      try {
        socket.close(1000, "consumer closed");
      } catch {}
    },
  };
}

/** Resolves with an open socket, or null when this runtime or the coordinator offers none. */
export async function openWatch(
  http: HttpTransport,
  path: string,
  handlers: WatchHandlers,
): Promise<WatchSocket | null> {
  const headers = await http.headers();
  try {
    if ("WebSocketPair" in globalThis) {
      // Workers: the Upgrade goes through the injected fetch (a service binding, or exports.default.fetch).
      const response = await http.rawFetch(http.url(path), { headers: { ...headers, upgrade: "websocket" } });
      const socket = (response as Response & { webSocket?: WebSocket & { accept(): void } }).webSocket;
      if (response.status !== 101 || !socket) return null;
      socket.accept();
      return attach(socket as unknown as MinimalSocket, handlers);
    }
    const Socket = (globalThis as { WebSocket?: new (url: string, protocols?: string[]) => MinimalSocket })
      .WebSocket;
    if (!Socket) return null;
    const bearer = headers.authorization?.replace(/^Bearer\s+/i, "");
    const protocols = ["cohort.v1", ...(bearer ? [`cohort.bearer.${bearer}`] : [])];
    const socket = new Socket(http.url(path).replace(/^http/, "ws"), protocols);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve());
      socket.addEventListener("error", () => reject(new Error("watch socket failed")));
    });
    return attach(socket, handlers);
  } catch {
    return null;
  }
}
